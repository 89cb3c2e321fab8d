"""An appointment's history read back from its own record (`domain.history`):
each step the real commands took, with who and when, from the stamps alone."""

from __future__ import annotations

from typing import Any

from domain.commands import Actor
from domain.history import SYSTEM_ID, Step, actor_field, actor_id, as_left, steps
from domain.times import iso
from tests.domain.world import D1, D2, MAIN_PATH, OP, SYSTEM, T1, T2, World, booking, staff

Taken = tuple[str, str, str | None, str]  # cause, at, by, status after


def take(w: World, actor: Actor, name: str, target: str | None = "a1", **args: Any) -> Taken:
    """Run one command a minute after the last; what its event would say."""
    w.later(1)
    base = w.appt(target)["version"] if name == "appointment.update" and target else None
    w.do(actor, name, target, base, **args)
    appt = w.appt()
    return name, iso(w.now), actor_id(name, appt), appt["status"]


def read(w: World) -> list[Taken]:
    return [(s.cause, s.at, s.by, s.status or "") for s in steps(w.appt())]


def test_the_main_path_reads_back_step_by_step() -> None:
    w = World()
    # no driver is free when the pickup is asked for: the operator sends one later
    w.snap.put("staff", {**staff(D1, "Dan Santos"), "on_duty": False})
    w.snap.put("staff", {**staff(D2, "Eli Tan"), "on_duty": False})
    taken = [take(w, OP, "appointment.create", **booking())]
    for actor, action, args, _ in MAIN_PATH:
        if action == "request_pickup":
            taken.append(take(w, actor, f"appointment.{action}", **args))
            w.snap.put("staff", {**staff(D2, "Eli Tan"), "on_duty": True})
            taken.append(take(w, OP, "appointment.assign_pickup_driver", driver_id="d2"))
            continue
        taken.append(take(w, actor, f"appointment.{action}", **args))
    assert read(w) == taken
    assert [s.status for s in steps(w.appt())][-3:] == [
        "driver_assigned_pickup",
        "return_journey",
        "transport_completed",
    ]
    # each step names the stamp an event of that cause is read from
    for step in steps(w.appt()):
        assert actor_field(step.cause) == f"{step.stamp}_by"


def test_one_command_two_stamps_reads_as_its_one_event() -> None:
    w = World()
    take(w, OP, "appointment.create", **booking())
    for actor, action, args, _ in MAIN_PATH[:10]:
        take(w, actor, f"appointment.{action}", **args)
    # a driver is free: the server sends one with the request, in one command
    asked = take(w, T1, "appointment.request_pickup", urgency="normal")
    assert read(w)[-1] == asked
    assert asked[3] == "driver_assigned_pickup"
    assert "appointment.assign_pickup_driver" not in {s.cause for s in steps(w.appt())}

    # a rejection the operator accepts cancels in the same command
    w = World()
    take(w, OP, "appointment.create", **booking())
    rejected = take(w, T1, "appointment.reject", reason="Sick")
    reviewed = take(w, OP, "appointment.review_rejection", decision="accept")
    assert read(w)[1:] == [rejected, reviewed]
    assert reviewed[3] == "cancelled"


def test_the_server_assigning_a_pickup_later_is_its_own_step() -> None:
    w = World()
    w.snap.put("staff", {**staff(D1, "Dan Santos"), "on_duty": False})
    w.snap.put("staff", {**staff(D2, "Eli Tan"), "on_duty": False})
    take(w, OP, "appointment.create", **booking())
    for actor, action, args, _ in MAIN_PATH[:11]:
        take(w, actor, f"appointment.{action}", **args)
    w.snap.put("staff", {**staff(D2, "Eli Tan"), "on_duty": True})
    w.later(1)
    w.do(SYSTEM, "appointments.auto_assign_pickups")
    last = steps(w.appt())[-1]
    assert (last.cause, last.by, last.at) == (
        "appointments.auto_assign_pickups",
        SYSTEM_ID,
        iso(w.now),
    )
    assert steps(w.appt())[-2].status == "pickup_requested"
    # the request, as it left the appointment: nobody sent yet
    request = steps(w.appt())[-2]
    assert as_left(w.appt(), request)["pickup_driver_id"] is None
    assert as_left(w.appt(), last)["pickup_driver_id"] == "d2"


def test_a_step_taken_twice_shows_at_its_latest() -> None:
    w = World()
    take(w, OP, "appointment.create", **booking())
    take(w, T1, "appointment.reject", reason="Sick")
    denied = take(w, OP, "appointment.review_rejection", decision="deny")
    again = take(w, T1, "appointment.reject", reason="Still sick")
    causes = [s.cause for s in steps(w.appt())]
    assert causes == ["appointment.create", "appointment.review_rejection", "appointment.reject"]
    review = steps(w.appt())[1]
    # the rejection on the record is the later one: the review's decision is unknown
    assert (review.at, review.status) == (denied[1], None)
    assert as_left(w.appt(), review)["rejection"]["decision"] is None
    assert as_left(w.appt(), review)["status"] == ""
    assert read(w)[-1] == again


def test_a_field_edit_while_it_was_the_last_change() -> None:
    w = World()
    take(w, OP, "appointment.create", **booking())
    edited = take(w, OP, "appointment.update", notes="Ring twice")
    assert read(w)[-1] == edited
    # a later step stamps updated_at too: the edit's time is lost, so it is left out
    take(w, T1, "appointment.accept")
    assert [s.cause for s in steps(w.appt())] == ["appointment.create", "appointment.accept"]


def test_group_acceptance_and_auto_cancel() -> None:
    w = World()
    take(w, OP, "appointment.create", **booking(therapist_ids=["t1", "t2"]))
    first = take(w, T1, "appointment.accept")
    assert first[3] == "pending" and read(w)[-1] == first
    assert take(w, T2, "appointment.accept") == read(w)[-1]  # the last one moves it on

    w = World()
    take(w, OP, "appointment.create", **booking())
    w.later(31)
    w.do(SYSTEM, "appointments.auto_cancel_overdue")
    last = steps(w.appt())[-1]
    assert (last.cause, last.by, last.status) == (
        "appointments.auto_cancel_overdue",
        SYSTEM_ID,
        "auto_cancelled",
    )


def test_a_step_without_a_readable_time_is_left_out() -> None:
    appt = {
        "id": "a1",
        "status": "driver_confirmed",
        "created_at": "2026-11-21T01:00:00Z",
        "created_by": "op",
        "accepted_at": "yesterday-ish",
        "accepted_by": "t1",
        "driver_confirmed_at": "2026-11-21T02:00:00",  # no zone: not an instant
        "driver_confirmed_by": "d1",
        "started_at": None,
    }
    assert steps(appt) == [
        Step("appointment.create", "created", "2026-11-21T01:00:00Z", "op", "pending")
    ]
    assert steps({"id": "a2", "status": "pending"}) == []
