"""`quiet_disconnects`: a mounted app's websocket handler that lets the
peer's disconnect escape ends quietly; everything else passes through."""

from __future__ import annotations

import logging

import pytest
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocketDisconnect

from server.mounted import quiet_disconnects


async def tab_that_went_away(scope: Scope, receive: Receive, send: Send) -> None:
    # what flet_web 1.0.5's send loop raises once the browser is gone
    raise WebSocketDisconnect(code=1006)


async def broken_http(scope: Scope, receive: Receive, send: Send) -> None:
    raise WebSocketDisconnect(code=1006)


async def receive() -> Message:
    return {"type": "websocket.disconnect", "code": 1006}


async def send(message: Message) -> None:
    return None


async def test_a_closed_tab_is_one_debug_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="tandem.ui")
    await quiet_disconnects(tab_that_went_away)({"type": "websocket"}, receive, send)
    assert [r.getMessage() for r in caplog.records] == [
        "web UI: a browser tab went away (close code 1006)"
    ]


async def test_other_scopes_and_errors_pass_through() -> None:
    with pytest.raises(WebSocketDisconnect):
        await quiet_disconnects(broken_http)({"type": "http"}, receive, send)

    async def bug(scope: Scope, receive: Receive, send: Send) -> None:
        raise KeyError("a real bug")

    with pytest.raises(KeyError):
        await quiet_disconnects(bug)({"type": "websocket"}, receive, send)
