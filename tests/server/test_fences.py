"""The server's three reaches past its frameworks' APIs (server/uvicorn_ws.py,
server/lean_route.py, server/flet_send.py) each list what they rely on; after
an upgrade of uvicorn, websockets, FastAPI or flet_web these fail with that
list, in words, before anything slows down or breaks quietly."""

from __future__ import annotations

from server import flet_send, lean_route, uvicorn_ws


def test_what_the_websocket_shortcuts_rely_on_in_uvicorn_still_holds() -> None:
    broken = uvicorn_ws.assumptions_broken()
    assert not broken, (
        "uvicorn or websockets changed under server/uvicorn_ws.py (the websocket fast "
        "path and aborts step aside, so events go the slow way): " + "; ".join(broken))


def test_what_the_lean_command_routes_rely_on_in_fastapi_still_holds() -> None:
    broken = lean_route.assumptions_broken()
    assert not broken, (
        "FastAPI changed under server/lean_route.py (POST /api/commands and "
        "/api/commands/batch): " + "; ".join(broken))


def test_what_the_web_uis_direct_writes_rely_on_in_flet_web_still_holds() -> None:
    broken = flet_send.assumptions_broken()
    assert not broken, (
        "flet_web changed under server/flet_send.py (the web UI's messages go through "
        "Flet's send queue again): " + "; ".join(broken))


def test_the_checks_can_fail() -> None:
    """Each check sees a change: a protocol class by another name, a route
    class whose handler FastAPI would not call, and a FletApp whose
    send_message queues otherwise."""
    original = uvicorn_ws.PROTOCOL_CLASS
    uvicorn_ws.PROTOCOL_CLASS = "SomeOtherProtocol"
    try:
        assert any("SomeOtherProtocol" in b for b in uvicorn_ws.assumptions_broken())
    finally:
        uvicorn_ws.PROTOCOL_CLASS = original
    handler = lean_route.LeanRoute.get_route_handler
    del lean_route.LeanRoute.get_route_handler  # what FastAPI would do: its own handler
    try:
        assert any("get_route_handler" in b for b in lean_route.assumptions_broken())
    finally:
        lean_route.LeanRoute.get_route_handler = handler  # type: ignore[method-assign]
    facts = flet_send.SOURCE_FACTS
    flet_send.SOURCE_FACTS = {**facts, "send_message": ("self.__send_queue.put(",)}
    try:
        assert any("send_message" in b for b in flet_send.assumptions_broken())
    finally:
        flet_send.SOURCE_FACTS = facts
