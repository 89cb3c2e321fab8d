"""Rejection review, cancel, auto-cancel, pickup assignment and field edits."""

from __future__ import annotations

import pytest

from domain.booking import slot_problem
from domain.errors import (
    DoubleBooked,
    DriverBusy,
    Forbidden,
    InvalidArgs,
    InvalidTransition,
    NotFound,
    Unavailable,
    VersionConflict,
)
from domain.overdue import overdue
from domain.status import TERMINAL, Status
from tests.domain.world import (
    D1,
    D2,
    DAY,
    OP,
    SYSTEM,
    T1,
    T2,
    T3,
    World,
    booking,
    slot,
    world_at,
)


def test_reject_needs_a_reason() -> None:
    w = world_at("pending")
    for reason in (None, "", "   "):
        with pytest.raises(InvalidArgs, match="reason"):
            w.do(T1, "appointment.reject", "a1", **({} if reason is None else {"reason": reason}))
    assert w.appt()["status"] == "pending"


def test_reject_records_who_and_why_and_tells_the_operator() -> None:
    w = world_at("pending")
    out = w.do(T1, "appointment.reject", "a1", reason="Too far")
    appt = w.appt()
    assert appt["status"] == "rejected"
    assert appt["rejection"]["by"] == "t1" and appt["rejection"]["reason"] == "Too far"
    told = [c.record["user_id"] for c in out.changes if c.entity == "notification" and c.record]
    assert told == ["op"]


def test_driver_may_reject_when_asked_to_confirm() -> None:
    w = world_at("therapist_confirmed")
    w.do(D1, "appointment.reject", "a1", reason="Car broke down")
    assert w.appt()["rejection"]["role"] == "driver"


def test_review_deny_gives_a_fresh_deadline() -> None:
    w = world_at("rejected")
    w.later(45)  # past the first deadline
    w.do(OP, "appointment.review_rejection", "a1", decision="deny")
    appt = w.appt()
    assert appt["status"] == "pending"
    assert appt["response_deadline"] == "2026-11-21T07:15:00Z"
    # so the job does not auto-cancel it at once
    assert overdue([appt], w.now) == []


def test_review_accept_cancels_but_keeps_the_record() -> None:
    w = world_at("rejected")
    w.do(OP, "appointment.review_rejection", "a1", decision="accept")
    appt = w.appt()
    assert appt["status"] == "cancelled"
    assert appt["rejection"]["decision"] == "accept"
    assert "Too far" in appt["cancel_reason"]


def test_review_reassign_replaces_the_therapist_with_a_fresh_deadline() -> None:
    w = world_at("rejected")
    w.later(40)
    w.do(OP, "appointment.review_rejection", "a1", decision="reassign", therapist_id="t2")
    appt = w.appt()
    assert appt["status"] == "pending"
    assert appt["therapist_ids"] == ["t2"]
    assert appt["response_deadline"] == "2026-11-21T07:10:00Z"
    w.do(T2, "appointment.accept", "a1")
    assert w.appt()["status"] == "therapist_confirmed"


def test_review_reassign_checks_the_new_therapist() -> None:
    w = world_at("rejected")
    w.snap.remove("availability", "av2")
    with pytest.raises(Unavailable, match="Bea Cruz"):
        w.do(OP, "appointment.review_rejection", "a1", decision="reassign", therapist_id="t2")
    with pytest.raises(InvalidArgs, match="new therapist"):
        w.do(OP, "appointment.review_rejection", "a1", decision="reassign")
    with pytest.raises(InvalidArgs, match="decision"):
        w.do(OP, "appointment.review_rejection", "a1", decision="maybe")


def test_cancel_from_any_live_status_by_the_operator_only() -> None:
    for status in ("pending", "journey", "completed", "rejected"):
        w = world_at(status)
        with pytest.raises(Forbidden):
            w.do(T1, "appointment.cancel", "a1")
        w.do(OP, "appointment.cancel", "a1", reason="Client ill")
        assert w.appt()["status"] == "cancelled"
        assert w.appt()["cancel_reason"] == "Client ill"


