"""The websocket stream: resume from a cursor, replay meeting live events
without a gap, resync when the log is trimmed, pings, and the slow consumer."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import time
import uuid
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from testkit.server import ServerProcess
from tests.server.helpers import Api, audience_of, fresh_day, log_rows, stream


def add_slots(api: Api, n: int) -> None:
    """n availability slots for `api`'s user: one event each."""
    day = fresh_day()
    for i in range(n):
        start = i * 25  # minutes; 20-minute slots, never overlapping
        api.cmd("availability.create", str(uuid.uuid4()), date=day,
                start_time=f"{start // 60:02d}:{start % 60:02d}",
                end_time=f"{(start + 20) // 60:02d}:{(start + 20) % 60:02d}",
                available=True).ok()


def my_seqs(srv: ServerProcess, api: Api, after: int) -> list[int]:
    return [r["seq"] for r in log_rows(srv) if r["seq"] > after
            and audience_of(r).includes(api.actor)]


async def test_resume_gets_exactly_the_missed_events_in_order(
    staff_server: ServerProcess,
) -> None:
    t1 = Api(staff_server, "therapist1")
    cursor = t1.cursor()
    async with stream(staff_server, t1.token, cursor) as s:
        assert await s.quiet(0.3) == []
    await asyncio.to_thread(add_slots, t1, 50)  # while disconnected
    want = my_seqs(staff_server, t1, cursor)
    assert len(want) == 50
    async with stream(staff_server, t1.token, cursor) as s:
        got = await s.events(50)
        assert [e["seq"] for e in got] == want
        assert all(e["entity"] == "availability" and e["op"] == "upsert" for e in got)
        assert await s.quiet(0.3) == []
        # …and live events follow on the same socket.
        await asyncio.to_thread(add_slots, t1, 1)
        (live,) = await s.events(1)
        assert live["seq"] > want[-1]


async def test_replay_and_live_meet_without_gaps_or_duplicates(
    staff_server: ServerProcess,
) -> None:
    t2 = Api(staff_server, "therapist2")
    cursor = t2.cursor()
    await asyncio.to_thread(add_slots, t2, 20)
    writer = asyncio.create_task(asyncio.to_thread(add_slots, t2, 20))
    async with stream(staff_server, t2.token, cursor) as s:  # connects mid-burst
        got = await s.events(40, timeout=60)
        await writer
        got += await s.quiet(0.3)
    assert [e["seq"] for e in got] == my_seqs(staff_server, t2, cursor)


async def test_events_endpoint_pages_in_order(staff_server: ServerProcess) -> None:
    t3 = Api(staff_server, "therapist3")
    cursor = t3.cursor()
    await asyncio.to_thread(add_slots, t3, 7)
    seen: list[int] = []
    after = cursor
    while True:
        r = t3.get("/api/events", after=after, limit=3)
        assert r.status_code == 200
        page = r.json()
        seen += [e["seq"] for e in page["events"]]
        if page["cursor"] == after:
            break
        after = page["cursor"]
    assert seen == my_seqs(staff_server, t3, cursor)


async def test_a_cursor_from_the_future_resyncs(staff_server: ServerProcess) -> None:
    t1 = Api(staff_server, "therapist1")
    future = t1.cursor() + 1000
    r = t1.get("/api/events", after=future)
    assert r.status_code == 410 and r.json()["code"] == "resync_required"
    async with stream(staff_server, t1.token, future) as s:
        assert await s.frame() == {"type": "resync"}


async def test_trimmed_log_resyncs(server_factory: Callable[..., ServerProcess]) -> None:
    srv = server_factory(seed="staff", env={"TANDEM_LOG_RETENTION_DAYS": "0",
                                            "TANDEM_TRIM_INTERVAL": "0.3"})
    t1 = Api(srv, "therapist1")
    deadline = time.monotonic() + 30
    while t1.get("/api/events", after=0).status_code != 410:  # seed events age out
        assert time.monotonic() < deadline, "the log was never trimmed"
        await asyncio.sleep(0.2)
    assert t1.get("/api/events", after=0).json()["code"] == "resync_required"
    async with stream(srv, t1.token, 0) as s:
        assert await s.frame() == {"type": "resync"}
        with pytest.raises(Exception):  # noqa: B017 - the server closes after resync
            await s.frame(2)
        assert s.ws.close_code == 4410
    boot = t1.bootstrap()  # …and a fresh bootstrap gives a cursor that works
    assert t1.get("/api/events", after=boot["cursor"]).status_code == 200


