"""Field edits of a booking that therapists are answering, and the rejection
review after such an edit: acceptances hold only for the team and the slot
they were given for."""

from __future__ import annotations

from typing import Any

import pytest

from domain import Actor, Outcome
from domain.errors import InvalidArgs
from tests.domain.world import D1, D2, OP, T1, T2, T3, World, booking

FIRST_DEADLINE = "2026-11-21T06:30:00Z"  # created at 06:00
FRESH_DEADLINE = "2026-11-21T06:50:00Z"  # edited at 06:20
MOVED = {"start_time": "16:00", "end_time": "17:00"}
SAME_TIMES = {"start_time": "14:00", "end_time": "15:00"}


def group(*accepted: Actor, driver_confirmed: bool = False) -> World:
    """a1: t1 and t2 at 14:00-15:00 with d1, accepted by `accepted`."""
    w = World()
    w.do(OP, "appointment.create", "a1", **booking(therapist_ids=["t1", "t2"]))
    for therapist in accepted:
        w.do(therapist, "appointment.accept", "a1")
    if driver_confirmed:
        w.do(D1, "appointment.confirm", "a1")
    return w


def edit(w: World, **args: Any) -> Outcome:
    return w.do(OP, "appointment.update", "a1", base_version=w.appt()["version"], **args)


# (case, accepted before, driver confirmed, edit, status after, accepted after, deadline after)
EDITS: list[tuple[str, tuple[Actor, ...], bool, dict[str, Any], str, list[str], str]] = [
    (
        "pending: the one who hasn't answered is dropped",
        (T1,),
        False,
        {"therapist_ids": ["t1"]},
        "therapist_confirmed",
        ["t1"],
        FIRST_DEADLINE,
    ),
    (
        "pending: the one who hasn't answered is replaced",
        (T1,),
        False,
        {"therapist_ids": ["t1", "t3"]},
        "pending",
        ["t1"],
        FRESH_DEADLINE,
    ),
    (
        "pending: the one who accepted is replaced",
        (T1,),
        False,
        {"therapist_ids": ["t2", "t3"]},
        "pending",
        [],
        FRESH_DEADLINE,
    ),
    (
        "pending: the one who accepted is dropped",
        (T1,),
        False,
        {"therapist_ids": ["t2"]},
        "pending",
        [],
        FIRST_DEADLINE,
    ),
    (
        "pending: rescheduled",
        (T1,),
        False,
        MOVED,
        "pending",
        [],
        FRESH_DEADLINE,
    ),
    (
        "pending: made longer",
        (T1,),
        False,
        {"end_time": "15:30"},
        "pending",
        [],
        FRESH_DEADLINE,
    ),
    (
        "pending: rescheduled and one dropped",
        (T1,),
        False,
        {**MOVED, "therapist_ids": ["t1"]},
        "pending",
        [],
        FRESH_DEADLINE,
    ),
    (
        "pending: the same times sent again",
        (T1,),
        False,
        SAME_TIMES,
        "pending",
        ["t1"],
        FIRST_DEADLINE,
    ),
    (
        "pending: the same team in another order",
        (T1,),
        False,
        {"therapist_ids": ["t2", "t1"]},
        "pending",
        ["t1"],
        FIRST_DEADLINE,
    ),
    (
        "pending: only the notes",
        (T1,),
        False,
        {"notes": "gate code 1234"},
        "pending",
        ["t1"],
        FIRST_DEADLINE,
    ),
    (
        "confirmed: one dropped",
        (T1, T2),
        False,
        {"therapist_ids": ["t1"]},
        "therapist_confirmed",
        ["t1"],
        FIRST_DEADLINE,
    ),
    (
        "confirmed: one added",
        (T1, T2),
        False,
        {"therapist_ids": ["t1", "t2", "t3"]},
        "pending",
        ["t1", "t2"],
        FRESH_DEADLINE,
    ),
    (
        "confirmed: rescheduled",
        (T1, T2),
        False,
        MOVED,
        "pending",
        [],
        FRESH_DEADLINE,
    ),
    (
        "confirmed: the same times sent again",
        (T1, T2),
        False,
        SAME_TIMES,
        "therapist_confirmed",
        ["t1", "t2"],
        FIRST_DEADLINE,
    ),
    (
        "driver confirmed: one dropped (the driver confirms again)",
        (T1, T2),
        True,
        {"therapist_ids": ["t1"]},
        "therapist_confirmed",
        ["t1"],
        FIRST_DEADLINE,
    ),
    (
        "driver confirmed: rescheduled",
        (T1, T2),
        True,
        MOVED,
        "pending",
        [],
        FRESH_DEADLINE,
    ),
    (
        "driver confirmed: another driver",
        (T1, T2),
        True,
        {"driver_id": "d2"},
        "therapist_confirmed",
        ["t1", "t2"],
        FIRST_DEADLINE,
    ),
    (
        "driver confirmed: the same times sent again",
        (T1, T2),
        True,
        SAME_TIMES,
        "driver_confirmed",
        ["t1", "t2"],
        FIRST_DEADLINE,
    ),
]