def test_auto_cancel_only_touches_overdue_pending_and_is_idempotent() -> None:
    w = World()
    w.do(OP, "appointment.create", "a1", **booking())
    w.later(10)
    w.do(OP, "appointment.create", "a2", **booking(start_time="16:00", end_time="17:00"))
    w.do(OP, "appointment.create", "a3", **booking(start_time="18:00", end_time="19:00"))
    w.do(T1, "appointment.accept", "a3")
    w.later(25)  # a1 is 35 min old, a2 25 min
    assert [a["id"] for a in overdue(w.snap.all("appointment"), w.now)] == ["a1"]
    w.do(SYSTEM, "appointments.auto_cancel_overdue")
    assert w.appt("a1")["status"] == "auto_cancelled"
    assert w.appt("a2")["status"] == "pending"
    assert w.appt("a3")["status"] == "therapist_confirmed"
    again = w.do(OP, "appointments.auto_cancel_overdue")
    assert again.changes == ()
    with pytest.raises(Forbidden):
        w.do(T1, "appointments.auto_cancel_overdue")


def test_pickup_goes_to_the_longest_idle_free_driver() -> None:
    w = world_at("completed")
    # d1 became idle at drop-off (06:00); d2 has been idle since 04:00
    w.do(T1, "appointment.request_pickup", "a1", urgency="urgent", notes="gate 2")
    appt = w.appt()
    assert appt["status"] == "driver_assigned_pickup"
    assert appt["pickup_driver_id"] == "d2"
    assert appt["pickup"] == {"urgency": "urgent", "notes": "gate 2"}
    assert appt["pickup_assigned_by"] == "system"


def test_pickup_waits_for_the_operator_when_no_driver_is_free() -> None:
    w = world_at("pickup_requested")
    assert w.appt()["status"] == "pickup_requested"
    with pytest.raises(DriverBusy, match="not free"):
        w.do(OP, "appointment.assign_pickup_driver", "a1", driver_id="d2")  # off duty
    w.do(D2, "staff.set_duty", "d2", on_duty=True)
    w.do(OP, "appointment.assign_pickup_driver", "a1", driver_id="d2")
    assert w.appt()["status"] == "driver_assigned_pickup"
    # a second operator, a moment later, with another driver: one outcome
    with pytest.raises(InvalidTransition, match="already assigned to a pickup driver"):
        w.do(OP, "appointment.assign_pickup_driver", "a1", driver_id="d1")


def test_auto_assign_job_serves_urgent_pickups_first() -> None:
    w = world_at("pickup_requested")
    w.do(D2, "staff.set_duty", "d2", on_duty=True)
    out = w.do(SYSTEM, "appointments.auto_assign_pickups")
    assert w.appt()["pickup_driver_id"] == "d2"
    assert [c.entity for c in out.changes] == ["appointment", "notification"]
    assert w.do(SYSTEM, "appointments.auto_assign_pickups").changes == ()


def test_request_pickup_validates_urgency() -> None:
    w = world_at("completed")
    with pytest.raises(InvalidArgs, match="urgency"):
        w.do(T1, "appointment.request_pickup", "a1", urgency="asap")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"method": "cheque", "amount": 10}, "payment method"),
        ({"method": "cash", "amount": 0}, "more than zero"),
        ({"method": "cash", "amount": -5}, "more than zero"),
        ({"method": "cash", "amount": "100"}, "as a number"),
        ({"method": "cash"}, "as a number"),
        ({"method": "gcash", "amount": 10}, "receipt reference"),
        ({"method": "card", "amount": 10, "receipt_ref": " "}, "receipt reference"),
        ({"method": "cash", "amount": 10, "extension_amount": 0}, "extension"),
        ({"method": "cash", "amount": 10, "tip": 3}, "Unknown field"),
    ],
)
def test_payment_validation(args: dict[str, object], message: str) -> None:
    w = world_at("awaiting_payment")
    before = w.state()
    with pytest.raises(InvalidArgs, match=message):
        w.do(OP, "appointment.verify_payment", "a1", **args)
    assert w.state() == before


def test_payment_with_receipt_and_extension() -> None:
    w = world_at("awaiting_payment")
    w.do(
        OP,
        "appointment.verify_payment",
        "a1",
        method="gcash",
        amount=900,
        receipt_ref="GC-123",
        extension_amount=300,
    )
    assert w.appt()["payment"]["extension_amount"] == 300.0


