"""Where the web UI reaches into flet_web's `FletApp`, fenced in one place.

flet_web 1.0.5 queues each message for a browser tab and writes it from a
task of its own (`FletApp.__send_loop`). One process's event loop runs every
tab's session and the server, so that task wakes behind whatever is already
on the loop: after a change, the other tabs' renders of it. With 50 operator
screens open, the median screen got a new booking 650-750 ms after it was
made, most of it waiting for the last render (bench ui, seventh pass).

`install()` makes `FletApp.send_message` write a message at once when
nothing of its tab is waiting to go: packed as Flet packs it, sent through
the same Starlette websocket, its `send_bytes` driven by hand
(`uvicorn_ws.eager`) until it is written or has to wait (a transport paused
by a tab that stopped reading). Otherwise the message goes into Flet's
queue, as before. The order holds: a message is written directly only when
Flet's queue is empty and its task idle, waiting on the queue; and while a
direct write waits, the messages after it are held back, then queued in
order once it is done. A write that fails (the tab went away) drops its
message, as Flet's task would have lost it, and so does a message for a tab
whose socket is closed (Flet's own raises, in the task that rendered).

It relies on names inside flet_web that no API promises:
`assumptions_broken()` lists, in words, any that no longer hold for the
installed version, and tests/server/test_fences.py fails with that list
after an upgrade; `install()` then leaves Flet as it is (the queue's way).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from typing import Any

import msgpack
from flet.controls.base_control import BaseControl
from flet.messaging.protocol import configure_encode_object_for_msgpack

from server.uvicorn_ws import eager

log = logging.getLogger("tandem.ui")

QUEUE = "_FletApp__send_queue"  # asyncio.Queue of packed messages (None once closed)
WEBSOCKET = "_FletApp__websocket"  # the tab's Starlette WebSocket
HELD = "_tandem_held"  # messages after a direct write that had to wait
# What the code of FletApp must still say for the above to be its behaviour.
SOURCE_FACTS = {
    "send_message": ('b"\\x00" + body', "configure_encode_object_for_msgpack(BaseControl)",
                     "self.__send_queue.put_nowait("),
    "handle": ("self.__websocket = websocket", "self.__send_queue = asyncio.Queue()"),
    "_FletApp__send_loop": ("await self.__send_queue.get()",
                            "await self.__websocket.send_bytes(message)"),
}


def install() -> bool:
    """Send the web UI's messages directly (see the module's doc); False when
    the installed flet_web is not what this was written for."""
    broken = assumptions_broken()
    if broken:
        log.warning("web UI: messages go through Flet's send queue (%s)", "; ".join(broken))
        return False
    from flet_web.fastapi.flet_app import FletApp

    if FletApp.send_message is not _send_message:  # (each web UI a process makes)
        _flets_own["send_message"] = FletApp.send_message
        FletApp.send_message = _send_message
    return True


# Flet's own methods this module replaced: what `assumptions_broken` reads
_flets_own: dict[str, Any] = {}


def _send_message(app: Any, message: Any) -> None:
    """`FletApp.send_message`, writing at once when it may."""
    body = msgpack.packb([message.action, message.body],
                         default=configure_encode_object_for_msgpack(BaseControl))
    send(app, b"\x00" + body)


def send(app: Any, data: bytes) -> None:
    """Write one packed message to `app`'s tab, or queue it behind what waits."""
    held: list[bytes] | None = app.__dict__.get(HELD)
    if held is not None:  # a direct write is waiting: after it, in order
        held.append(data)
        return
    queue: asyncio.Queue[bytes | None] | None = getattr(app, QUEUE, None)
    websocket = getattr(app, WEBSOCKET, None)
    if queue is None or websocket is None:
        # the tab's socket is closed and Flet's task has ended (Flet's own
        # send_message raises AttributeError here, in whatever task rendered)
        log.debug("web UI: a message for a tab already closed")
        return
    if not (queue.empty() and getattr(queue, "_getters", None)):  # Flet's task busy
        queue.put_nowait(data)
        return
    try:
        rest = eager(websocket.send_bytes(data))
    except Exception as exc:  # noqa: BLE001 - the tab is gone (see `_gone`)
        _gone(exc)
        return
    if rest is None:
        return
    app.__dict__[HELD] = []
    waiting = asyncio.ensure_future(rest)
    waiting.add_done_callback(lambda done: _release(app, done))


def _release(app: Any, done: asyncio.Future[None]) -> None:
    """A direct write that waited is done: queue what came after it, in order
    (or drop it: the tab is gone)."""
    held: list[bytes] = app.__dict__.pop(HELD, [])
    failed = None if done.cancelled() else done.exception()
    if failed is not None:
        _gone(failed)
        return
    queue = getattr(app, QUEUE, None)
    if queue is not None:
        for data in held:
            queue.put_nowait(data)


def _gone(exc: BaseException) -> None:
    """A write to a tab failed: its socket is closed or closing (Starlette's
    WebSocketDisconnect the first time, its RuntimeError after). The message
    is dropped, as Flet's task would have lost it, raising; the tab's
    receiving side sees the disconnect and ends its session as always.
    (Queued for Flet's task, it would raise there the second kind, which
    escapes the web UI as a traceback.)"""
    log.debug("web UI: a tab went away while written to (%r)", exc)


def assumptions_broken() -> list[str]:
    """What this module relies on in the installed flet_web (and asyncio) that
    no longer holds, one sentence each (empty: all holds)."""
    try:
        from flet_web.fastapi.flet_app import FletApp
    except ImportError as exc:
        return [f"flet_web's FletApp moved ({exc})"]
    broken: list[str] = []
    for name, facts in SOURCE_FACTS.items():
        method = getattr(FletApp, name, None)
        if method is _send_message:
            method = _flets_own[name]
        if method is None:
            broken.append(f"FletApp has no {name} any more")
            continue
        source = inspect.getsource(method)
        missing = [f for f in facts if f not in source]
        if missing:
            broken.append(f"FletApp.{name} no longer says {', '.join(map(repr, missing))}")
    if not hasattr(asyncio.Queue(), "_getters"):
        broken.append("asyncio.Queue keeps no `_getters` any more (how an idle send task "
                      "is told)")
    return broken
