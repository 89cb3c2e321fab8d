"""server/flet_send.py: the web UI's messages are written to their tab at
once, not left for Flet's send task; and when a tab stops reading, what
comes after a write that had to wait still arrives, in order.

A real uvicorn on a loopback port in this loop, flet_web's FastAPI app with
a one-Text page, and a real websocket client registering as a browser tab
does (bench/ui_sessions.py speaks the same protocol)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Any

import flet as ft
import flet_web.fastapi as flet_fastapi
import msgpack
import pytest
import uvicorn
from flet_web.fastapi.flet_app import FletApp
from starlette.websockets import WebSocketDisconnect
from websockets.asyncio.client import ClientConnection, connect

from server import flet_send
from server.mounted import quiet_disconnects

REGISTER = 1


@pytest.fixture
def direct() -> Iterator[None]:
    """The fence installed for the test, Flet as it was after."""
    original = FletApp.send_message
    assert flet_send.install()
    yield
    FletApp.send_message = original


@asynccontextmanager
async def tab(big: int = 0, max_queue: int | None = 16
              ) -> AsyncIterator[tuple[ft.Page, ft.Text, ClientConnection]]:
    """The app on a loopback port, and one tab signed up to it: its page,
    the page's Text, and the client's socket."""
    shown: asyncio.Future[tuple[ft.Page, ft.Text]] = asyncio.get_running_loop().create_future()

    def main(page: ft.Page) -> None:
        text = ft.Text("0")
        page.add(text)
        if not shown.done():
            shown.set_result((page, text))

    app = quiet_disconnects(flet_fastapi.app(main, no_cdn=True))  # as main.ui_app
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off",
                            ws_per_message_deflate=False, ws_ping_interval=None)
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        async with connect(f"ws://127.0.0.1:{port}/ws", max_size=None, compression=None,
                           max_queue=max_queue, ping_interval=None) as ws:
            await ws.send(b"\x00" + msgpack.packb([REGISTER, {
                "session_id": None, "page_name": "", "page": {
                    "route": "/", "web": True, "platform": "linux",
                    "width": 800.0, "height": 600.0}}]))
            page, text = await asyncio.wait_for(shown, 30)
            yield page, text, ws
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, 30)


def values(message: bytes | str) -> list[str]:
    """The Text values a patch message sets (the ones this page's updates send)."""
    assert isinstance(message, bytes) and message[:1] == b"\x00"
    found: list[str] = []
    stack: list[Any] = [msgpack.unpackb(message[1:], strict_map_key=False)]
    while stack:
        item = stack.pop()
        if isinstance(item, list | tuple):
            if len(item) == 4 and item[2] == "value" and isinstance(item[3], str):
                found.append(item[3])
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    return found


async def until(ws: ClientConnection, wanted: str) -> list[str]:
    """Every Text value received until `wanted`, in order."""
    seen: list[str] = []
    while wanted not in seen:
        seen.extend(values(await asyncio.wait_for(ws.recv(), 30)))
    return seen


async def test_an_update_is_on_its_way_when_update_returns(direct: None) -> None:
    async with tab() as (page, text, ws):
        await asyncio.sleep(0.2)  # the first render has gone out; Flet's task waits
        queue = getattr(page.session.connection, flet_send.QUEUE)
        text.value = "1"
        text.update()
        # no await since: Flet's way leaves the patch in its queue for its task
        assert queue.qsize() == 0
        assert "1" in await until(ws, "1")


async def test_a_tab_that_stops_reading_gets_everything_in_order_once_it_reads(
        direct: None) -> None:
    """Big patches to a client that doesn't read: the socket's buffers fill,
    a direct write has to wait, and what follows is held behind it."""
    filler = "x" * 100_000
    async with tab(max_queue=1) as (page, text, ws):
        app = page.session.connection
        await asyncio.sleep(0.2)
        waited = False
        for n in range(1, 301):
            text.value = f"{n} {filler}"
            text.update()
            waited = waited or flet_send.HELD in app.__dict__
            await asyncio.sleep(0)
        assert waited, "the socket never filled: nothing here had to wait"
        seen = [v.split(" ", 1)[0] for v in await until(ws, f"300 {filler}")]
        assert seen == [str(n) for n in range(1, 301)]



class GoneTab:
    """A tab's socket after the browser went away, as Starlette answers a send."""

    async def send_bytes(self, data: bytes) -> None:
        raise WebSocketDisconnect(code=1006)


async def test_a_write_to_a_tab_that_went_away_is_not_left_for_flets_task() -> None:
    """Queued, the message would meet the closed socket again in Flet's task,
    as Starlette's other error, which escapes the web UI as a traceback
    (tests/e2e/test_tabs_closing.py saw it under load)."""
    app = SimpleNamespace()
    queue: asyncio.Queue[bytes | None] = asyncio.Queue()
    flets_task = asyncio.ensure_future(queue.get())  # idle, waiting on its queue
    await asyncio.sleep(0)
    setattr(app, flet_send.QUEUE, queue)
    setattr(app, flet_send.WEBSOCKET, GoneTab())
    flet_send.send(app, b"\x00a patch")
    assert queue.empty()
    flets_task.cancel()


async def test_a_message_for_a_tab_whose_socket_closed_is_dropped_quietly() -> None:
    """Flet's task has ended (its queue and socket are gone) while a session
    still renders: Flet's own send_message raised AttributeError there, in
    whatever task rendered (a traceback in the web UI's log)."""
    app = SimpleNamespace()
    setattr(app, flet_send.QUEUE, None)
    setattr(app, flet_send.WEBSOCKET, None)
    flet_send.send(app, b"\x00a patch")  # nothing raised


def test_installing_again_changes_nothing_and_the_check_still_reads_flets_code(
        direct: None) -> None:
    """Every web UI a process makes installs it (main.ui_app): the second
    time neither refuses nor reads its own replacement as Flet's code."""
    assert flet_send.install()
    assert flet_send.assumptions_broken() == []
