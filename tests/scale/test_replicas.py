"""Two replicas of the real server on one PostgreSQL database.

What a client does on one replica reaches sockets on the other (LISTEN/NOTIFY
fan-out), a token signed by one is accepted by the other (shared
TANDEM_SECRET_KEY), concurrent writers on both keep commit order = sequence
order (readers never see a gap), and the jobs running on both never act twice
on one appointment.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
import orjson

from testkit import loopback
from testkit.server import ServerProcess
from tests.scale.conftest import Replicas
from tests.scale.helpers import pg_log
from tests.server.helpers import Api, Stream, fresh_day, make_world, new_client, service_id, stream
from tests.support.postgres import query


def head(srv: ServerProcess) -> int:
    return int(loopback.get(srv.url + "/api/health", timeout=15).json()["cursor"])


async def collect(s: Stream, seqs: list[int]) -> None:
    """Append the seq of every event frame until cancelled."""
    while True:
        frame = await s.frame(timeout=300)
        if frame["type"] == "event":
            seqs.append(frame["event"]["seq"])


def book(op: Api, therapist: Api, day: str, hour: int = 10,
         driver: Api | None = None) -> str:
    aid = str(uuid.uuid4())
    op.cmd("appointment.create", aid, client_id=new_client(op), service_ids=[service_id(op)],
           therapist_ids=[therapist.id], driver_id=driver.id if driver else None, date=day,
           start_time=f"{hour:02d}:00", end_time=f"{hour:02d}:50", location="x").ok()
    return aid


async def test_an_action_on_one_replica_reaches_the_other_and_tokens_work_on_both(
    replicas: Replicas,
) -> None:
    r1, r2 = replicas(2)
    op, t1 = Api(r1, "operator"), Api(r1, "therapist1")  # both signed in on replica 1
    day = fresh_day()
    make_world(op, day, ["therapist1"])
    start = head(r2)
    # therapist1's token from replica 1 opens a stream on replica 2 ...
    async with stream(r2, t1.token, start) as on_r2, stream(r1, op.token, start) as on_r1:
        aid = await asyncio.to_thread(book, op, t1, day)  # ... the operator acts on replica 1
        seen = await on_r2.until(head(r1))
        created = [e for e in seen if e["id"] == aid]
        assert created and created[-1]["data"]["status"] == "pending"
        # ... and acts on replica 2 with it; the operator's stream on replica 1 sees that.
        accept = await asyncio.to_thread(
            httpx.post, r2.url + "/api/commands", json=t1.body("appointment.accept", aid),
            headers=t1.headers, timeout=30)
        assert accept.status_code == 200, accept.text
        cursor = accept.json()["cursor"]
        back = await on_r1.until(cursor)
        assert any(e["id"] == aid and e["data"]["status"] == "therapist_confirmed" for e in back)
    boot = loopback.get(r2.url + "/api/sync/bootstrap", headers=t1.headers, timeout=30).json()
    assert next(a for a in boot["appointments"] if a["id"] == aid)["status"] == \
        "therapist_confirmed"
    assert boot["cursor"] >= cursor


async def test_concurrent_writers_on_two_replicas_never_show_a_gap(replicas: Replicas) -> None:
    r1, r2 = replicas(2)
    ops = {r1.port: Api(r1, "operator"), r2.port: Api(r2, "operator")}
    start = max(head(r1), head(r2))
    writing = True
    polled: dict[str, list[int]] = {}

    async def poll(srv: ServerProcess, name: str) -> None:
        """Page through /api/events while writes land: each page must continue
        exactly where the last one stopped (the operator sees every event)."""
        api, cursor, seen = ops[srv.port], start, polled.setdefault(name, [])
        async with loopback.AsyncClient(base_url=srv.url, headers=api.headers, timeout=30) as http:
            while True:
                done = not writing
                r = await http.get("/api/events", params={"after": cursor, "limit": 50})
                assert r.status_code == 200, r.text
                seqs = [e["seq"] for e in r.json()["events"]]
                assert seqs == list(range(cursor + 1, cursor + 1 + len(seqs))), (cursor, seqs)
                seen += seqs
                cursor = r.json()["cursor"]
                if done and not seqs:
                    return
                await asyncio.sleep(0.01)

    async def write(srv: ServerProcess, n: int) -> None:
        api = ops[srv.port]
        async with loopback.AsyncClient(base_url=srv.url, headers=api.headers, timeout=60) as http:
            for _ in range(n):
                body = api.body("client.create", str(uuid.uuid4()), first_name="Load",
                                last_name="Test", phone="+63 900 000 0000", address="1 St")
                r = await http.post("/api/commands", json=body)
                assert r.status_code == 200, r.text

    async with stream(r1, ops[r1.port].token, start) as s1, \
            stream(r2, ops[r2.port].token, start) as s2:
        # Sockets are read all along (live, not a backlog read at the end).
        got: list[list[int]] = [[], []]
        readers = [asyncio.create_task(collect(s, seqs)) for s, seqs in zip((s1, s2), got,
                                                                           strict=True)]
        pollers = [asyncio.create_task(poll(r1, "r1")), asyncio.create_task(poll(r2, "r2"))]
        # 3 writers per replica, all at once: the two replicas contend for the head lock.
        await asyncio.gather(*(write(srv, 12) for srv in (r1, r2) for _ in range(3)))
        writing = False
        log = await asyncio.to_thread(pg_log, r1, start)
        end = log[-1]["seq"]
        assert [e["seq"] for e in log] == list(range(start + 1, end + 1))
        assert len(log) >= 72
        await asyncio.gather(*pollers)
        async with asyncio.timeout(60):
            while any(not seqs or seqs[-1] < end for seqs in got):
                assert not any(r.done() for r in readers)
                await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # anything extra (a repeat) would show up now
        for r in readers:
            r.cancel()
    for seqs in got:
        assert seqs == list(range(start + 1, end + 1))  # in order, no gap, no repeat
    for seqs in polled.values():
        assert seqs == list(range(start + 1, end + 1))


def test_jobs_on_both_replicas_never_act_twice(replicas: Replicas) -> None:
    # Both replicas run both jobs every 0.2 s. Bookings made on replica 1 are
    # overdue at once (0 response minutes); replica 2 gives the usual 30.
    fast_jobs = ("--auto-cancel-interval", "0.2", "--pickup-interval", "0.2")
    r1, r2 = replicas(2, args=fast_jobs, own_args=(("--response-minutes", "0"),
                                                   ("--response-minutes", "30")))
    op, t1 = Api(r1, "operator"), Api(r1, "therapist1")
    op2, d1, d2 = Api(r2, "operator"), Api(r2, "driver1"), Api(r2, "driver2")
    day = fresh_day()
    make_world(op, day, ["therapist1"])
    # Overdue at once (0 response minutes): both replicas' sweeps race for them.
    overdue = [book(op, t1, day, 8 + i) for i in range(6)]

    def status(aid: str) -> str:
        rows = query(r1.database_url,
                     "SELECT data FROM records WHERE entity = 'appointment' AND id = $1", aid)
        return str(orjson.loads(rows[0]["data"])["status"])

    deadline = time.monotonic() + 60
    while any(status(a) != "auto_cancelled" for a in overdue):
        assert time.monotonic() < deadline, [status(a) for a in overdue]
        time.sleep(0.2)

    # A pickup waits for a driver; one comes on duty; both replicas' jobs try.
    aid = book(op2, t1, day, 20, driver=d1)  # on replica 2: not overdue
    steps: list[tuple[Api, str, dict[str, Any]]] = [
        (t1, "accept", {}), (d1, "confirm", {}), (op, "start", {}), (d1, "start_journey", {}),
        (d1, "arrive", {}), (d1, "drop_off", {}), (t1, "start_session", {}),
        (t1, "request_payment", {}), (op2, "verify_payment", {"method": "cash", "amount": 800}),
        (t1, "complete", {}),
    ]
    for who, action, args in steps:
        who.cmd(f"appointment.{action}", aid, **args).ok()
    for d in (d1, d2):
        d.cmd("staff.set_duty", d.id, on_duty=False).ok()
    t1.cmd("appointment.request_pickup", aid, urgency="normal").ok()
    d2.cmd("staff.set_duty", d2.id, on_duty=True).ok()
    d1.cmd("staff.set_duty", d1.id, on_duty=True).ok()
    deadline = time.monotonic() + 60
    while status(aid) != "driver_assigned_pickup":
        assert time.monotonic() < deadline, status(aid)
        time.sleep(0.2)
    time.sleep(1.0)  # several more job runs on both replicas

    log = pg_log(r1)
    for a in overdue:
        cancels = [e for e in log if e["id"] == a and e["cause"] ==
                   "appointments.auto_cancel_overdue" and e["entity"] == "appointment"]
        assert len(cancels) == 1, cancels
    assigned = [e for e in log if e["id"] == aid and e["entity"] == "appointment"
                and e["cause"] == "appointments.auto_assign_pickups"]
    assert len(assigned) == 1, assigned
