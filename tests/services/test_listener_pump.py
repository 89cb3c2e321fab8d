"""The listener's frame loop (`Listener._pump`) on a stand-in connection: what
arrived together is applied as one batch, an ending still applies what came
before it, silence ends the connection and frames keep it open."""

from __future__ import annotations

import asyncio
from collections import deque
from types import SimpleNamespace
from typing import Any, cast

import orjson
import pytest
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from domain.commands import Actor
from services.api import Api
from services.listener import Listener, _Resync
from store import jsoncodec
from store.store import Store


class FakeConnection:
    """What `_pump` uses of websockets' ClientConnection: `recv(decode=False)`,
    the assembler's queue of received frames, and the close code. Frames in
    `queue` are "already received"; `later` come one by one, `gap` s apart.
    When both are empty the connection closes with `close_code`, or stays
    silent when `close_code` is None."""

    def __init__(self, frames: list[bytes], *, later: list[bytes] = (),  # type: ignore[assignment]
                 gap: float = 0.0, close_code: int | None = 4410) -> None:
        self.queue: deque[SimpleNamespace] = deque(SimpleNamespace(data=f, fin=True)
                                                   for f in frames)
        self.recv_messages = SimpleNamespace(frames=SimpleNamespace(queue=self.queue))
        self.later = list(later)
        self.gap = gap
        self.close_code = close_code
        self.close_reason = ""

    async def recv(self, decode: bool | None = None) -> bytes:
        assert decode is False
        if not self.queue and self.later:
            await asyncio.sleep(self.gap)
            return self.later.pop(0)
        if self.queue:
            data: bytes = self.queue.popleft().data
            return data
        if self.close_code is None:
            await asyncio.Event().wait()  # silence
        raise ConnectionClosed(None, None)


def event(seq: int) -> bytes:
    return orjson.dumps({"type": "event", "event": {
        "seq": seq, "entity": "client", "id": f"c{seq}", "op": "upsert", "version": 1,
        "data": {"id": f"c{seq}", "version": 1, "first_name": "A", "last_name": str(seq)},
        "cause": "client.create"}})


PING = orjson.dumps({"type": "ping"})


@pytest.fixture
def listener() -> Any:
    store = Store(Actor("op", "operator"))
    store.bootstrap({"cursor": 0})
    api = Api("http://127.0.0.1:9")
    made = Listener(store, api, idle_timeout=0.5)
    yield made
    store.close()


async def pump(listener: Listener, ws: FakeConnection) -> None:
    await listener._pump(cast(ClientConnection, ws))


async def test_frames_received_together_are_one_batch(listener: Listener) -> None:
    batches: list[list[dict[str, Any]]] = []
    listener.on_events(batches.append)
    with pytest.raises(_Resync):  # close 4410 after the frames
        await pump(listener, FakeConnection([event(1), PING, event(2), event(3)]))
    assert [[e["seq"] for e in b] for b in batches] == [[1, 2, 3]]
    assert listener.store.cursor == 3


async def test_frames_arriving_apart_are_separate_batches(listener: Listener) -> None:
    batches: list[list[dict[str, Any]]] = []
    listener.on_events(batches.append)
    with pytest.raises(_Resync):
        await pump(listener, FakeConnection([event(1)], later=[event(2), event(3)], gap=0.01))
    assert [[e["seq"] for e in b] for b in batches] == [[1], [2], [3]]


async def test_a_bad_frame_ends_it_after_what_came_before(listener: Listener) -> None:
    with pytest.raises(jsoncodec.DecodeError):
        await pump(listener, FakeConnection([event(1), b"{not json", event(2)]))
    assert listener.store.view.get("client", "c1") is not None
    assert listener.store.view.get("client", "c2") is None
    assert listener.store.cursor == 1


async def test_silence_ends_the_connection(listener: Listener) -> None:
    await pump(listener, FakeConnection([event(1)], close_code=None))  # returns: idle
    assert listener.store.cursor == 1


async def test_frames_more_often_than_the_idle_timeout_keep_it_open(
        listener: Listener) -> None:
    # 150 pings 10 ms apart: three idle timeouts long, never idle for one.
    with pytest.raises(_Resync):  # it ends by the server's close, not by silence
        await pump(listener, FakeConnection([], later=[PING] * 150 + [event(1)], gap=0.01))
    assert listener.store.cursor == 1


async def test_cancelling_the_pump_propagates(listener: Listener) -> None:
    task = asyncio.create_task(pump(listener, FakeConnection([], close_code=None)))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
