"""WS /api/ws: hello, replay, live events, pings.

Protocol. The client's first frame is `{"type": "hello", "token": T, "after": N}`
(`after` omitted or null: live events only). The server then sends every event
of the caller after N in seq order, then live ones, as
`{"type": "event", "event": {...}}`, and `{"type": "ping"}` once caught up
(so a client with nothing to replay hears from the server at once) and when
idle. The client may send `{"type": "ping"}` / `{"type": "pong"}`; nothing
else.

The subscription is taken before the replay is read and the connection keeps
one cursor until it has caught up; from then on the hub pushes its events
(hub.py), so replay and live events meet without a gap or a duplicate. A
connection runs one task (the receiver) plus a catch-up task only while it is
behind, and a drain task only while its transport is full (`SocketWriter`).

Close codes (each with a reason; an `{"type": "error"}` frame goes first):
  4401  sign in again: at the hello, the token is missing, expired or invalid;
        on an open socket, the session ended. The error frame's `code` says why
        (stable): `unauthorized` (no token), `invalid_token` (tampered, unknown
        key, or the account is gone), `token_expired` (its `exp` passed: the
        socket is closed then, to the second), `account_inactive` (the staff
        record was set inactive), `session_revoked` (the password was reset:
        tokens of an older generation). Standing changes reach open sockets
        within `account_check_interval` s (server.accounts).
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
import time
from collections import deque
from collections.abc import Awaitable, Coroutine
from typing import Any

import orjson
from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState

from domain.commands import Actor
from server import repo
from server.auth import AuthError, Session, expired
from server.events import Event
from server.guard import origin_allowed
from server.hub import Subscription, Trimmed
from server.runtime import Runtime
from server.tasks import cancel_and_wait
from server.uvicorn_ws import SERVER_SEND, SendCoro, abort, direct_target, eager, write_direct

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
        if not origin_allowed(ws.headers, s.allowed_origins):  # as every websocket
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
            session = rt.tokens.session(token if isinstance(token, str) else None)
            await rt.accounts.check(session)
        except AuthError as exc:
            raise Closing(4401, exc.message, exc.code) from exc
        actor = session.actor
        after = hello.get("after")
        if after is not None and (isinstance(after, bool) or not isinstance(after, int)
                                  or after < 0):
            raise Closing(1008, "bad frame: after must be a non-negative integer", "bad_frame")

        sub = rt.hub.subscribe(actor)  # not live until it has caught up (hub.py)
        cursor = rt.hub.head if after is None else after
        if cursor > rt.hub.head:
            async with rt.db.read() as conn:
                head, _ = await repo.head(conn)
            if cursor > head:  # a cursor from another database: start over
                raise Closing(4410, "resync required", "resync")
        await _serve(ws, rt, sub, session, cursor)
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
    try:
        if c.error == "resync":
            await asyncio.wait_for(ws.send_text(RESYNC), 2)
        elif c.error:
            await asyncio.wait_for(ws.send_text(_error(c.error, c.reason)), 2)
        await asyncio.wait_for(ws.close(c.code, c.reason), 2)
    except TimeoutError:
        abort(ws.scope)
    except Exception:  # noqa: BLE001 - the peer is gone already
        pass


async def _serve(ws: WebSocket, rt: Runtime, sub: Subscription, session: Session,
                 cursor: int) -> None:
    """Run one connection: the receiver task, plus a catch-up task only while
    the connection is behind (replay, or after its queue filled up). It ends
    when its token expires, or its account's standing refuses the session."""
    s = rt.settings
    actor = session.actor
    link = SocketWriter(ws, s.send_queue, s.ping_interval, actor)
    sub.push = link.push_event
    sub.cursor = cursor

    def refused(error: AuthError) -> None:
        link.end(Closing(4401, error.message, error.code))

    unwatch = rt.accounts.watch(session, refused)
    expiry = link.loop.call_later(max(0.0, session.expires - time.time()), refused, expired())

    greeted = False

    async def catch_up() -> None:
        """Queue this user's events after the cursor, then go live (hub.py)."""
        nonlocal greeted
        while True:
            if sub.cursor == rt.hub.head:
                sub.go_live()  # no await since the check: publish takes over here
                if not greeted:  # a frame at once: the client knows the link works
                    greeted = link.offer(PING)
                return
            if sub.cursor > rt.hub.head:  # a replica that hasn't heard of them yet
                sub.wake.clear()
                await sub.wake.wait()
                continue
            try:
                batch = await rt.hub.read_after(sub.cursor)
            except Trimmed as exc:
                raise Closing(4410, "resync required", "resync") from exc
            if not batch:  # not readable yet (another process's commit): look again
                sub.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(sub.wake.wait(), 0.05)
                continue
            for event in batch:
                if event.visible_to(actor) and not link.offer(event.frame_for(actor)):
                    try:
                        await asyncio.wait_for(link.room.wait(), s.send_timeout)
                    except TimeoutError as exc:
                        log.warning("dropping a slow websocket of %s at seq %d",
                                    actor.id, sub.cursor)
                        raise Closing(1013, "too slow: reconnect with your cursor",
                                      "slow_consumer") from exc
                    link.offer(event.frame_for(actor))
                sub.cursor = event.seq

    async def receiver() -> None:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            frame = _parse(message.get("text"), s.ws_max_frame)
            if frame["type"] not in ("ping", "pong"):
                raise Closing(1008, f"bad frame: unexpected {frame['type'][:40]!r}", "bad_frame")

    sub.on_lag = lambda: link.spawn(catch_up())
    link.spawn(receiver(), last=True)
    link.spawn(catch_up())
    try:
        exc = await link.ended
    finally:
        expiry.cancel()
        unwatch()
        sub.close()
        await link.stop()
    if isinstance(exc, Closing | WebSocketDisconnect):
        raise exc
    if exc is not None:
        log.warning("websocket task failed: %r", exc)


