"""Hypothesis properties of the lifecycle over random command sequences."""

from __future__ import annotations

import copy
from collections import deque
from typing import Any

from hypothesis import given, note, settings
from hypothesis import strategies as st

from domain import Actor, DomainError, Entity, Outcome, Record
from domain.status import TERMINAL, Status
from tests.domain.world import D1, D2, OP, SYSTEM, T1, T2, T3, World, booking

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
    {"decision": "reassign", "therapist_id": "t3"},
    {"decision": "reassign", "driver_id": "d2"},
]
TARGETS = ["a1", "a2", "a3", "a4"]
THERAPISTS = ["t1", "t2", "t3"]
TIMES = [("14:00", "15:00"), ("16:00", "17:00"), ("14:30", "16:00"), ("18:00", "19:30")]

team = st.lists(st.sampled_from(THERAPISTS), min_size=1, max_size=3, unique=True)
when = st.sampled_from(TIMES).map(lambda t: {"start_time": t[0], "end_time": t[1]})


def _flat(parts: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in parts.items() if k != "when"}
    out.update(parts.get("when") or {})
    return out


# A field edit of the kind the operator's form sends: a new team, another
# time, another driver, notes; any of them together.
edits = (
    st.fixed_dictionaries(
        {},
        optional={
            "therapist_ids": team,
            "when": when,
            "end_time": st.sampled_from(["15:30", "18:00"]),
            "driver_id": st.sampled_from(["d1", "d2", None]),
            "notes": st.just("gate 2"),
        },
    )
    .map(_flat)
    .filter(bool)
)
creates = st.tuples(team, when).map(
    lambda tw: booking(therapist_ids=tw[0], **tw[1], driver_id="d1")
)
toggles = st.tuples(st.sampled_from(["av1", "av2", "av3"]), st.booleans()).map(
    lambda sa: (sa[0], {"available": sa[1]})
)

Step = tuple[Actor, str, str, dict[str, Any]]
lifecycle = st.tuples(
    st.sampled_from(ACTORS),
    st.sampled_from(ACTIONS),
    st.sampled_from(TARGETS),
    st.sampled_from(REVIEWS),
).map(
    lambda s: (
        s[0],
        f"appointment.{s[1]}",
        s[2],
        s[3] if s[1] == "review_rejection" else ARGS.get(s[1], {}),
    )
)
# therapists answering, often: edits matter most once some have accepted
accepts: st.SearchStrategy[Step] = st.tuples(
    st.sampled_from([T1, T2, T3]),
    st.just("appointment.accept"),
    st.sampled_from(TARGETS),
    st.just({}),
)
updates = st.tuples(st.just(OP), st.just("appointment.update"), st.sampled_from(TARGETS), edits)
rarer: st.SearchStrategy[Step] = st.one_of(
    st.tuples(st.just(OP), st.just("appointment.create"), st.just("a4"), creates),
    toggles.map(lambda t: (OP, "availability.update", t[0], t[1])),
    st.tuples(
        st.sampled_from(ACTORS),
        st.just("appointments.auto_cancel_overdue"),
        st.just(""),
        st.just({}),
    ),
    st.tuples(st.sampled_from(ACTORS), st.just("@later"), st.just(""), st.just({})),
)
step: st.SearchStrategy[Step] = st.one_of(lifecycle, accepts, updates, rarer)


def start_world() -> World:
    w = World()
    w.do(OP, "appointment.create", "a1", **booking())
    w.do(
        OP,
        "appointment.create",
        "a2",
        **booking(therapist_ids=["t1", "t2"], start_time="16:00", end_time="17:00", driver_id="d2"),
    )
    w.do(
        OP,
        "appointment.create",
        "a3",
        **booking(therapist_ids=["t2", "t3"], start_time="18:00", end_time="19:30", driver_id=None),
    )
    return w


def _run(w: World, actor: Actor, name: str, target: str, args: dict[str, Any]) -> Outcome:
    if name.startswith("appointments."):
        return w.do(actor, name)
    entity: Entity = "availability" if name.startswith("availability.") else "appointment"
    current = w.snap.get(entity, target)
    # field edits name the version they were made on: the current one here
    base = current["version"] if current is not None and name.endswith(".update") else None
    return w.do(actor, name, target, base, **copy.deepcopy(args))


def _slot(appt: Record) -> tuple[str, str, str]:
    return appt["date"], appt["start_time"], appt["end_time"]


def _answers_hold(w: World, agreed: set[tuple[str, str, tuple[str, str, str]]]) -> None:
    """Each acceptance on a record was given by a therapist on it, for the slot
    it has now; the status says whether they all have (while it waits for
    them): pending never holds every acceptance, so nobody is left unable
    to move it on."""
    for appt in w.snap.all("appointment"):
        team, accepted = set(appt["therapist_ids"]), set(appt["accepted_ids"])
        assert accepted <= team, appt
        for tid in accepted:
            assert (appt["id"], tid, _slot(appt)) in agreed, (tid, appt)
        if appt["status"] == Status.PENDING:
            assert not team <= accepted, f"pending with every acceptance: {appt}"
        if appt["status"] in (Status.THERAPIST_CONFIRMED, Status.DRIVER_CONFIRMED):
            assert team <= accepted, f"confirmed without every acceptance: {appt}"


# three times the profile's examples: 300 in the full suite, 60 in make test-fast
@settings(max_examples=3 * settings.default.max_examples, deadline=None)
@given(st.lists(step, min_size=10, max_size=40))
def test_commands_apply_or_change_nothing_and_versions_step_by_one(steps: list[Step]) -> None:
    """Each command applies (version + 1 on what it changes, nothing terminal
    changed, the answers still hold) or is refused and changes nothing."""
    w = start_world()
    agreed: set[tuple[str, str, tuple[str, str, str]]] = set()  # who accepted what slot
    for actor, name, target, args in steps:
        note(f"{actor.id}: {name} {target} {args}")  # Hypothesis can't print mapped steps
        if name == "@later":
            w.later(20)
            continue
        before = w.state()
        was_terminal = {
            a: Status(r["status"]) in TERMINAL for a, r in before["appointment"].items()
        }
        try:
            out = _run(w, actor, name, target, args)
        except DomainError:
            assert w.state() == before, "a refused command changed something"
            continue
        for change in out.changes:
            old = before.get(change.entity, {}).get(change.id)
            if change.record is not None:
                expected = 1 if old is None else old["version"] + 1
                assert change.record["version"] == expected
            if change.entity == "appointment":
                assert not was_terminal.get(change.id), "a terminal appointment changed"
        if name == "appointment.accept":
            agreed.add((target, actor.id, _slot(w.appt(target))))
        _answers_hold(w, agreed)


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
