"""Where server/ws.py reaches past ASGI into uvicorn's websocket protocol,
fenced in one place.

ASGI offers no way to abort a connection, and its `send` costs a few calls
and an encode per socket per event; with 5,000 sockets an event's fan-out
is mostly that. So, on uvicorn's websockets sans-I/O protocol (what
`ws="auto"` picks when `websockets` is installed):

- `KeepServerSend` keeps the server's own `send` in the scope (Starlette
  wraps it); it is a bound method of uvicorn's protocol object.
- `abort` drops the TCP connection of a peer that stopped reading, through
  that object's `transport`.
- `direct_target` / `write_direct` write a text frame's bytes (built once
  per event, `wire_bytes`) straight to its transport whenever its `send`
  would write them at once; otherwise the frame goes through `send`.
- `eager` drives an ASGI `send` coroutine by hand, outside any task, until
  it completes or first waits (a write that completes costs no task).

Each relies on names inside uvicorn and websockets that no API promises:
`assumptions_broken()` lists, in words, any that no longer hold for the
installed versions, and tests/server/test_fences.py fails with that list
after an upgrade. Nothing here breaks the server when they change: every
shortcut checks its ground and steps aside (the slower ASGI path).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from websockets.frames import Frame, Opcode
from websockets.protocol import Protocol as WsProtocol
from websockets.protocol import State as WsState

log = logging.getLogger("tandem.ws")

SERVER_SEND = "tandem.server_send"  # scope key: the ASGI server's own `send`
SendCoro = Callable[[Message], Coroutine[Any, Any, None]]  # an ASGI `send` (async def)

# uvicorn's protocol class the direct path knows, by name (importing it would
# tie the server to uvicorn), and the attributes of it that are read
PROTOCOL_CLASS = "WebSocketsSansIOProtocol"
PROTOCOL_FLAGS = ("disconnected", "close_sent", "handshake_complete", "initial_response")


class KeepServerSend:
    """ASGI middleware: keep the server's `send` of a websocket in its scope
    (Starlette wraps it before the route sees it)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            scope[SERVER_SEND] = send
        await self.app(scope, receive, send)


def abort(scope: Scope) -> None:
    """Drop the TCP connection of a peer that stopped reading.

    Its close frame can't be written (the transport is paused), and uvicorn
    ends the connection with `transport.close()`, which waits to flush the
    buffer first: forever, for a peer that never reads. ASGI has no way to
    abort, so reach the transport of uvicorn's protocol object when it is
    there (the server's `send` is its bound method, kept by `KeepServerSend`);
    otherwise the protocol's own close timer is all there is."""
    server_send = scope.get(SERVER_SEND)
    transport = getattr(getattr(server_send, "__self__", None), "transport", None)
    if transport is None or not hasattr(transport, "abort"):
        return
    log.warning("aborting a websocket whose peer stopped reading")
    sock = transport.get_extra_info("socket")
    if sock is not None:  # reset at once: a plain close would leave the kernel
        # holding the unsent bytes, probing a zero window for minutes
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


_wire_of: list[Any] = [None, b""]  # the last frame (the str itself) and its wire bytes


def wire_bytes(frame: str) -> bytes:
    """A server text frame's bytes on the wire (unmasked, no extension). One
    event goes to every recipient in a row, so one entry caches it for all."""
    if _wire_of[0] is not frame:
        _wire_of[:] = [frame, Frame(Opcode.TEXT, frame.encode()).serialize(mask=False,
                                                                          extensions=[])]
    wire: bytes = _wire_of[1]
    return wire


def direct_target(server_send: Any) -> Any | None:
    """uvicorn's websockets sans-I/O protocol object whose bound `send` this
    is, when its frames may be written straight to its transport
    (`write_direct`): no extension negotiated (a permessage-deflate socket
    needs its own compressor). None for any other server or protocol."""
    proto: Any = getattr(server_send, "__self__", None)
    if type(proto).__name__ != PROTOCOL_CLASS:
        return None
    conn = getattr(proto, "conn", None)
    if (not isinstance(conn, WsProtocol) or conn.extensions
            or not isinstance(getattr(proto, "writable", None), asyncio.Event)
            or getattr(proto, "transport", None) is None
            or not all(hasattr(proto, a) for a in PROTOCOL_FLAGS)):
        return None
    return proto


