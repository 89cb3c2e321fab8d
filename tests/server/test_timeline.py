"""GET /api/appointments/{id}/timeline (an extension): one appointment's
history from the event log — who did what, when — shown only to those who
may see the appointment, and only the steps they would have received."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from testkit import loopback
from testkit.server import ServerProcess
from tests.server.helpers import Api, fresh_day, log_rows, make_world, new_client, service_id


@pytest.fixture(scope="module")
def srv(staff_server: ServerProcess) -> ServerProcess:
    return staff_server


def book(op: Api, therapist: Api, driver: Api | None, day: str) -> dict[str, Any]:
    aid = str(uuid.uuid4())
    return op.cmd("appointment.create", aid, client_id=new_client(op),
                  service_ids=[service_id(op)], therapist_ids=[therapist.id],
                  driver_id=driver.id if driver else None, date=day, start_time="10:00",
                  end_time="11:00", location="12 Jupiter St, Makati").ok().record


def step(api: Api, action: str, appt: dict[str, Any], **args: Any) -> dict[str, Any]:
    return api.cmd(f"appointment.{action}", appt["id"], **args).ok().record


def timeline(api: Api, aid: str) -> httpx.Response:
    return api.get(f"/api/appointments/{aid}/timeline")


def lines(api: Api, aid: str) -> list[tuple[str, str, str | None, str | None]]:
    r = timeline(api, aid)
    assert r.status_code == 200, r.text
    return [(e["actor"]["name"], e["summary"], e["status_before"], e["status_after"])
            for e in r.json()["entries"]]


def test_who_did_what_when(op: Api, t1: Api, d1: Api, srv: ServerProcess) -> None:
    day = fresh_day()
    make_world(op, day, ["therapist1"])
    appt = book(op, t1, None, day)
    appt = op.cmd("appointment.update", appt["id"], base_version=appt["version"],
                  driver_id=d1.id, start_time="10:30", end_time="11:30").ok().record
    appt = step(t1, "accept", appt)
    appt = step(d1, "confirm", appt)
    appt = step(op, "start", appt)
    step(op, "cancel", appt, reason="Client called")

    r = timeline(op, appt["id"])
    assert r.status_code == 200, r.text
    entries = r.json()["entries"]
    assert [(e["actor"]["name"], e["actor"]["role"], e["command"]) for e in entries] == [
        ("Grace Villanueva", "operator", "appointment.create"),
        ("Grace Villanueva", "operator", "appointment.update"),
        ("Ana Reyes", "therapist", "appointment.accept"),
        ("Ramon Cruz", "driver", "appointment.confirm"),
        ("Grace Villanueva", "operator", "appointment.start"),
        ("Grace Villanueva", "operator", "appointment.cancel"),
    ]
    assert [e["version"] for e in entries] == [1, 2, 3, 4, 5, 6]
    assert entries[0]["summary"] == f"booked it for {day}, 10:00–11:00 with Ana Reyes"
    assert entries[1]["summary"] == (
        f"moved it to {day}, 10:30–11:30; assigned Ramon Cruz to drive")
    assert [e["summary"] for e in entries[2:]] == [
        "accepted", "confirmed the trip", "started the appointment",
        "cancelled it: Client called",
    ]
    assert [(e["status_before"], e["status_after"]) for e in entries[2:4]] == [
        ("pending", "therapist_confirmed"), ("therapist_confirmed", "driver_confirmed")]
    assert entries[0]["actor"]["id"] == op.id and entries[2]["actor"]["id"] == t1.id
    # the instants and positions are the event log's own
    logged = {(r["seq"], r["created_at"]) for r in log_rows(srv) if r["id"] == appt["id"]}
    assert {(e["seq"], e["at"]) for e in entries} <= logged
    assert entries == sorted(entries, key=lambda e: e["seq"])


def test_side_paths_read_well(op: Api, t1: Api, t2: Api) -> None:
    day = fresh_day()
    make_world(op, day, ["therapist1", "therapist2"])
    appt = book(op, t1, None, day)
    appt = step(t1, "reject", appt, reason="I'm unwell")
    appt = step(op, "review_rejection", appt, decision="deny")
    appt = step(t1, "reject", appt, reason="Still unwell")
    step(op, "review_rejection", appt, decision="reassign", therapist_id=t2.id)
    assert [(name, summary) for name, summary, _, _ in lines(op, appt["id"])][1:] == [
        ("Ana Reyes", "rejected it: I'm unwell"),
        ("Grace Villanueva", "denied the rejection and kept the booking"),
        ("Ana Reyes", "rejected it: Still unwell"),
        ("Grace Villanueva", "reassigned it to Maria Santos"),
    ]


def test_visibility_follows_the_events_policy(op: Api, t1: Api, t2: Api, d1: Api,
                                              srv: ServerProcess) -> None:
    day = fresh_day()
    make_world(op, day, ["therapist1", "therapist2"])
    appt = book(op, t1, d1, day)
    appt = step(t1, "accept", appt)

    # the assigned therapist and driver read it; another therapist can't
    assert [s for _, s, _, _ in lines(t1, appt["id"])][1:] == ["accepted"]
    assert len(lines(d1, appt["id"])) == 2
    other = timeline(t2, appt["id"])
    assert other.status_code == 404 and other.json()["code"] == "not_found"
    assert "entries" not in other.json()
    # same answer as for an appointment that doesn't exist: nothing leaks
    missing = timeline(t2, str(uuid.uuid4()))
    assert (missing.status_code, missing.json()) == (other.status_code, other.json())
    assert timeline(op, str(uuid.uuid4())).status_code == 404
    # not signed in
    r = loopback.get(f"{srv.url}/api/appointments/{appt['id']}/timeline", timeout=15)
    assert r.status_code == 401

    # Reassigned away from therapist1 to therapist2: therapist1 loses it,
    # therapist2 gets it but only from the step that brought them in (the
    # events they would have received).
    day = fresh_day()
    make_world(op, day, ["therapist1", "therapist2"])
    other_appt = book(op, t1, None, day)
    other_appt = step(t1, "reject", other_appt, reason="Busy")
    step(op, "review_rejection", other_appt, decision="reassign", therapist_id=t2.id)
    assert timeline(t1, other_appt["id"]).status_code == 404
    seen = lines(t2, other_appt["id"])
    assert [s for _, s, _, _ in seen] == ["reassigned it to Maria Santos"]
    assert seen[0][2] is None  # nothing before it shown, not even its status
    assert len(lines(op, other_appt["id"])) == 3


def test_entries_from_events_pure() -> None:
    """The words for steps the API tests don't reach cheaply."""
    from server.events import Event
    from server.timeline import entries

    people = {"t1": {"id": "t1", "role": "therapist", "name": "Ana"},
              "d2": {"id": "d2", "role": "driver", "name": "Paolo"},
              "o1": {"id": "o1", "role": "operator", "name": "Grace"}}
    base = {"id": "a", "status": "pending", "therapist_ids": ["t1"], "created_by": "o1"}

    def ev(seq: int, cause: str, **data: Any) -> Event:
        return Event(seq, "appointment", "a", "upsert", seq, {**base, "version": seq, **data},
                     cause, frozenset(), True, False, f"2026-11-21T06:0{seq}:00Z")

    got = entries([
        ev(1, "appointment.create", date="2026-11-21", start_time="14:00", end_time="15:00"),
        ev(2, "appointments.auto_cancel_overdue", status="auto_cancelled",
           auto_cancelled_by="system"),
        ev(3, "appointment.verify_payment", status="payment_verified", payment_verified_by="o1",
           payment={"method": "bank_transfer", "amount": 1234567, "extension_amount": 250.5}),
        ev(4, "appointment.request_pickup", status="driver_assigned_pickup",
           pickup_requested_by="t1", pickup={"urgency": "urgent"}, pickup_driver_id="d2"),
        # an edit from before updated_by was stamped: nobody named
        ev(5, "appointment.update", status="driver_assigned_pickup"),
        Event(6, "appointment", "a", "delete", 6, None, "appointment.update", frozenset({"t1"}),
              False, False, "2026-11-21T06:06:00Z"),  # someone lost sight of it: not a step
    ], people)
    assert [(e["actor"]["name"], e["summary"]) for e in got] == [
        ("Grace", "booked it for 2026-11-21, 14:00–15:00 with Ana"),
        ("Tandem", "auto-cancelled it: nobody accepted in time"),
        ("Grace", "verified a bank transfer payment of 1,234,567 (extension 250.50)"),
        ("Ana", "requested an urgent pickup; Paolo was assigned to it"),
        ("Someone", "edited it"),
    ]
    assert got[1]["actor"] == {"id": "system", "name": "Tandem", "role": "system"}
    assert got[4]["actor"]["id"] is None
    assert [(e["status_before"], e["status_after"]) for e in got[:2]] == [
        (None, "pending"), ("pending", "auto_cancelled")]


async def test_the_client_side_call(op: Api, t1: Api, t2: Api, srv: ServerProcess) -> None:
    """services.Client.timeline (the views' port):
    entries as TimelineEntry, a refusal as TimelineUnavailable in words."""
    from services.client import Client
    from testkit.server import DEMO_PASSWORD
    from views.port import TimelineUnavailable

    day = fresh_day()
    make_world(op, day, ["therapist1"])
    appt = step(t1, "accept", book(op, t1, None, day))
    client = await Client.start(srv.url, "therapist2", DEMO_PASSWORD)
    mine = await Client.start(srv.url, "therapist1", DEMO_PASSWORD)
    try:
        raw = await mine.api.timeline(appt["id"])
        assert [e["summary"] for e in raw][1:] == ["accepted"]
        got = await mine.timeline(appt["id"])
        assert [(e.actor_name, e.actor_role, e.summary) for e in got][1:] == [
            ("Ana Reyes", "therapist", "accepted")]
        assert got[1].actor_id == t1.id and got[1].status_after == "therapist_confirmed"
        with pytest.raises(TimelineUnavailable, match="no history for this appointment"):
            await client.timeline(appt["id"])  # therapist2: not theirs
    finally:
        await client.stop()
        await mine.stop()