async def test_a_caught_up_socket_hears_from_the_server_at_once(
    staff_server: ServerProcess,
) -> None:
    """Nothing to replay: a ping right away, not after the idle interval
    (15 s), so a client knows at once that its new connection works (it
    reported "online" only after a second's settle before)."""
    t1 = Api(staff_server, "therapist1")
    async with stream(staff_server, t1.token, t1.cursor()) as s:
        assert await s.frame(5) == {"type": "ping"}
    await asyncio.to_thread(add_slots, t1, 2)
    async with stream(staff_server, t1.token, t1.cursor() - 2) as s:
        frames = [await s.frame(5) for _ in range(3)]  # the replay, then the ping
        assert [f["type"] for f in frames] == ["event", "event", "ping"]


async def test_pings_when_idle_and_a_silent_socket_is_closed(
    server_factory: Callable[..., ServerProcess],
) -> None:
    srv = server_factory(seed="staff", args=("--ping-interval", "0.2"),
                         env={"TANDEM_HELLO_TIMEOUT": "0.5"})
    t1 = Api(srv, "therapist1")
    async with stream(srv, t1.token, None) as s:
        assert await s.frame(3) == {"type": "ping"}
        assert await s.frame(3) == {"type": "ping"}
    async with connect(srv.ws_url, proxy=None) as ws:  # never says hello
        error = orjson.loads(await asyncio.wait_for(ws.recv(), 5))
        assert error["code"] == "hello_timeout"
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
        assert ws.close_code == 4408


def _raw_ws(port: int, rcvbuf: int) -> socket.socket:
    """A websocket handshake on a raw socket with a tiny receive buffer."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET /api/ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                  f"Sec-WebSocket-Version: 13\r\n\r\n").encode())
    reply = b""
    while b"\r\n\r\n" not in reply:
        reply += sock.recv(1)
    assert b" 101 " in reply.split(b"\r\n")[0]
    return sock


def _send_text(sock: socket.socket, payload: dict[str, Any]) -> None:
    data = orjson.dumps(payload)
    mask = os.urandom(4)
    header = bytes([0x81, 0x80 | 126]) + len(data).to_bytes(2, "big") + mask
    sock.sendall(header + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))


@pytest.mark.slow  # floods a socket until the server drops it
async def test_a_slow_consumer_is_dropped_and_others_keep_up(
    server_factory: Callable[..., ServerProcess],
) -> None:
    srv = server_factory(seed="staff", env={"TANDEM_SEND_QUEUE": "8",
                                            "TANDEM_SEND_TIMEOUT": "0.5",
                                            "TANDEM_SOCKET_SNDBUF": "16384"})
    op = Api(srv, "operator")
    t1 = Api(srv, "therapist1")
    slow = _raw_ws(srv.port, 2048)  # connects, says hello, then never reads
    _send_text(slow, {"type": "hello", "token": op.token, "after": op.cursor()})
    slots = [{"start_time": f"{h:02d}:{m:02d}", "end_time": f"{h:02d}:{m + 10:02d}"}
             for h in range(24) for m in (0, 30)]

    def flood(commands: int) -> None:
        for _ in range(commands):  # 48 events (~15 KB for the operator) each
            t1.cmd("availability.bulk_create", None, date=fresh_day(), slots=slots).ok()

    try:
        async with stream(srv, t1.token, t1.cursor()) as fast:
            writer = asyncio.create_task(asyncio.to_thread(flood, 40))
            # The fast client gets every event promptly while the slow one stalls.
            got = await fast.events(48 * 40, timeout=60)
            await writer
            assert len(got) == 48 * 40
            await asyncio.sleep(3.0)  # >> send_timeout: the slow socket is dropped
            t0 = time.monotonic()
            await asyncio.to_thread(add_slots, t1, 1)
            await fast.events(1, timeout=5)
            assert time.monotonic() - t0 < 5
        # Reading now drains what was in flight, then the server's close: EOF.
        # (Had it not been dropped, the socket would simply stay open.)
        slow.settimeout(5)
        received = 0
        while True:
            try:
                chunk = slow.recv(1 << 20)
            except (ConnectionResetError, TimeoutError) as exc:
                assert isinstance(exc, ConnectionResetError), (received, srv.output()[-2000:])
                break
            if not chunk:
                break
            received += len(chunk)
        assert received < 48 * 40 * 250  # it never got the whole flood
    finally:
        slow.close()


async def test_replay_from_the_database_after_a_crash_and_past_the_ring(
    server_factory: Callable[..., ServerProcess],
) -> None:
    srv = server_factory(seed="staff", env={"TANDEM_RING_SIZE": "5"})
    t1 = Api(srv, "therapist1")
    cursor = t1.cursor()
    await asyncio.to_thread(add_slots, t1, 12)  # more than the ring holds
    async with stream(srv, t1.token, cursor) as s:
        first = await s.events(12)
    srv.kill()  # kill -9: the ring is gone, the log is not
    srv.start()
    async with stream(srv, t1.token, cursor) as s:
        again = await s.events(12)
        assert await s.quiet(0.3) == []
    assert again == first
    assert [e["seq"] for e in again] == my_seqs(srv, t1, cursor)