class SocketWriter:
    """One socket's sending side.

    A frame is written at once when nothing is waiting to be sent: the ASGI
    send is driven synchronously (`eager`, server/uvicorn_ws.py), which for a socket whose
    transport accepts the bytes completes without suspending. So a live
    event to 5,000 caught-up sockets costs 5,000 direct writes, no task
    switch. Only when a send has to wait (the kernel buffer is full) does a
    drain task exist; later frames queue behind it (bounded: `limit`), which
    keeps them in order. A full queue makes the hub take the connection
    off live delivery; its catch-up task then waits for `room` up to the
    send timeout and drops the socket if none comes (hub.py, `_serve`).

    Frames go straight to the ASGI server's `send` (kept by `KeepServerSend`)
    when it is there: Starlette's `WebSocket.send` and its exception wrapper
    add nothing to a text frame on an accepted socket but two calls per
    socket per event. Its one duty, a failed send (OSError) meaning the peer
    is gone, is kept here (`_failed`). On uvicorn's websockets (sans-I/O)
    protocol a frame goes further straight to the transport, as bytes built
    once per event (`write_direct`), whenever that send would write it at
    once; in every other case (a full transport, a closing or closed
    connection) through that send, as before.
    """

    def __init__(self, ws: WebSocket, limit: int, ping_interval: float,
                 actor: Actor | None = None) -> None:
        self._ws = ws
        self._actor = actor  # whose copy of each event to send (Event.frame_for)
        server_send: SendCoro | None = ws.scope.get(SERVER_SEND)
        self._send: SendCoro = ws.send
        self._raw = False
        if server_send is not None and ws.application_state == WebSocketState.CONNECTED:
            self._send, self._raw = server_send, True
        self._direct = direct_target(server_send) if self._raw else None
        self.limit = max(1, limit)
        self.pending: deque[str] = deque()
        self.room = asyncio.Event()
        self.room.set()
        self.loop = asyncio.get_running_loop()
        self.ended: asyncio.Future[BaseException | None] = self.loop.create_future()
        self._drain: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._ping_interval = ping_interval
        self._last_sent = self.loop.time()
        self._ping: asyncio.TimerHandle | None = self.loop.call_later(ping_interval,
                                                                      self._ping_due)

    # --- sending ---------------------------------------------------------------------

    def push_event(self, event: Event) -> bool:
        return self.offer(event.frame() if self._actor is None
                          else event.frame_for(self._actor))

    def offer(self, frame: str) -> bool:
        """Send or queue `frame`; False (nothing done) when the queue is full."""
        if self.ended.done():
            return True  # closing: nobody will read it; not a reason to lag
        self._last_sent = self.loop.time()
        if self._drain is None:
            if self._direct is not None and write_direct(self._direct, frame):
                return True
            coro = self._send({"type": "websocket.send", "text": frame})
            try:
                waiting = eager(coro)
            except BaseException as exc:  # noqa: BLE001 - reported through `ended`
                self._failed(exc)
                return True
            if waiting is not None:  # the transport is full: finish in a task
                self._drain = self.loop.create_task(self._drain_after(waiting))
            return True
        if len(self.pending) >= self.limit:
            self.room.clear()
            return False
        self.pending.append(frame)
        return True

    async def _drain_after(self, first: Awaitable[None]) -> None:
        try:
            await first
            while self.pending:
                frame = self.pending.popleft()
                self.room.set()
                await self._send({"type": "websocket.send", "text": frame})
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # noqa: BLE001 - reported through `ended`
            self._failed(exc)
        finally:
            self._drain = None

    def _failed(self, exc: BaseException) -> None:
        """A send failed: end the link. The server's own `send` raises OSError
        for a peer that is gone, which Starlette's would have turned into a
        disconnect (1006) and remembered; do the same."""
        if self._raw and isinstance(exc, OSError):
            self._ws.application_state = WebSocketState.DISCONNECTED
            exc = WebSocketDisconnect(code=1006)
        self.end(exc)

    def _ping_due(self) -> None:
        idle = self.loop.time() - self._last_sent
        if idle >= self._ping_interval * 0.99 and self._drain is None:
            self.offer(PING)
            idle = 0.0
        if not self.ended.done():
            self._ping = self.loop.call_later(max(0.01, self._ping_interval - idle),
                                              self._ping_due)

    # --- lifetime ----------------------------------------------------------------

    def spawn(self, coro: Coroutine[Any, Any, None], *, last: bool = False) -> None:
        """Run `coro` for this connection: an error ends the link, and so does
        returning when `last` (the receiver: the client went away)."""
        task = self.loop.create_task(coro)
        self._tasks.add(task)

        def done(t: asyncio.Task[None]) -> None:
            self._tasks.discard(t)
            if t.cancelled():
                return
            exc = t.exception()
            if exc is not None or last:
                self.end(exc)

        task.add_done_callback(done)

    def end(self, exc: BaseException | None) -> None:
        if not self.ended.done():
            self.ended.set_result(exc)

    async def stop(self) -> None:
        self.end(None)
        if self._ping is not None:
            self._ping.cancel()
        # Their errors have ended the link already (`spawn`, `_failed`).
        await cancel_and_wait([*self._tasks, *([self._drain] if self._drain else [])],
                              ignore=(Exception,))


