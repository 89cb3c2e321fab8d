"""kill -9 a replica under a real client (services.client.Client) behind a load
balancer: it reconnects to the other replica and resumes from its cursor —
every event once, and the commands it queued meanwhile applied once."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from domain.records import Record
from services.client import Client
from testkit import loopback
from testkit.server import DEMO_PASSWORD, ServerProcess
from tests.scale.conftest import Replicas
from tests.scale.helpers import Balancer, pg_log
from tests.services.helpers import booking, tomorrow, until


def visible_seqs(srv: ServerProcess, after: int) -> list[int]:
    """The seqs therapist1 may see after `after`, per the server's /api/events."""
    out: list[int] = []
    with srv.client("therapist1") as http:
        while True:
            page = http.get("/api/events", params={"after": after, "limit": 1000}).json()
            out += [e["seq"] for e in page["events"]]
            if page["cursor"] == after:
                return out
            after = page["cursor"]


async def test_a_killed_replicas_client_resumes_on_the_other(replicas: Replicas) -> None:
    r1, r2 = replicas(2)
    lb = await Balancer([r1.port, r2.port]).start()  # everything goes to r1 while it lives
    operator = await Client.start(r2.url, "operator", DEMO_PASSWORD)  # directly on r2
    therapist = await Client.start(lb.url, "therapist1", DEMO_PASSWORD)  # via r1
    seen: list[int] = []
    original = therapist.store.apply_events

    def record_events(events: Iterable[Mapping[str, Any]]) -> None:
        batch = list(events)  # what the listener got from the server, as it got it
        seen.extend(int(e["seq"]) for e in batch)
        original(batch)

    therapist.store.apply_events = record_events  # type: ignore[method-assign]
    try:
        await until(lambda: therapist.status == "online", 30, "therapist online")
        start = therapist.cursor or 0

        def mine() -> list[Record]:
            return [a for a in therapist.view().all("appointment")
                    if a.get("date") == tomorrow() and a["id"] in ids]

        ids: list[str] = []

        async def book(hour: int) -> None:
            aid = str(uuid.uuid4())
            ids.append(aid)
            r = await operator.dispatch("appointment.create", aid,
                                        booking(operator, "therapist1", hour))
            assert r.ok, r.message

        for hour in (8, 9):  # the operator acts on r2, the therapist hears it on r1
            await book(hour)
        await until(lambda: len(mine()) == 2, 30, "first bookings reach the therapist")

        r1.kill()  # kill -9: sockets reset, nothing flushed
        await until(lambda: therapist.status != "online", 30, "therapist notices")
        # Meanwhile: more bookings, and the therapist accepts the first two offline.
        for hour in (10, 11):
            await book(hour)
        for aid in ids[:2]:
            assert (await therapist.dispatch("appointment.accept", aid)).ok

        await until(lambda: therapist.status == "online", 60, "therapist back, on r2")
        await therapist.wait_idle(60)
        await until(lambda: len(mine()) == 4 and not therapist.queued(), 60, "caught up")
        visible = await asyncio.to_thread(visible_seqs, r2, start)
        await until(lambda: (therapist.cursor or 0) >= visible[-1], 30, "cursor at the end")
    finally:
        await therapist.stop()
        await operator.stop()
        await lb.stop()

    statuses = {a["id"]: a["status"] for a in mine()}
    assert [statuses[a] for a in ids] == ["therapist_confirmed"] * 2 + ["pending"] * 2
    # Every event of hers once, in order, across the failover.
    assert seen == visible, [s for s, n in Counter(seen).items() if n > 1]
    log = pg_log(r2)
    accepts = Counter(e["id"] for e in log if e["cause"] == "appointment.accept"
                      and e["entity"] == "appointment")
    assert accepts == {ids[0]: 1, ids[1]: 1}
    with loopback.Client(base_url=r2.url, timeout=30) as http:
        token = http.post("/api/auth/login", json={"username": "therapist1",
                                                   "password": DEMO_PASSWORD}).json()["token"]
        boot = http.get("/api/sync/bootstrap", headers={"Authorization": f"Bearer {token}"})
    server_view = {a["id"]: a for a in boot.json()["appointments"] if a["id"] in ids}
    assert {i: a["version"] for i, a in server_view.items()} == \
        {a["id"]: a["version"] for a in mine()}
