"""Closing the websocket from the client side ends at once, also in the middle
of a replay: websockets stops reading while 16 frames wait unread and doesn't
start again to close, so a plain `close()` there waits out its whole close
timeout (the server's answer sits behind the unread frames). The listener
closes with `close_promptly`, which reads them away meanwhile."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from websockets.asyncio.client import ClientConnection, connect

from services.listener import close_promptly
from testkit.server import ServerProcess, login

CLOSE_TIMEOUT = 5.0  # what a close that never completes takes; the bound is well under it


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """The demo seed: a few hundred events for an operator to replay."""
    with ServerProcess(Path(tmp_path_factory.mktemp("link_close")), seed="demo") as srv:
        yield srv


async def _replaying(srv: ServerProcess, token: str) -> ClientConnection:
    """A socket in the middle of a whole-log replay: one frame read, the rest
    arriving unread (more than websockets' queue of 16)."""
    ws = await connect(srv.ws_url, proxy=None, close_timeout=CLOSE_TIMEOUT)
    await ws.send(orjson.dumps({"type": "hello", "token": token, "after": 0}).decode())
    first = orjson.loads(await ws.recv())
    assert first["type"] == "event", first
    await asyncio.sleep(0.2)  # the replay lands in the client's buffers, unread
    return ws


async def test_a_client_close_mid_replay_completes_at_once(demo_server: ServerProcess) -> None:
    token = login(demo_server, "operator")
    for _ in range(3):  # not a lucky race: each time
        ws = await _replaying(demo_server, token)
        started = time.monotonic()
        await close_promptly(ws)
        took = time.monotonic() - started
        assert took < 2.0, f"the close took {took:.1f} s: it waited for its close timeout"
        assert ws.close_code == 1000, "a clean closing handshake, not a dropped connection"


async def test_a_close_while_the_pump_reads_still_completes(demo_server: ServerProcess) -> None:
    """`Listener.close()` from outside, with the pump reading: the discarding
    reader steps aside and the close is as quick."""
    token = login(demo_server, "operator")
    ws = await connect(demo_server.ws_url, proxy=None, close_timeout=CLOSE_TIMEOUT)
    await ws.send(orjson.dumps({"type": "hello", "token": token}).decode())

    async def pump() -> None:
        async for _ in ws:
            pass

    reader = asyncio.create_task(pump())
    await asyncio.sleep(0.1)
    started = time.monotonic()
    await close_promptly(ws)
    assert time.monotonic() - started < 2.0
    await asyncio.wait_for(reader, 1)  # the pump saw the end, cleanly
    assert ws.close_code == 1000