@pytest.mark.parametrize(
    ("accepted", "driver_confirmed", "args", "status", "still_accepted", "deadline"),
    [e[1:] for e in EDITS],
    ids=[e[0] for e in EDITS],
)
def test_an_edit_keeps_only_the_acceptances_that_still_hold(
    accepted: tuple[Actor, ...],
    driver_confirmed: bool,
    args: dict[str, Any],
    status: str,
    still_accepted: list[str],
    deadline: str,
) -> None:
    w = group(*accepted, driver_confirmed=driver_confirmed)
    version = w.appt()["version"]
    w.later(20)
    edit(w, **args)
    appt = w.appt()
    assert (appt["status"], appt["accepted_ids"]) == (status, still_accepted)
    assert appt["response_deadline"] == deadline
    assert appt["version"] == version + 1


def test_a_group_booking_cut_to_the_one_who_accepted_can_go_ahead() -> None:
    """It used to stay pending with every therapist accepted: nobody could
    accept any more ("already accepted") and it could only auto-cancel."""
    w = group(T1)
    edit(w, therapist_ids=["t1"])
    w.do(D1, "appointment.confirm", "a1")
    assert w.appt()["status"] == "driver_confirmed"


def notified(out: Outcome) -> set[tuple[str, str]]:
    return {
        (c.record["user_id"], c.record["kind"])
        for c in out.changes
        if c.entity == "notification" and c.record
    }


def test_the_driver_hears_when_an_edit_leaves_every_therapist_accepted() -> None:
    assert notified(edit(group(T1), therapist_ids=["t1"])) == {("d1", "accepted")}
    # a new driver hears once, as anyone newly assigned does
    out = edit(group(T1), therapist_ids=["t1"], driver_id="d2")
    assert notified(out) == {("d2", "assigned")}


def test_after_a_reschedule_each_therapist_accepts_the_new_time() -> None:
    w = group(T1)
    edit(w, **MOVED)
    w.do(T1, "appointment.accept", "a1")  # was refused: "already accepted"
    assert w.appt()["status"] == "pending"
    w.do(T2, "appointment.accept", "a1")
    assert w.appt()["status"] == "therapist_confirmed"


def test_a_newcomer_is_told_and_must_accept() -> None:
    w = group(T1, T2)
    assert notified(edit(w, therapist_ids=["t1", "t2", "t3"])) == {("t3", "assigned")}
    w.do(T3, "appointment.accept", "a1")
    assert w.appt()["status"] == "therapist_confirmed"


# --- edits while a rejection waits for the operator's review -------------------


def test_deny_after_dropping_the_rejecter_goes_ahead_with_those_who_accepted() -> None:
    w = group(T1)
    w.do(T2, "appointment.reject", "a1", reason="Sick")
    edit(w, therapist_ids=["t1"])
    assert w.appt()["status"] == "rejected"
    w.do(OP, "appointment.review_rejection", "a1", decision="deny")
    assert w.appt()["status"] == "therapist_confirmed"


def test_deny_after_a_reschedule_asks_the_therapists_again() -> None:
    w = group(T1, T2)
    w.do(D1, "appointment.reject", "a1", reason="Car in the shop")
    edit(w, **MOVED)
    w.later(40)
    w.do(OP, "appointment.review_rejection", "a1", decision="deny")
    appt = w.appt()
    assert (appt["status"], appt["accepted_ids"]) == ("pending", [])
    assert appt["response_deadline"] == "2026-11-21T07:10:00Z"


def test_reassign_refuses_when_the_rejecter_was_already_taken_off() -> None:
    """It used to swap the rejecter for the new therapist in a list that no
    longer held the rejecter: the new therapist was silently never added."""
    w = World()
    w.do(OP, "appointment.create", "a1", **booking())
    w.do(T1, "appointment.reject", "a1", reason="Too far")
    edit(w, therapist_ids=["t3"])
    before = w.state()
    with pytest.raises(InvalidArgs, match="Ana Reyes is no longer on this appointment"):
        w.do(OP, "appointment.review_rejection", "a1", decision="reassign", therapist_id="t2")
    assert w.state() == before
    w.do(OP, "appointment.review_rejection", "a1", decision="deny")
    assert w.appt()["therapist_ids"] == ["t3"] and w.appt()["status"] == "pending"


def test_reassign_in_a_group_keeps_the_acceptances_of_the_others() -> None:
    w = group(T1)
    w.do(T2, "appointment.reject", "a1", reason="Sick")
    w.do(OP, "appointment.review_rejection", "a1", decision="reassign", therapist_id="t3")
    appt = w.appt()
    assert appt["therapist_ids"] == ["t1", "t3"] and appt["accepted_ids"] == ["t1"]
    w.do(T3, "appointment.accept", "a1")
    assert w.appt()["status"] == "therapist_confirmed"


def test_reassigning_a_driver_with_an_edit_between_still_replaces_the_driver() -> None:
    w = group(T1, T2)
    w.do(D1, "appointment.reject", "a1", reason="Flat tyre")
    edit(w, driver_id=None)
    w.do(OP, "appointment.review_rejection", "a1", decision="reassign", driver_id="d2")
    assert w.appt()["driver_id"] == "d2"
    w.do(D2, "appointment.confirm", "a1")
    assert w.appt()["status"] == "driver_confirmed"
