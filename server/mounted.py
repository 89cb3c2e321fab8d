"""ASGI wrappers for apps mounted beside the API (the web UI).

flet_web 1.0.5's websocket handler lets a browser's disconnect escape: when a
tab closes while the UI is sending, its send loop raises Starlette's
`WebSocketDisconnect` out of the app, and uvicorn prints "Exception in ASGI
application" with three chained tracebacks. A closed tab is normal, so
`quiet_disconnects` turns that one exception into one debug line.
"""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocketDisconnect

log = logging.getLogger("tandem.ui")


class QuietDisconnects:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        except WebSocketDisconnect as exc:
            log.debug("web UI: a browser tab went away (close code %s)", exc.code)


def quiet_disconnects(app: ASGIApp) -> ASGIApp:
    return QuietDisconnects(app)