@pytest.mark.parametrize(
    "missing",
    ["client_id", "service_ids", "therapist_ids", "date", "start_time", "end_time", "location"],
)
def test_create_requires_each_field(missing: str) -> None:
    w = World()
    args = booking()
    del args[missing]
    with pytest.raises(InvalidArgs, match="Please"):
        w.do(OP, "appointment.create", "a1", **args)
    assert w.snap.get("appointment", "a1") is None


def test_create_refuses_bad_values() -> None:
    w = World()
    for bad in (
        {"date": "21/11/2026"},
        {"start_time": "25:00"},
        {"therapist_ids": []},
        {"service_ids": "s1"},
        {"start_time": "15:00"},
    ):
        with pytest.raises(InvalidArgs):
            w.do(OP, "appointment.create", "a1", **booking(**bad))
    with pytest.raises(Forbidden):
        w.do(T1, "appointment.create", "a1", **booking())


def test_booking_needs_an_available_therapist() -> None:
    w = World()
    with pytest.raises(Unavailable, match="Ana Reyes isn't available"):
        w.do(OP, "appointment.create", "a1", **booking(start_time="19:30", end_time="20:30"))
    w.snap.put("availability", slot("av1", "t1", available=False))
    with pytest.raises(Unavailable):
        w.do(OP, "appointment.create", "a1", **booking())


def test_a_booking_past_midnight_fits_a_slot_past_midnight() -> None:
    w = World()
    w.snap.put("availability", slot("night", "t3", start="21:00", end="03:00"))
    w.do(
        OP,
        "appointment.create",
        "a1",
        **booking(therapist_ids=["t3"], start_time="23:30", end_time="01:00"),
    )
    # and the next morning's 00:30 booking clashes with it
    w.snap.put("availability", slot("early", "t3", start="00:00", end="06:00", day="2026-11-22"))
    with pytest.raises(DoubleBooked):
        w.do(
            OP,
            "appointment.create",
            "a2",
            **booking(
                therapist_ids=["t3"], date="2026-11-22", start_time="00:30", end_time="01:30"
            ),
        )


NEXT_DAY = "2026-11-22"

# A slot on DAY from 22:00 to 03:00 runs into the next morning:
# (booking date, start, end) -> whether the slot covers it
NIGHT_BOOKINGS: list[tuple[str, str, str, bool]] = [
    (NEXT_DAY, "00:30", "01:30", True),
    (NEXT_DAY, "00:00", "03:00", True),
    (DAY, "22:00", "03:00", True),
    (DAY, "23:30", "00:30", True),
    (NEXT_DAY, "02:30", "03:30", False),  # runs past the slot's end
    (DAY, "00:30", "01:30", False),  # the morning before the slot
    (DAY, "21:30", "22:30", False),  # starts before it
    ("2026-11-23", "00:30", "01:30", False),  # a night later
]


@pytest.mark.parametrize(("day", "start", "end", "covered"), NIGHT_BOOKINGS)
def test_a_slot_past_midnight_covers_bookings_of_the_next_morning(
    day: str, start: str, end: str, covered: bool
) -> None:
    w = World()
    w.snap.put("availability", slot("night", "t3", start="22:00", end="03:00"))
    args = booking(therapist_ids=["t3"], date=day, start_time=start, end_time=end)
    problem = slot_problem(w.snap, ["t3"], day, start, end)
    if not covered:
        assert problem is not None and "Cara Lim isn't available" in problem
        with pytest.raises(Unavailable, match="Cara Lim isn't available"):
            w.do(OP, "appointment.create", "a1", **args)
        return
    assert problem is None
    w.do(OP, "appointment.create", "a1", **args)
    assert w.appt()["date"] == day and w.appt()["start_time"] == start


@pytest.mark.parametrize("status", sorted(set(Status) - TERMINAL))
def test_double_booking_is_checked_against_every_non_terminal_status(status: Status) -> None:
    w = world_at(status)
    assert w.appt()["status"] == status
    with pytest.raises(DoubleBooked, match="already booked"):
        w.do(OP, "appointment.create", "a2", **booking(start_time="14:30", end_time="15:30"))