def write_direct(proto: Any, frame: str) -> bool:
    """Write a text frame to the transport of `proto` (see `direct_target`)
    when its `send` would do exactly that at once: handshake done, nothing
    sent or received to close it, the transport not paused, no control frame
    of the protocol's own waiting to go out first. True when it wrote; False:
    nothing done, use `send`. (`send` would encode the text and build the
    same bytes again for every socket.)"""
    conn = proto.conn
    if (proto.writable.is_set() and conn.state is WsState.OPEN and not conn.writes
            and not proto.disconnected and not proto.close_sent
            and proto.handshake_complete and proto.initial_response is None):
        proto.transport.write(wire_bytes(frame))
        return True
    return False


def eager(coro: Coroutine[Any, Any, None]) -> Awaitable[None] | None:
    """Run `coro` until it completes or first suspends, right here (no task).
    None: it completed. Otherwise an awaitable that finishes it (from a task)."""
    try:
        waiting = coro.send(None)
    except StopIteration:
        return None
    return _resume(coro, waiting)


async def _resume(coro: Coroutine[Any, Any, None], waiting: Any) -> None:
    """Finish a coroutine that suspended on `waiting` outside of any task: wait
    for what it waits for, then step it on (what a Task does)."""
    try:
        while True:
            if waiting is None:  # a bare yield (asyncio.sleep(0))
                await asyncio.sleep(0)
            else:  # a future; its outcome is delivered when the coroutine resumes
                await asyncio.wait((waiting,))
            waiting = coro.send(None)
    except StopIteration:
        return
    except asyncio.CancelledError:
        coro.close()
        raise


def assumptions_broken() -> list[str]:
    """What this module relies on in the installed uvicorn and websockets
    that no longer holds, one sentence each (empty: all holds)."""
    broken: list[str] = []
    try:
        from uvicorn.config import Config
        from uvicorn.protocols.websockets.auto import AutoWebSocketsProtocol
        from uvicorn.server import ServerState
    except ImportError as exc:
        return [f"uvicorn's modules moved ({exc}): the websocket shortcuts are off"]
    if AutoWebSocketsProtocol is None or AutoWebSocketsProtocol.__name__ != PROTOCOL_CLASS:
        broken.append(f"uvicorn's ws='auto' now picks {AutoWebSocketsProtocol!r}, not "
                      f"{PROTOCOL_CLASS}: direct writes and aborts never happen")
        return broken

    async def never(scope: Scope, receive: Receive, send: Send) -> None:
        raise AssertionError

    config = Config(app=never, ws_per_message_deflate=False, ws_ping_interval=None)
    config.load()
    # its own loop: the protocol asks for the current one, which a caller
    # outside any loop may not have
    loop = asyncio.new_event_loop()
    try:
        proto: Any = AutoWebSocketsProtocol(config, ServerState(), {}, _loop=loop)
    finally:
        loop.close()
    send = getattr(proto, "send", None)
    if getattr(send, "__self__", None) is not proto:
        broken.append(f"{PROTOCOL_CLASS}.send is no bound method of the protocol "
                      "object any more: KeepServerSend can't lead back to it")
    if not isinstance(getattr(proto, "conn", None), WsProtocol):
        broken.append(f"{PROTOCOL_CLASS}.conn is no websockets Protocol any more")
    if not isinstance(getattr(proto, "writable", None), asyncio.Event):
        broken.append(f"{PROTOCOL_CLASS}.writable is no asyncio.Event any more "
                      "(how a paused transport is told)")
    if not hasattr(proto, "transport"):
        broken.append(f"{PROTOCOL_CLASS} keeps no `transport` attribute any more")
    missing = [a for a in PROTOCOL_FLAGS if not hasattr(proto, a)]
    if missing:
        broken.append(f"{PROTOCOL_CLASS} lost {', '.join(missing)}: write_direct can't tell "
                      "when its send would write at once")
    conn = getattr(proto, "conn", None)
    if conn is not None and not (hasattr(conn, "writes") and hasattr(conn, "extensions")):
        broken.append("websockets' Protocol lost `writes` or `extensions`")
    return broken
