"""Hypothesis properties of the lifecycle over random command sequences."""

from __future__ import annotations

import copy
from collections import deque
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from domain import Actor, DomainError
from domain.status import TERMINAL, Status
from tests.domain.world import D1, D2, OP, SYSTEM, T1, T2, World, booking

ACTORS = [OP, T1, T2, D1, D2, SYSTEM]
ARGS: dict[str, dict[str, Any]] = {
    "reject": {"reason": "busy"},
    "review_rejection": {"decision": "deny"},
    "verify_payment": {"method": "card", "amount": 10, "receipt_ref": "R"},
    "request_pickup": {"urgency": "normal"},
    "assign_pickup_driver": {"driver_id": "d1"},
    "complete": {},
}
ACTIONS = [
    "accept",
    "reject",
    "review_rejection",
    "confirm",
    "start",
    "start_journey",
    "arrive",
    "drop_off",
    "start_session",
    "request_payment",
    "verify_payment",
    "complete",
    "request_pickup",
    "assign_pickup_driver",
    "confirm_pickup",
    "complete_return",
    "cancel",
]
REVIEWS = [
    {"decision": "deny"},
    {"decision": "accept"},
    {"decision": "reassign", "therapist_id": "t2"},
]

step = st.one_of(
    st.tuples(
        st.sampled_from(ACTORS),
        st.sampled_from(ACTIONS),
        st.sampled_from(["a1", "a2"]),
        st.sampled_from(REVIEWS),
    ),
    st.tuples(st.sampled_from(ACTORS), st.just("@auto_cancel"), st.just(""), st.just({})),
    st.tuples(st.sampled_from(ACTORS), st.just("@later"), st.just(""), st.just({})),
)


def start_world() -> World:
    w = World()
    w.do(OP, "appointment.create", "a1", **booking())
    w.do(
        OP,
        "appointment.create",
        "a2",
        **booking(therapist_ids=["t1", "t2"], start_time="16:00", end_time="17:00", driver_id="d2"),
    )
    return w


@settings(max_examples=150, deadline=None)
@given(st.lists(step, max_size=40))
def test_commands_apply_or_change_nothing_and_versions_step_by_one(
    steps: list[tuple[Actor, str, str, dict[str, Any]]],
) -> None:
    w = start_world()
    for actor, action, target, review in steps:
        if action == "@later":
            w.later(20)
            continue
        before = w.state()
        was_terminal = {
            a: Status(r["status"]) in TERMINAL for a, r in before["appointment"].items()
        }
        try:
            if action == "@auto_cancel":
                out = w.do(actor, "appointments.auto_cancel_overdue")
            else:
                args = review if action == "review_rejection" else ARGS.get(action, {})
                out = w.do(actor, f"appointment.{action}", target, **copy.deepcopy(args))
        except DomainError:
            assert w.state() == before, "a refused command changed something"
            continue
        for change in out.changes:
            old = before.get(change.entity, {}).get(change.id)
            if change.record is not None:
                expected = 1 if old is None else old["version"] + 1
                assert change.record["version"] == expected
            if change.entity == "appointment":
                assert not was_terminal[change.id], "a terminal appointment changed"


def _reachable(start: World) -> set[str]:
    """Breadth-first over real commands from a fresh pending appointment."""
    seen: set[str] = set()
    frontier: deque[World] = deque([start])
    while frontier:
        w = frontier.popleft()
        status = w.appt()["status"]
        if status in seen:
            continue
        seen.add(status)
        for actor in ACTORS:
            for action in [*ACTIONS, "@auto_cancel"]:
                for review in REVIEWS if action == "review_rejection" else [{}]:
                    trial = World(snap=copy.deepcopy(w.snap), now=w.now)
                    trial.later(31)
                    try:
                        if action == "@auto_cancel":
                            trial.do(actor, "appointments.auto_cancel_overdue")
                        else:
                            args = review or ARGS.get(action, {})
                            trial.do(actor, f"appointment.{action}", "a1", **args)
                    except DomainError:
                        continue
                    if trial.appt()["status"] not in seen:
                        frontier.append(trial)
    return seen


def test_every_status_is_reachable_from_pending() -> None:
    reached = _reachable(start_world())
    # With every driver off duty a pickup request waits for the operator.
    off_duty = start_world()
    for driver in (D1, D2):
        off_duty.do(driver, "staff.set_duty", driver.id, on_duty=False)
    reached |= _reachable(off_duty)
    assert reached == {s.value for s in Status}
