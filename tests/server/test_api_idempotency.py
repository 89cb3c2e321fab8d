"""Exactly once: (client_id, seq) answers every retry with the first answer."""

from __future__ import annotations

import asyncio
import uuid

from testkit import loopback
from testkit.server import ServerProcess
from tests.server.helpers import Api, fresh_day, log_rows


async def test_same_command_five_times_at_once_applies_once(
    staff_server: ServerProcess,
) -> None:
    t1 = Api(staff_server, "therapist1")
    body = t1.body("availability.create", str(uuid.uuid4()), date=fresh_day(),
                   start_time="08:00", end_time="12:00", available=True)
    before = len(log_rows(staff_server))
    async with loopback.AsyncClient(base_url=staff_server.url, headers=t1.headers,
                                 timeout=30) as http:
        answers = await asyncio.gather(*(http.post("/api/commands", json=body)
                                         for _ in range(5)))
    assert [a.status_code for a in answers] == [200] * 5
    assert len({a.content for a in answers}) == 1  # the very same answer
    assert answers[0].json()["status"] == "applied"
    rows = log_rows(staff_server)[before:]
    assert [(r["entity"], r["id"]) for r in rows] == [("availability", body["target"])]


def test_a_rejection_is_remembered_too(staff_server: ServerProcess) -> None:
    t1 = Api(staff_server, "therapist1")
    day = fresh_day()
    t1.cmd("availability.create", str(uuid.uuid4()), date=day, start_time="08:00",
           end_time="12:00", available=True).ok()
    clash = t1.body("availability.create", str(uuid.uuid4()), date=day,
                    start_time="09:00", end_time="10:00", available=True)
    first = t1.send(clash)
    assert (first.status, first.code) == (409, "availability_overlap")
    # The world changes so the command would now succeed, but a retry is a retry.
    slot = [s for s in t1.bootstrap()["availability"] if s["date"] == day][0]
    t1.cmd("availability.delete", slot["id"]).ok()
    again = t1.send(clash)
    assert (again.status, again.body) == (first.status, first.body)


def test_someone_elses_client_id_is_refused(staff_server: ServerProcess) -> None:
    t1, t2 = Api(staff_server, "therapist1"), Api(staff_server, "therapist2")
    body = t1.body("availability.create", str(uuid.uuid4()), date=fresh_day(),
                   start_time="08:00", end_time="12:00", available=True)
    t1.send(body).ok()
    stolen = t2.send(body)
    assert (stolen.status, stolen.code) == (409, "duplicate_command")
    assert "record" not in stolen.body


def test_retry_survives_a_server_restart(server_factory: object) -> None:
    srv = server_factory(seed="staff")  # type: ignore[operator]
    t1 = Api(srv, "therapist1")
    body = t1.body("availability.create", str(uuid.uuid4()), date=fresh_day(),
                   start_time="08:00", end_time="12:00", available=True)
    first = t1.send(body).ok()
    srv.kill()
    srv.start()
    again = t1.send(body)  # the same token still works: the secret is kept
    assert (again.status, again.body) == (200, first.body)
    assert sum(r["id"] == body["target"] for r in log_rows(srv)) == 1
