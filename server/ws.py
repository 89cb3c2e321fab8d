"""WS /api/ws: hello, replay, live events, pings.

Protocol. The client's first frame is `{"type": "hello", "token": T, "after": N}`
(`after` omitted or null: live events only). The server then sends every event
of the caller after N in seq order, then live ones, as
`{"type": "event", "event": {...}}`, and `{"type": "ping"}` when idle. The
client may send `{"type": "ping"}` / `{"type": "pong"}`; nothing else.

The subscription is taken before the replay is read and the connection keeps
one cursor, so replay and live events meet without a gap or a duplicate.

Close codes (each with a reason; an `{"type": "error"}` frame goes first):
  4401  the token is missing, expired or invalid
  4403  the Origin is not allowed (browsers from other sites)
  4408  no hello within `hello_timeout`
  1008  a malformed or unexpected frame
  1009  a frame over `ws_max_frame` bytes
  1013  too slow: the send queue stayed full for `send_timeout` s (reconnect
        with your cursor)
  4410  after `{"type": "resync"}`: the log no longer reaches your cursor
  1001  the server is shutting down
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any
from urllib.parse import urlsplit

import orjson
from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState

from domain.commands import Actor
from server import repo
from server.auth import AuthError
from server.hub import Subscription, Trimmed
from server.runtime import Runtime

router = APIRouter()
log = logging.getLogger("tandem.ws")

PING = orjson.dumps({"type": "ping"}).decode()
RESYNC = orjson.dumps({"type": "resync"}).decode()


class Closing(Exception):
    def __init__(self, code: int, reason: str, error: str | None = None) -> None:
        super().__init__(reason)
        self.code, self.reason, self.error = code, reason, error


def _error(code: str, message: str) -> str:
    return orjson.dumps({"type": "error", "code": code, "message": message}).decode()


def _origin_ok(ws: WebSocket, allowed: tuple[str, ...]) -> bool:
    origin = ws.headers.get("origin")
    if not origin:
        return True  # not a browser: apps and tools send no Origin
    if origin in allowed or "*" in allowed:
        return True
    return urlsplit(origin).netloc.lower() == ws.headers.get("host", "").lower()


def _parse(text: str | None, limit: int) -> dict[str, Any]:
    if text is None:
        raise Closing(1008, "bad frame: send JSON text frames", "bad_frame")
    if len(text) > limit:
        raise Closing(1009, "frame too large", "too_large")
    try:
        frame = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise Closing(1008, "bad frame: not JSON", "bad_frame") from exc
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
        raise Closing(1008, "bad frame: expected an object with a type", "bad_frame")
    return frame


@router.websocket("/api/ws")
async def websocket(ws: WebSocket) -> None:
    rt: Runtime = ws.app.state.runtime
    s = rt.settings
    await ws.accept()
    sub: Subscription | None = None
    try:
        if not _origin_ok(ws, s.allowed_origins):
            raise Closing(4403, "origin not allowed", "forbidden_origin")
        try:
            message = await asyncio.wait_for(ws.receive(), s.hello_timeout)
        except TimeoutError as exc:
            raise Closing(4408, "expected a hello frame", "hello_timeout") from exc
        if message["type"] == "websocket.disconnect":
            return
        hello = _parse(message.get("text"), s.ws_max_frame)
        if hello["type"] != "hello":
            raise Closing(1008, "bad frame: the first frame must be a hello", "bad_frame")
        token = hello.get("token")
        try:
            actor = rt.tokens.actor(token if isinstance(token, str) else None)
        except AuthError as exc:
            raise Closing(4401, exc.message, exc.code) from exc
        after = hello.get("after")
        if after is not None and (isinstance(after, bool) or not isinstance(after, int)
                                  or after < 0):
            raise Closing(1008, "bad frame: after must be a non-negative integer", "bad_frame")

        sub = rt.hub.subscribe(actor)  # before reading the replay: no gap
        cursor = rt.hub.head if after is None else after
        if cursor > rt.hub.head:
            async with rt.db.read() as conn:
                head, _ = await repo.head(conn)
            if cursor > head:  # a cursor from another database: start over
                raise Closing(4410, "resync required", "resync")
        await _serve(ws, rt, sub, actor, cursor)
    except Closing as c:
        await _close(ws, c)
    except WebSocketDisconnect:
        pass
    finally:
        if sub is not None:
            sub.close()


async def _close(ws: WebSocket, c: Closing) -> None:
    if ws.application_state != WebSocketState.CONNECTED:
        return
    with contextlib.suppress(Exception):
        if c.error == "resync":
            await asyncio.wait_for(ws.send_text(RESYNC), 2)
        elif c.error:
            await asyncio.wait_for(ws.send_text(_error(c.error, c.reason)), 2)
        await asyncio.wait_for(ws.close(c.code, c.reason), 2)


async def _serve(ws: WebSocket, rt: Runtime, sub: Subscription, actor: Actor,
                 cursor: int) -> None:
    s = rt.settings
    queue: asyncio.Queue[str] = asyncio.Queue(maxsize=s.send_queue)

    async def pump() -> None:
        """Move this user's events after the cursor into the send queue."""
        nonlocal cursor
        while True:
            sub.wake.clear()
            while cursor < rt.hub.head:
                try:
                    batch = await rt.hub.read_after(cursor)
                except Trimmed as exc:
                    raise Closing(4410, "resync required", "resync") from exc
                if not batch:
                    break
                for event in batch:
                    if event.visible_to(actor):
                        try:
                            try:
                                queue.put_nowait(event.frame())  # the usual case: no timer
                            except asyncio.QueueFull:
                                await asyncio.wait_for(queue.put(event.frame()), s.send_timeout)
                        except TimeoutError as exc:
                            log.warning("dropping a slow websocket of %s at seq %d",
                                        actor.id, cursor)
                            raise Closing(1013, "too slow: reconnect with your cursor",
                                          "slow_consumer") from exc
                    cursor = event.seq
            await sub.wake.wait()

    async def sender() -> None:
        while True:
            if not queue.empty():
                frame = queue.get_nowait()
            else:
                try:
                    frame = await asyncio.wait_for(queue.get(), s.ping_interval)
                except TimeoutError:
                    frame = PING
            await ws.send_text(frame)

    async def receiver() -> None:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            frame = _parse(message.get("text"), s.ws_max_frame)
            if frame["type"] not in ("ping", "pong"):
                raise Closing(1008, f"bad frame: unexpected {frame['type'][:40]!r}", "bad_frame")

    tasks = [asyncio.create_task(f()) for f in (pump, sender, receiver)]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
    for t in done:
        exc = t.exception() if not t.cancelled() else None
        if isinstance(exc, Closing | WebSocketDisconnect):
            raise exc
        if exc is not None:
            log.warning("websocket task failed: %r", exc)
