"""Every transition of the main path and the side paths, table-driven."""

from __future__ import annotations

import pytest

from domain import Actor, DomainError
from domain.errors import Forbidden, InvalidTransition, NotFound
from domain.lifecycle import allowed
from domain.status import STATUS_TEXT, Status, status_text
from tests.domain.world import D1, MAIN_PATH, OP, SYSTEM, T1, T2, World, booking, world_at

STAMP = {
    "accept": "accepted",
    "confirm": "driver_confirmed",
    "start": "started",
    "start_journey": "journey_started",
    "arrive": "arrived",
    "drop_off": "dropped_off",
    "start_session": "session_started",
    "request_payment": "payment_requested",
    "verify_payment": "payment_verified",
    "complete": "completed",
    "request_pickup": "pickup_requested",
    "confirm_pickup": "pickup_confirmed",
    "complete_return": "returned",
}


def test_create_makes_a_pending_appointment_with_a_deadline() -> None:
    w = World()
    out = w.do(OP, "appointment.create", "a1", **booking())
    appt = out.record
    assert appt is not None
    assert appt["id"] == "a1" and appt["version"] == 1 and appt["status"] == "pending"
    assert appt["response_deadline"] == "2026-11-21T06:30:00Z"
    assert appt["client_name"] == "Maria Santos"
    assert appt["created_by"] == "op"
    # the therapist and the driver hear about it
    told = {c.record["user_id"] for c in out.changes if c.entity == "notification" and c.record}
    assert told == {"t1", "d1"}


@pytest.mark.parametrize("step", range(len(MAIN_PATH)))
def test_each_main_path_step_moves_stamps_and_bumps(step: int) -> None:
    actor, action, args, to = MAIN_PATH[step]
    previous = "pending" if step == 0 else MAIN_PATH[step - 1][3]
    w = world_at(previous)
    before = w.appt()
    w.later(5)
    w.do(actor, f"appointment.{action}", "a1", **args)
    after = w.appt()
    assert after["status"] == to
    assert after["version"] == before["version"] + 1
    assert after[f"{STAMP[action]}_at"] == "2026-11-21T06:05:00Z"
    assert after[f"{STAMP[action]}_by"] == actor.id


def test_full_main_path_ends_terminal_with_every_stamp() -> None:
    w = world_at("transport_completed")
    appt = w.appt()
    assert appt["status"] == "transport_completed"
    assert appt["version"] == 1 + len(MAIN_PATH)
    assert appt["payment"] == {
        "method": "cash",
        "amount": 900.0,
        "receipt_ref": None,
        "extension_amount": None,
    }
    assert appt["materials"] == [{"name": "oil", "quantity": 1.0}]
    assert appt["pickup_driver_id"] == "d2"
    for stamp in STAMP.values():
        assert appt[f"{stamp}_at"], stamp


def test_the_refusal_says_why_in_words() -> None:
    w = world_at("journey")
    with pytest.raises(InvalidTransition) as err:
        w.do(T1, "appointment.start_session", "a1")
    assert err.value.message == "Can't start the session: the driver hasn't dropped you off yet."
    assert err.value.status == 409


def test_an_action_after_its_time_says_already() -> None:
    w = world_at("driver_confirmed")
    with pytest.raises(InvalidTransition, match="already confirmed by the driver"):
        w.do(T1, "appointment.accept", "a1")


def test_accepting_a_cancelled_appointment_is_invalid_transition() -> None:
    w = world_at("cancelled")
    before = w.state()
    with pytest.raises(InvalidTransition, match="cancelled"):
        w.do(T1, "appointment.accept", "a1")
    assert w.state() == before


TERMINALS = ["transport_completed", "cancelled", "auto_cancelled"]
ALL_ACTIONS = [a for _, a, _, _ in MAIN_PATH] + [
    "reject",
    "cancel",
    "review_rejection",
    "assign_pickup_driver",
]


@pytest.mark.parametrize("status", TERMINALS)
@pytest.mark.parametrize("action", ALL_ACTIONS)
def test_terminal_statuses_accept_no_action(status: str, action: str) -> None:
    w = world_at(status)
    before = w.state()
    for actor in (OP, T1, SYSTEM):
        with pytest.raises(DomainError):
            w.do(
                actor,
                f"appointment.{action}",
                "a1",
                reason="x",
                decision="deny",
                driver_id="d1",
                method="cash",
                amount=1,
                urgency="normal",
            )
    assert w.state() == before


def test_group_booking_moves_only_when_every_therapist_accepted() -> None:
    w = World()
    w.do(OP, "appointment.create", "a1", **booking(therapist_ids=["t1", "t2"]))
    w.do(T1, "appointment.accept", "a1")
    assert w.appt()["status"] == "pending"
    assert w.appt()["accepted_ids"] == ["t1"]
    with pytest.raises(InvalidTransition, match="already accepted"):
        w.do(T1, "appointment.accept", "a1")
    w.do(T2, "appointment.accept", "a1")
    assert w.appt()["status"] == "therapist_confirmed"
    assert w.appt()["version"] == 3


def test_group_booking_members_each_see_and_act_but_outsiders_do_not() -> None:
    w = World()
    w.do(OP, "appointment.create", "a1", **booking(therapist_ids=["t1", "t2"]))
    from tests.domain.world import T3

    with pytest.raises(NotFound):
        w.do(T3, "appointment.accept", "a1")


@pytest.mark.parametrize("status", list(Status))
def test_every_status_has_business_words(status: Status) -> None:
    assert STATUS_TEXT[status]
    for role in ("operator", "therapist", "driver"):
        assert status_text(status, role)  # type: ignore[arg-type]


def test_business_texts_match_the_brief() -> None:
    assert status_text("driver_confirmed") == "Ready to start — waiting for operator"
    assert status_text("journey") == "En route — driver is on the way"
    assert status_text("dropped_off") == "Start session — dropped off at client location"


def test_unknown_command_is_refused_with_a_code() -> None:
    w = World()
    with pytest.raises(DomainError) as err:
        w.do(OP, "appointment.teleport", "a1")
    assert err.value.code == "unknown_command"


def test_operator_actions_are_forbidden_to_staff() -> None:
    w = world_at("driver_confirmed")
    with pytest.raises(Forbidden, match="Only the operator"):
        w.do(T1, "appointment.start", "a1")


# Who may reject, from where (docs/architecture.md: a therapist a request; the driver
# also the trip asked to confirm): actor, status, whether it applies.
REJECTS: list[tuple[Actor, str, bool]] = [
    (T1, "pending", True),
    (T1, "therapist_confirmed", False),
    (T1, "driver_confirmed", False),
    (D1, "pending", True),
    (D1, "therapist_confirmed", True),
    (D1, "driver_confirmed", False),
    (D1, "journey", False),
]


@pytest.mark.parametrize(("actor", "status", "applies"), REJECTS)
def test_who_may_reject_from_where(actor: Actor, status: str, applies: bool) -> None:
    w = world_at(status)
    assert allowed(w.appt(), actor, "reject") == applies
    if not applies:
        before = w.state()
        with pytest.raises(InvalidTransition, match="Can't reject the appointment: it's"):
            w.do(actor, "appointment.reject", "a1", reason="Busy")
        assert w.state() == before
        return
    w.do(actor, "appointment.reject", "a1", reason="Busy")
    appt = w.appt()
    assert appt["status"] == "rejected" and appt["rejection"]["previous_status"] == status
