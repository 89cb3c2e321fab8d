"""A websocket client that never reads is dropped, and a healthy client keeps
getting every event in reasonable time meanwhile.

The slow one is a raw socket with a tiny receive buffer that sends its hello and
then never reads; the server (small send queue, short send timeout, small
kernel send buffer) must close it. The healthy client's delivery delay is
compared with a run without the slow one, with a very generous bound.
"""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import statistics
import time
import uuid
from collections.abc import Iterator

import orjson
import pytest
from websockets.asyncio.client import connect

from testkit.server import ServerProcess
from tests.reliability.wire import Device

EVENTS = 120
NOTES = "n" * 1500


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    env = {"TANDEM_PICKUP_INTERVAL": "0", "TANDEM_AUTO_CANCEL_INTERVAL": "0",
           "TANDEM_SEND_QUEUE": "20", "TANDEM_SEND_TIMEOUT": "2",
           "TANDEM_SOCKET_SNDBUF": "4096"}
    with ServerProcess(tmp_path_factory.mktemp("slow"), seed="staff", env=env) as s:
        yield s


def stalled_socket(srv: ServerProcess, token: str) -> socket.socket:
    """A websocket that says hello (replay from 0) and then never reads."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
    s.settimeout(30)
    s.connect(("127.0.0.1", srv.port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET /api/ws HTTP/1.1\r\nHost: 127.0.0.1:{srv.port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(1)  # the handshake answer only, byte by byte
    assert b" 101 " in head.split(b"\r\n")[0], head
    payload = orjson.dumps({"type": "hello", "token": token, "after": 0})
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    assert len(payload) < 65536
    header = bytes([0x81, 0x80 | 126]) + len(payload).to_bytes(2, "big") if len(payload) > 125 \
        else bytes([0x81, 0x80 | len(payload)])
    s.sendall(header + mask + masked)
    return s


def wait_until_dropped(s: socket.socket, timeout: float = 60) -> str:
    """Wait, without reading a byte (reading would make it a healthy peer), until
    the server has ended the connection; the socket's TCP state (Linux TCP_INFO:
    its first byte) leaves ESTABLISHED when a FIN or RST arrives."""
    names = {1: "established", 7: "close", 8: "close-wait"}
    deadline = time.monotonic() + timeout
    while True:
        state = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0]
        if state != 1 or time.monotonic() > deadline:
            return names.get(state, str(state))
        time.sleep(0.1)


def read_to_close(s: socket.socket, timeout: float = 120) -> tuple[bool, bytes]:
    """Read what is buffered: (closed by the server, the bytes it had sent)."""
    s.settimeout(timeout)
    data = b""
    try:
        while chunk := s.recv(65536):
            data += chunk
        return True, data
    except ConnectionResetError:
        return True, data
    except TimeoutError:
        return False, data


async def delivery_delays(srv: ServerProcess, op: Device, writer: Device) -> list[float]:
    """Seconds from sending each command to its event reaching `op`'s socket."""
    arrived: dict[str, float] = {}
    sent: dict[str, float] = {}
    async with connect(srv.ws_url, proxy=None, open_timeout=30) as ws:
        await ws.send(orjson.dumps({"type": "hello", "token": op.token}).decode())

        async def read() -> None:
            async for raw in ws:
                frame = orjson.loads(raw)
                if frame["type"] == "event":
                    arrived.setdefault(frame["event"]["id"], time.monotonic())

        reader = asyncio.create_task(read())

        def write() -> None:
            for _ in range(EVENTS):
                cid = str(uuid.uuid4())
                sent[cid] = time.monotonic()
                writer.ok("client.create", cid, first_name="Slow", last_name="Test",
                          phone="+63 900 000 7777", address="10 Slow St", notes=NOTES)

        await asyncio.to_thread(write)
        for _ in range(600):
            if set(sent) <= set(arrived) or reader.done():
                break
            await asyncio.sleep(0.1)
        reader.cancel()
    missing = set(sent) - set(arrived)
    assert not missing, f"the healthy client missed {len(missing)} events"
    return [arrived[c] - sent[c] for c in sent]


async def test_a_reader_that_never_reads_is_dropped(srv: ServerProcess) -> None:
    op, writer, lazy = Device(srv, "operator"), Device(srv, "operator"), Device(srv, "operator")
    try:
        baseline = await delivery_delays(srv, op, writer)
        slow = stalled_socket(srv, lazy.token)
        try:
            loaded = await delivery_delays(srv, op, writer)
            state = await asyncio.to_thread(wait_until_dropped, slow)
            assert state != "established", "the slow socket lives on"
            closed, data = await asyncio.to_thread(read_to_close, slow)
            assert closed, "the slow socket lives on"
            # It was streaming (hello accepted), so it was dropped for being slow.
            assert b'"type":"event"' in data, data[:200]
        finally:
            slow.close()
    finally:
        for d in (op, writer, lazy):
            d.close()
    base, with_slow = statistics.median(baseline), statistics.median(loaded)
    # Generous: a stalled peer must not turn milliseconds into seconds.
    assert with_slow <= 10 * base + 3.0, (base, with_slow)