@pytest.mark.parametrize("status", sorted(TERMINAL))
def test_terminal_appointments_free_the_slot(status: Status) -> None:
    w = world_at(status)
    assert w.appt()["status"] == status
    w.do(OP, "appointment.create", "a2", **booking(start_time="14:30", end_time="15:30"))


def test_field_edit_needs_the_current_version() -> None:
    w = world_at("pending")
    with pytest.raises(VersionConflict):
        w.do(OP, "appointment.update", "a1", base_version=0, notes="ring twice")
    w.do(OP, "appointment.update", "a1", base_version=1, notes="ring twice")
    assert w.appt()["notes"] == "ring twice" and w.appt()["version"] == 2


def test_rescheduling_a_confirmed_booking_asks_the_therapist_again() -> None:
    w = world_at("therapist_confirmed")
    v = w.appt()["version"]
    w.do(OP, "appointment.update", "a1", base_version=v, start_time="16:00", end_time="17:00")
    appt = w.appt()
    assert appt["status"] == "pending" and appt["accepted_ids"] == []


def test_schedule_is_frozen_once_started() -> None:
    w = world_at("journey")
    with pytest.raises(InvalidTransition, match="Can't change the schedule"):
        w.do(OP, "appointment.update", "a1", base_version=w.appt()["version"], start_time="16:00")


def test_operator_can_assign_a_driver_later() -> None:
    w = World()
    w.do(OP, "appointment.create", "a1", **booking(driver_id=None))
    w.do(T1, "appointment.accept", "a1")
    with pytest.raises(NotFound):  # not theirs yet: they can't even see it
        w.do(D1, "appointment.confirm", "a1")
    w.do(OP, "appointment.update", "a1", base_version=w.appt()["version"], driver_id="d1")
    w.do(D1, "appointment.confirm", "a1")
    assert w.appt()["status"] == "driver_confirmed"


def test_staff_duty_is_own_unless_operator() -> None:
    w = World()
    with pytest.raises(Forbidden):
        w.do(D1, "staff.set_duty", "d2", on_duty=False)
    w.do(OP, "staff.set_duty", "d2", on_duty=False)
    with pytest.raises(InvalidArgs):
        w.do(D2, "staff.set_duty", "d2", on_duty="yes")


def test_notifications_are_marked_read_by_their_owner_only() -> None:
    w = World()
    w.do(OP, "appointment.create", "a1", **booking(therapist_ids=["t1", "t3"]))
    mine = [n for n in w.snap.all("notification") if n["user_id"] == "t1"]
    theirs = [n for n in w.snap.all("notification") if n["user_id"] == "t3"]
    assert len(mine) == 1 and len(theirs) == 1
    with pytest.raises(NotFound):
        w.do(T1, "notification.mark_read", theirs[0]["id"])
    w.do(T1, "notification.mark_read", mine[0]["id"])
    assert w.snap.get("notification", mine[0]["id"])["read"] is True  # type: ignore[index]
    out = w.do(T3, "notification.mark_all_read")
    assert [c.id for c in out.changes] == [theirs[0]["id"]]


def test_clients_are_the_operators_business() -> None:
    w = World()
    args = {"first_name": "Jo", "last_name": "Cruz", "phone": "0918", "address": "5 Luna"}
    with pytest.raises(Forbidden):
        w.do(T2, "client.create", "c2", **args)
    w.do(OP, "client.create", "c2", **args)
    with pytest.raises(InvalidArgs, match="already exists"):
        w.do(OP, "client.create", "c2", **args)
    with pytest.raises(InvalidArgs, match="email"):
        w.do(OP, "client.update", "c2", email="nope")
    w.do(OP, "client.update", "c2", notes="allergic to lavender")
    assert w.snap.get("client", "c2")["version"] == 2  # type: ignore[index]


def test_idle_drivers_are_ordered_by_when_they_became_free() -> None:
    from domain.pickup import free_drivers

    w = world_at("journey")  # d1 is busy driving
    assert [d["id"] for d in free_drivers(w.snap.all("staff"), w.snap.all("appointment"))] == ["d2"]
