"""`server.ws.SocketWriter`'s sending shortcuts: past Starlette to the ASGI server's
`send`, and on uvicorn's sans-I/O websocket protocol straight to the
transport with the frame's bytes built once. They must write exactly what the
long way writes, and step aside whenever the long way would do anything but
write at once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.websockets import WebSocketDisconnect, WebSocketState
from uvicorn.config import Config
from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.protocol import State
from websockets.server import ServerProtocol

from server.uvicorn_ws import SERVER_SEND
from server.uvicorn_ws import direct_target as _direct_target
from server.uvicorn_ws import wire_bytes as _wire
from server.uvicorn_ws import write_direct as _write_direct
from server.ws import SocketWriter

FRAMES = ['{"type":"ping"}', '{"type":"event","event":{"note":"' + "x" * 300 + '"}}',
          '{"type":"event","event":{"note":"' + "y" * 70_000 + '"}}',
          '{"type":"event","event":{"name":"Señora Dela Cruz — 東京"}}']


class Transport:
    """The part of an asyncio transport the protocol writes to."""

    def __init__(self) -> None:
        self.written: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def is_closing(self) -> bool:
        return False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default


async def _app(scope: Any, receive: Any, send: Any) -> None:  # never called
    raise AssertionError


def uvicorn_protocol() -> tuple[WebSocketsSansIOProtocol, Transport]:
    """uvicorn's protocol object for one accepted websocket (no deflate)."""
    config = Config(app=_app, ws_per_message_deflate=False, ws_ping_interval=None)
    config.load()
    proto = WebSocketsSansIOProtocol(config, ServerState(), {})
    transport = Transport()
    proto.transport = transport  # type: ignore[assignment]
    proto.handshake_complete = True
    proto.conn.state = State.OPEN
    return proto, transport


@pytest.mark.parametrize("frame", FRAMES, ids=["small", "medium", "large", "unicode"])
def test_wire_bytes_are_the_websockets_server_frame(frame: str) -> None:
    protocol = ServerProtocol()
    protocol.state = State.OPEN
    protocol.send_text(frame.encode())
    assert _wire(frame) == b"".join(protocol.data_to_send())


async def test_the_direct_write_is_what_uvicorns_send_writes() -> None:
    proto, transport = uvicorn_protocol()
    assert _direct_target(proto.send) is proto, "uvicorn changed: the direct path is off"
    for frame in FRAMES:
        await proto.send({"type": "websocket.send", "text": frame})
        long_way = transport.written.pop()
        assert _write_direct(proto, frame)
        assert transport.written.pop() == long_way
    assert not transport.written


@pytest.mark.parametrize("state", ["paused", "close_sent", "disconnected", "closing",
                                   "control_frame_waiting", "extension"])
async def test_the_direct_write_steps_aside(state: str) -> None:
    proto, transport = uvicorn_protocol()
    assert _direct_target(proto.send) is proto
    if state == "paused":
        proto.writable.clear()
    elif state == "close_sent":
        proto.close_sent = True
    elif state == "disconnected":
        proto.disconnected = True
    elif state == "closing":
        proto.conn.state = State.CLOSING
    elif state == "control_frame_waiting":
        proto.conn.send_ping(b"1")
    if state == "extension":  # negotiated at the handshake: no direct path at all
        proto.conn.extensions = [object()]
        assert _direct_target(proto.send) is None
        return
    assert not _write_direct(proto, FRAMES[0])
    assert not transport.written


async def test_other_servers_get_no_direct_path() -> None:
    async def send(message: Any) -> None:
        pass

    assert _direct_target(send) is None
    assert _direct_target(None) is None


class FakeWebSocket:
    """What SocketWriter uses of Starlette's WebSocket."""

    def __init__(self, server_send: Any) -> None:
        self.scope = {SERVER_SEND: server_send}
        self.application_state = WebSocketState.CONNECTED
        self.starlette_sends: list[Any] = []

    async def send(self, message: Any) -> None:
        self.starlette_sends.append(message)


async def test_frames_go_to_the_servers_send_in_order() -> None:
    sent: list[str] = []

    async def server_send(message: Any) -> None:
        sent.append(message["text"])

    ws = FakeWebSocket(server_send)
    link = SocketWriter(ws, 10, 60)  # type: ignore[arg-type]
    try:
        for frame in FRAMES:
            assert link.offer(frame)
        assert sent == FRAMES
        assert ws.starlette_sends == []
    finally:
        await link.stop()


async def test_a_peer_gone_is_a_disconnect_as_starlette_would_say() -> None:
    async def server_send(message: Any) -> None:
        raise ClientDisconnected()

    ws = FakeWebSocket(server_send)
    link = SocketWriter(ws, 10, 60)  # type: ignore[arg-type]
    try:
        assert link.offer(FRAMES[0])
        ended = await asyncio.wait_for(link.ended, 5)
        assert isinstance(ended, WebSocketDisconnect) and ended.code == 1006
        assert ws.application_state == WebSocketState.DISCONNECTED
    finally:
        await link.stop()


async def test_without_the_servers_send_starlettes_is_used() -> None:
    ws = FakeWebSocket(None)
    link = SocketWriter(ws, 10, 60)  # type: ignore[arg-type]
    try:
        assert link.offer(FRAMES[0])
        assert ws.starlette_sends == [{"type": "websocket.send", "text": FRAMES[0]}]
    finally:
        await link.stop()
