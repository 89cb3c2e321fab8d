"""Bad input never costs more than its own request or socket.

- Hypothesis fuzzes whole command bodies (known names and arg keys, random
  values, huge numbers, odd text) over HTTP: never a 5xx, always
  {status, code, message}; afterwards the server still serves everyone.
- Malformed, oversized and out-of-order websocket frames close that socket
  only, with a documented close code, while another socket keeps receiving.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from testkit import loopback
from testkit.server import ServerProcess
from tests.reliability.wire import Device

COMMANDS = [
    "appointment.create", "appointment.update", "appointment.accept", "appointment.confirm",
    "appointment.start", "appointment.reject", "appointment.review_rejection",
    "appointment.verify_payment", "appointment.complete", "appointment.request_pickup",
    "appointment.assign_pickup_driver", "appointment.cancel", "appointments.auto_cancel_overdue",
    "availability.create", "availability.update", "availability.delete",
    "availability.bulk_create", "client.create", "client.update", "staff.set_duty",
    "notification.mark_read", "notification.mark_all_read", "appointments.auto_assign_pickups",
]
KEYS = ["client_id", "service_ids", "therapist_ids", "driver_id", "date", "start_time",
        "end_time", "location", "notes", "reason", "decision", "therapist_id", "method",
        "amount", "receipt_ref", "extension_amount", "materials", "urgency", "user_id",
        "available", "slots", "first_name", "last_name", "phone", "address", "email",
        "on_duty", "name", "quantity"]

scalars = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.sampled_from(["2031-02-30", "24:00", "23:59", "-1", "", "cash", "reassign",
                     "00:00", "9999-12-31", "0000-01-01", "\u0000", "urgent"]),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=8)), inner, max_size=4)),
    max_leaves=12)
bodies = st.fixed_dictionaries({
    "client_id": st.one_of(st.uuids().map(str), st.text(max_size=30)),
    "seq": st.integers(min_value=-(2**70), max_value=2**70),
    "name": st.one_of(st.sampled_from(COMMANDS), st.text(max_size=30)),
    "target": st.one_of(st.none(), st.uuids().map(str), st.text(max_size=30)),
    "args": st.one_of(st.dictionaries(st.sampled_from(KEYS), values, max_size=8), values),
    "base_version": st.one_of(st.none(), st.integers(min_value=-(2**70), max_value=2**70)),
})


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    env = {"TANDEM_PICKUP_INTERVAL": "0", "TANDEM_AUTO_CANCEL_INTERVAL": "0",
           "TANDEM_HELLO_TIMEOUT": "3"}
    with ServerProcess(tmp_path_factory.mktemp("bad-input"), seed="staff", env=env) as s:
        yield s


def test_fuzzed_commands_never_break_the_server(srv: ServerProcess) -> None:
    devices = [Device(srv, name) for name in ("operator", "therapist1", "driver1")]

    @given(body=bodies, who=st.sampled_from(devices))
    @settings(max_examples=150, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def check(body: dict[str, Any], who: Device) -> None:
        r = who.http.post("/api/commands", json=body)
        assert r.status_code < 500, (body, r.text)
        answer = r.json()
        assert answer["status"] in ("applied", "rejected"), answer
        if answer["status"] == "rejected":
            assert r.status_code >= 400 and answer["code"] and answer["message"], answer

    try:
        check()
        # Still serving: a normal command and a bootstrap work.
        op = devices[0]
        op.ok("client.create", str(uuid.uuid4()), first_name="After", last_name="Fuzz",
              phone="+63 900 000 1111", address="5 Fuzz St")
        assert op.bootstrap()["clients"]
    finally:
        for d in devices:
            d.close()


BAD_FRAMES: dict[str, tuple[list[Any], set[int]]] = {
    # name: (frames to send, acceptable close codes)
    "not json": (["{nope"], {1008}),
    "json but not an object": (["[1, 2, 3]"], {1008}),
    "binary garbage": ([b"\xff\x00\xfe"], {1008, 1003}),
    "hello without token": ([{"type": "hello"}], {4401}),
    "hello with a bad cursor": ([{"type": "hello", "token": "T", "after": "abc"}], {1008}),
    "oversized": (["x" * (128 * 1024)], {1009}),
    "event before hello": ([{"type": "event", "event": {}}], {1008}),
    "second hello": (["T", {"type": "hello", "token": "T", "after": 0}], {1008}),
    "command frame after hello": (["T", {"type": "command", "name": "x"}], {1008}),
    "oversized after hello": (["T", "y" * (128 * 1024)], {1009}),
    "nothing at all": ([], {4408}),
}


async def bad_socket(srv: ServerProcess, token: str, frames: list[Any]) -> int | None:
    async with connect(srv.ws_url, proxy=None, open_timeout=30, max_size=None) as ws:
        for f in frames:
            if f == "T":
                f = {"type": "hello", "token": token, "after": None}
            if isinstance(f, dict):
                f = orjson.dumps(f).decode().replace('"T"', orjson.dumps(token).decode())
            try:
                await ws.send(f)
            except ConnectionClosed:
                break
        try:
            while True:
                await asyncio.wait_for(ws.recv(), 30)
        except ConnectionClosed:
            return ws.close_code
        except TimeoutError:
            return None


async def test_bad_frames_close_only_their_socket(srv: ServerProcess) -> None:
    op = Device(srv, "operator")
    got: list[dict[str, Any]] = []
    try:
        async with connect(srv.ws_url, proxy=None, open_timeout=30) as healthy:
            await healthy.send(orjson.dumps({"type": "hello", "token": op.token}).decode())

            async def read() -> None:
                async for raw in healthy:
                    frame = orjson.loads(raw)
                    if frame["type"] == "event":
                        got.append(frame["event"])

            reader = asyncio.create_task(read())
            codes = await asyncio.gather(*(bad_socket(srv, op.token, frames)
                                           for frames, _ in BAD_FRAMES.values()))
            wrong = {name: code for (name, (_, ok)), code in zip(BAD_FRAMES.items(), codes,
                                                                  strict=True)
                     if code not in ok}
            assert not wrong, wrong
            # The healthy socket is still live: it hears a change made now.
            cid = str(uuid.uuid4())
            await asyncio.to_thread(op.ok, "client.create", cid, first_name="Still",
                                    last_name="Here", phone="+63 900 000 2222",
                                    address="6 Live St")
            for _ in range(300):
                if any(e["id"] == cid for e in got) or reader.done():
                    break
                await asyncio.sleep(0.1)
            assert not reader.done(), "the healthy socket was closed"
            assert any(e["id"] == cid for e in got)
            reader.cancel()
    finally:
        op.close()
    # And the HTTP side never noticed.
    assert loopback.get(srv.url + "/api/health", timeout=30).status_code == 200
