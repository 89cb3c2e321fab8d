"""The sender batches what is waiting (POST /api/commands/batch) on a real
server: order, exactly once, rollback of one command in a batch, fallback to
single commands for a server without the route, smaller batches on 413, and
resending a batch whose answer was lost."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from domain.commands import Actor
from services.api import Api
from services.sender import Sender
from store.store import Store
from testkit.server import DEMO_PASSWORD, ServerProcess
from tests.services.helpers import (
    new_id,
    server_events,
    server_state,
    sign_in,
    until,
    view_state,
)


def quick() -> Iterator[float]:
    return itertools.repeat(0.05)


def new_client(i: int) -> dict[str, Any]:
    return {"first_name": "Batch", "last_name": f"Client {i}", "phone": "+63 917 000 0003",
            "address": "5 Loopback St, Localhost"}


@pytest.mark.slow  # 300 queued commands
async def test_300_offline_commands_drain_in_batches_none_lost_none_twice(
        server_factory: Callable[..., ServerProcess], tmp_path: Path) -> None:
    srv = server_factory(seed="staff")
    op = await sign_in(srv, "operator", data_dir=tmp_path / "op")
    try:
        await until(lambda: op.status == "online")
        start = server_events(srv, "operator")[-1]["seq"]
        srv.stop()
        await until(lambda: op.status != "online", what="the client notices")
        ids = [new_id() for _ in range(150)]
        for i, cid in enumerate(ids):
            assert op.dispatch_now("client.create", cid, new_client(i)).ok
        for cid in ids:  # each needs its create first: per-record order
            assert op.dispatch_now("client.update", cid, {"notes": f"n {cid[:8]}"}).ok
        assert len(op.queued()) == 300

        srv.start()
        await op.wait_idle(120)
        assert op.failed() == []
        assert op.sender.batches >= 3  # 100 per request: not 300 round trips
        assert op.sender.sent == 300

        per_id: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for event in server_events(srv, "operator", after=start):
            if event["entity"] == "client":
                per_id[event["id"]].append((event["version"], event["cause"]))
        for cid in ids:  # 0 lost, 0 duplicated, in order
            assert per_id[cid] == [(1, "client.create"), (2, "client.update")]
        await until(lambda: view_state(op) == server_state(srv, "operator"), 15, "converges")
        assert [m.kind for m in op.messages if m.kind not in ("success",)] == []
    finally:
        await op.stop()


async def test_a_rejection_in_the_middle_of_a_batch_rolls_back_only_itself(
        staff_server: ServerProcess) -> None:
    t1 = await sign_in(staff_server, "therapist1")
    try:
        await until(lambda: t1.status == "online")
        t1.hold_sending()
        day = "2034-03-03"  # nobody else books availability on this module's server
        slots = [new_id() for _ in range(5)]
        for k, sid in enumerate(slots):
            assert t1.dispatch_now("availability.create", sid, {
                "date": day, "start_time": f"{8 + 2 * k:02d}:00",
                "end_time": f"{9 + 2 * k:02d}:00", "available": True}).ok
        # Meanwhile, on another device, the same therapist takes 12:00-13:00:
        # the third queued slot can no longer be created.
        other = staff_server.client("therapist1")
        with other:
            r = other.post("/api/commands", json={
                "client_id": str(uuid.uuid4()), "seq": 1, "name": "availability.create",
                "target": new_id(), "base_version": None,
                "args": {"date": day, "start_time": "12:00", "end_time": "13:00",
                         "available": True}})
            assert r.status_code == 200, r.text
        await until(lambda: any(a["start_time"] == "12:00" and a["id"] not in slots
                                for a in t1.view().all("availability")), what="event arrives")

        t1.resume_sending()
        await t1.wait_idle(30)
        assert t1.sender.batches == 1
        assert [e.seq for e in t1.failed()] == [t1.failed()[0].seq]
        assert t1.failed()[0].target == slots[2]
        error = t1.failed()[0].error
        assert error is not None and error["code"] == "availability_overlap"
        mine = {a["id"] for a in t1.view().all("availability")}
        assert set(slots) - mine == {slots[2]}  # the others are there, confirmed
        assert not any(t1.is_pending("availability", s) for s in slots)
        rollbacks = [m for m in t1.messages if m.kind == "rollback"]
        assert [m.seq for m in rollbacks] == [t1.failed()[0].seq]
        await until(lambda: view_state(t1) == server_state(staff_server, "therapist1"), 15,
                    "t1 converges")
    finally:
        await t1.stop()


# --- Store + Api + Sender directly, with a transport that plays an older or
# --- flaky server in front of the real one.

@dataclass
class Front(httpx.AsyncBaseTransport):
    """Forwards to the real server; `no_batch`: answer the batch route 404
    like a server without it; `lose`: forward that many batch requests, then
    drop their answers (the server did the work; the client hears nothing)."""

    no_batch: bool = False
    lose: int = 0
    paths: list[tuple[str, int]] = field(default_factory=list)  # (path, commands)
    inner: httpx.AsyncHTTPTransport = field(default_factory=httpx.AsyncHTTPTransport)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.startswith("/api/commands"):
            body = await request.aread()
            n = len(httpx.Response(200, content=body).json().get("commands", [None]))
            self.paths.append((path, n))
        if path == "/api/commands/batch" and self.no_batch:
            return httpx.Response(404, text="Not found")
        response = await self.inner.handle_async_request(request)
        if path == "/api/commands/batch" and self.lose > 0:
            self.lose -= 1
            await response.aread()
            raise httpx.ReadError("connection reset (test)", request=request)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


@contextlib.asynccontextmanager
async def device(srv: ServerProcess, front: Front, **sender: Any
                 ) -> AsyncIterator[tuple[Store, Sender]]:
    api = Api(srv.url, transport=front)
    body = await api.login("operator", DEMO_PASSWORD)
    store = Store(Actor(body["user"]["id"], body["user"]["role"]))
    store.bootstrap(await api.bootstrap())
    s = Sender(store, api, delays=quick, **sender)
    s.hold()
    task = asyncio.create_task(s.run())
    try:
        yield store, s
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        store.close()
        await api.aclose()


async def drained(store: Store, timeout: float = 60) -> None:
    await until(lambda: store.next_command() is None, timeout, "outbox empty")


def creates(store: Store, n: int) -> list[str]:
    ids = [new_id() for _ in range(n)]
    for i, cid in enumerate(ids):
        assert store.dispatch("client.create", cid, new_client(i)).ok
    return ids


def applied_once(srv: ServerProcess, ids: list[str]) -> None:
    count: dict[str, int] = defaultdict(int)
    for event in server_events(srv, "operator"):
        if event["entity"] == "client":
            count[event["id"]] += 1
    assert [count[i] for i in ids] == [1] * len(ids)


async def test_a_server_without_the_batch_route_gets_single_commands(
        staff_server: ServerProcess) -> None:
    front = Front(no_batch=True)
    async with device(staff_server, front) as (store, sender):
        ids = creates(store, 12)
        sender.resume()
        await drained(store)
        assert store.failed() == [] and sender.batches == 0 and sender.batch == 1
        assert [p for p in front.paths if p[0].endswith("batch")] == \
            [("/api/commands/batch", 12)]  # asked once, then one by one
        assert sender.sent == 12
    applied_once(staff_server, ids)


async def test_too_many_for_one_batch_means_smaller_batches(
        staff_server: ServerProcess) -> None:
    front = Front()
    async with device(staff_server, front, batch=250) as (store, sender):
        ids = creates(store, 250)
        sender.resume()
        await drained(store)
        assert store.failed() == [] and sender.sent == 250
        assert sender.batch == 125  # the server takes at most 200
        assert [n for p, n in front.paths] == [250, 125, 125]
    applied_once(staff_server, ids)


@pytest.mark.parametrize("lose", [1, 2])
async def test_a_batch_whose_answer_is_lost_is_sent_again_and_applied_once(
        staff_server: ServerProcess, lose: int) -> None:
    front = Front(lose=lose)
    async with device(staff_server, front) as (store, sender):
        ids = creates(store, 30)
        sender.resume()
        await drained(store)
        assert store.failed() == [] and sender.sent == 30
        assert [n for p, n in front.paths] == [30] * (lose + 1)  # same batch again
        assert [m.kind for m in store.messages if m.kind != "success"] == []
    applied_once(staff_server, ids)
