"""The appointment lifecycle driven through the real API by the three roles,
and the side paths (reject → deny / accept / reassign, cancel, group booking,
payment validation)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from testkit.server import ServerProcess
from tests.server.helpers import Api, fresh_day, make_world, new_client, service_id


@pytest.fixture(scope="module")
def srv(staff_server: ServerProcess) -> ServerProcess:
    return staff_server


def book(op: Api, therapists: list[Api], driver: Api | None, *, day: str | None = None,
         start: str = "10:00", end: str = "11:00") -> dict[str, Any]:
    day = day or fresh_day()
    make_world(op, day, [t.username for t in therapists])
    aid = str(uuid.uuid4())
    answer = op.cmd("appointment.create", aid, client_id=new_client(op),
                    service_ids=[service_id(op)], therapist_ids=[t.id for t in therapists],
                    driver_id=driver.id if driver else None, date=day, start_time=start,
                    end_time=end, location="12 Jupiter St, Makati").ok()
    return answer.record


def step(api: Api, action: str, appt: dict[str, Any], **args: Any) -> dict[str, Any]:
    rec = api.cmd(f"appointment.{action}", appt["id"], **args).ok().record
    assert rec["version"] == appt["version"] + 1, (action, rec)
    return rec


def test_main_path_through_the_api(op: Api, t1: Api, d1: Api, d2: Api,
                                   srv: ServerProcess) -> None:
    appt = book(op, [t1], d1)
    assert appt["status"] == "pending" and appt["version"] == 1
    assert appt["response_deadline"] and appt["client_name"] == "Test Client"

    appt = step(t1, "accept", appt)
    assert appt["status"] == "therapist_confirmed" and appt["accepted_by"] == t1.id
    for api, action, status in (
        (d1, "confirm", "driver_confirmed"),
        (op, "start", "in_progress"),
        (d1, "start_journey", "journey"),
        (d1, "arrive", "arrived"),
        (d1, "drop_off", "dropped_off"),
        (t1, "start_session", "session_in_progress"),
        (t1, "request_payment", "awaiting_payment"),
    ):
        appt = step(api, action, appt)
        assert appt["status"] == status
    appt = step(op, "verify_payment", appt, method="gcash", amount=1500,
                receipt_ref="GC-1", extension_amount=300)
    assert appt["payment"]["amount"] == 1500 and appt["payment_verified_by"] == op.id
    appt = step(t1, "complete", appt, materials=[{"name": "oil", "quantity": 2}])
    assert appt["status"] == "completed" and appt["materials"][0]["name"] == "oil"

    # Both drivers are free: the longest-idle one gets the pickup at once.
    # driver1 became idle at the drop-off above; driver2 has been idle since
    # the seed (domain.pickup: the oldest last_available_at goes first).
    idle = {s["id"]: s["last_available_at"] for s in op.bootstrap()["staff"]}
    assert idle[d2.id] < idle[d1.id], idle
    appt = step(t1, "request_pickup", appt, urgency="urgent", notes="gate 2")
    assert appt["status"] == "driver_assigned_pickup"
    assert appt["pickup_driver_id"] == d2.id
    pickup = d2
    appt = step(pickup, "confirm_pickup", appt)
    appt = step(pickup, "complete_return", appt)
    assert appt["status"] == "transport_completed" and appt["returned_by"] == pickup.id

    # Each role saw it; the therapist got the notifications meant for them.
    notes = {n["kind"] for n in t1.bootstrap()["notifications"]
             if n["appointment_id"] == appt["id"]}
    assert {"created", "driver_confirmed", "started", "payment_verified"} <= notes
    assert any(n["kind"] == "pickup_assigned" for n in pickup.bootstrap()["notifications"])


def test_wrong_party_and_wrong_status_are_refused(op: Api, t1: Api, t2: Api, d1: Api) -> None:
    appt = book(op, [t1], d1)
    a = d1.cmd("appointment.accept", appt["id"])
    assert (a.status, a.code) == (403, "forbidden")
    a = t2.cmd("appointment.accept", appt["id"])  # not theirs: looks like nothing there
    assert (a.status, a.code) == (404, "not_found")
    a = op.cmd("appointment.start", appt["id"])
    assert (a.status, a.code) == (409, "invalid_transition")
    assert "driver hasn't confirmed" in a.body["message"]
    t1.cmd("appointment.accept", appt["id"]).ok()
    a = t1.cmd("appointment.accept", appt["id"])
    assert (a.status, a.code) == (409, "invalid_transition")


def test_group_booking_moves_when_everyone_accepted(op: Api, t1: Api, t2: Api,
                                                    t3: Api) -> None:
    appt = book(op, [t1, t2], None, start="14:00", end="15:30")
    appt = step(t1, "accept", appt)
    assert appt["status"] == "pending" and appt["accepted_ids"] == [t1.id]
    appt = step(t2, "accept", appt)
    assert appt["status"] == "therapist_confirmed"
    assert appt["id"] in {a["id"] for a in t2.bootstrap()["appointments"]}
    assert appt["id"] not in {a["id"] for a in t3.bootstrap()["appointments"]}


def test_reject_then_deny(op: Api, t1: Api) -> None:
    appt = book(op, [t1], None)
    missing = t1.cmd("appointment.reject", appt["id"])
    assert (missing.status, missing.code) == (422, "invalid_args")
    appt = step(t1, "reject", appt, reason="Too far for me today")
    assert appt["status"] == "rejected" and appt["rejection"]["reason"] == "Too far for me today"
    assert any(n["kind"] == "rejected" and n["appointment_id"] == appt["id"]
               for n in op.bootstrap()["notifications"])
    appt = step(op, "review_rejection", appt, decision="deny", reason="Please take it")
    assert appt["status"] == "pending" and appt["rejection"]["decision"] == "deny"


def test_reject_then_accept_cancels_and_keeps_it(op: Api, t1: Api) -> None:
    appt = book(op, [t1], None)
    appt = step(t1, "reject", appt, reason="Sick")
    appt = step(op, "review_rejection", appt, decision="accept")
    assert appt["status"] == "cancelled"
    assert appt["id"] in {a["id"] for a in op.bootstrap()["appointments"]}


def test_reject_then_reassign_moves_it_between_therapists(op: Api, t1: Api, t2: Api) -> None:
    day = fresh_day()
    make_world(op, day, ["therapist2"])
    appt = book(op, [t1], None, day=day)
    cursor = t1.cursor()
    appt = step(t1, "reject", appt, reason="Double shift")
    appt = step(op, "review_rejection", appt, decision="reassign", therapist_id=t2.id)
    assert appt["status"] == "pending" and appt["therapist_ids"] == [t2.id]
    # therapist1 is told to drop it; therapist2 now has it.
    mine = [e for e in t1.events(cursor) if e["id"] == appt["id"]]
    assert mine[-1]["op"] == "delete" and mine[-1]["data"] is None
    assert appt["id"] not in {a["id"] for a in t1.bootstrap()["appointments"]}
    assert appt["id"] in {a["id"] for a in t2.bootstrap()["appointments"]}
    step(t2, "accept", appt)


def test_cancel_then_nobody_can_act(op: Api, t1: Api) -> None:
    appt = book(op, [t1], None)
    appt = step(op, "cancel", appt, reason="Client called")
    assert appt["status"] == "cancelled" and appt["cancel_reason"] == "Client called"
    a = t1.cmd("appointment.accept", appt["id"])
    assert (a.status, a.code) == (409, "invalid_transition")
    a = op.cmd("appointment.cancel", appt["id"])
    assert (a.status, a.code) == (409, "invalid_transition")


def test_payment_validation_failures(op: Api, t1: Api, d1: Api) -> None:
    appt = book(op, [t1], d1, start="16:00", end="17:00")
    for api, action in ((t1, "accept"), (d1, "confirm"), (op, "start"), (d1, "start_journey"),
                        (d1, "arrive"), (d1, "drop_off"), (t1, "start_session"),
                        (t1, "request_payment")):
        appt = step(api, action, appt)
    bad: list[dict[str, Any]] = [
        {"method": "bitcoin", "amount": 100},
        {"method": "gcash", "amount": 0, "receipt_ref": "X"},
        {"method": "gcash", "amount": -5, "receipt_ref": "X"},
        {"method": "card", "amount": "a lot", "receipt_ref": "X"},
        {"method": "gcash", "amount": 100},  # no receipt reference
        {"method": "cash", "amount": 100, "tip": 5},  # unknown field
    ]
    for args in bad:
        a = op.cmd("appointment.verify_payment", appt["id"], **args)
        assert (a.status, a.code) == (422, "invalid_args"), (args, a.body)
        assert a.body["message"]
    a = t1.cmd("appointment.verify_payment", appt["id"], method="cash", amount=100)
    assert (a.status, a.code) == (403, "forbidden")
    appt = step(op, "verify_payment", appt, method="cash", amount=900)
    assert appt["payment"]["receipt_ref"] is None
    # Finish the trip so the driver is free for the other tests.
    for api, action in ((t1, "complete"),):
        appt = step(api, action, appt)


def test_update_with_a_stale_version_conflicts(op: Api, t1: Api) -> None:
    appt = book(op, [t1], None)
    ok = op.cmd("appointment.update", appt["id"], base_version=1, notes="Ring twice").ok()
    assert ok.record["version"] == 2 and ok.record["notes"] == "Ring twice"
    stale = op.cmd("appointment.update", appt["id"], base_version=1, notes="Knock")
    assert (stale.status, stale.code) == (409, "version_conflict")


def test_double_booking_and_unavailable(op: Api, t1: Api) -> None:
    day = fresh_day()
    book(op, [t1], None, day=day, start="10:00", end="11:00")
    a = op.cmd("appointment.create", str(uuid.uuid4()), client_id=new_client(op),
               service_ids=[service_id(op)], therapist_ids=[t1.id], date=day,
               start_time="10:30", end_time="11:30", location="x")
    assert (a.status, a.code) == (409, "double_booked")
    a = op.cmd("appointment.create", str(uuid.uuid4()), client_id=new_client(op),
               service_ids=[service_id(op)], therapist_ids=[t1.id], date=fresh_day(),
               start_time="10:30", end_time="11:30", location="x")
    assert (a.status, a.code) == (409, "therapist_unavailable")


def test_availability_commands(op: Api, t1: Api, t2: Api) -> None:
    day = fresh_day()
    slot = t1.cmd("availability.create", str(uuid.uuid4()), date=day, start_time="08:00",
                  end_time="12:00", available=True).ok().record
    assert slot["user_id"] == t1.id
    a = t1.cmd("availability.create", str(uuid.uuid4()), date=day, start_time="11:00",
               end_time="13:00", available=True)
    assert (a.status, a.code) == (409, "availability_overlap")
    a = t2.cmd("availability.update", slot["id"], base_version=1, available=False)
    assert (a.status, a.code) == (404, "not_found")
    slot = t1.cmd("availability.update", slot["id"], base_version=1, available=False).ok().record
    a = t1.cmd("availability.update", slot["id"], base_version=1, available=True)
    assert (a.status, a.code) == (409, "version_conflict")
    bulk = t1.cmd("availability.bulk_create", None, date=day,
                  slots=[{"start_time": "13:00", "end_time": "15:00"},
                         {"start_time": "22:00", "end_time": "02:00"}]).ok()
    assert len(bulk.body["changes"]) == 2
    cursor = t1.cursor()
    deleted = t1.cmd("availability.delete", slot["id"]).ok()
    assert deleted.body["changes"][0]["op"] == "delete"
    assert [e["op"] for e in t1.events(cursor) if e["id"] == slot["id"]] == ["delete"]


def test_notifications_mark_read(op: Api, t1: Api) -> None:
    book(op, [t1], None)
    unread = [n for n in t1.bootstrap()["notifications"] if not n["read"]]
    assert unread
    one = t1.cmd("notification.mark_read", unread[0]["id"]).ok()
    assert one.record["read"] is True
    a = op.cmd("notification.mark_read", unread[0]["id"])  # not the operator's
    assert (a.status, a.code) == (404, "not_found")
    t1.cmd("notification.mark_all_read").ok()
    assert not [n for n in t1.bootstrap()["notifications"] if not n["read"]]


def test_a_driver_assigned_by_an_edit_is_told(op: Api, t1: Api, d1: Api, d2: Api) -> None:
    appt = book(op, [t1], None)
    cursor = d1.cursor()
    appt = op.cmd("appointment.update", appt["id"], base_version=appt["version"],
                  driver_id=d1.id).ok().record
    assert appt["driver_id"] == d1.id
    # driver1 gets the appointment and an "assigned" notification, on the stream too.
    got = [(e["entity"], e["op"]) for e in d1.events(cursor)
           if e["id"] == appt["id"] or (e["data"] or {}).get("appointment_id") == appt["id"]]
    assert got == [("appointment", "upsert"), ("notification", "upsert")], got
    notes = [n for n in d1.bootstrap()["notifications"] if n["appointment_id"] == appt["id"]]
    assert [n["kind"] for n in notes] == ["assigned"] and notes[0]["read"] is False
    # The therapist, already on it, isn't told again.
    assert [n["kind"] for n in t1.bootstrap()["notifications"]
            if n["appointment_id"] == appt["id"]] == ["created"]
    # Another driver instead: driver2 is told, driver1 is told to drop it.
    cursor = d1.cursor()
    appt = op.cmd("appointment.update", appt["id"], base_version=appt["version"],
                  driver_id=d2.id).ok().record
    assert [n["kind"] for n in d2.bootstrap()["notifications"]
            if n["appointment_id"] == appt["id"]] == ["assigned"]
    mine = [e for e in d1.events(cursor) if e["id"] == appt["id"]]
    assert [e["op"] for e in mine] == ["delete"]
