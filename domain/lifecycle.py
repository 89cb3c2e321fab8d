"""The appointment lifecycle as data: one row per action, one lookup.

Each row says who may act (the party), from which statuses (narrower for one
role of the party where the rules say so), to which status, which timestamp
it stamps (`<stamp>_at` and `<stamp>_by`) and what else it leaves behind (a
notice for the people it concerns, a driver free again). `domain.appointments`
derives a handler from each plain row; the modules of the other ideas add
what a row cannot say (group acceptance in `answers`, the driver choice in
`pickup`). `check` refuses with the reason a person needs: "Can't start the
session: the driver hasn't dropped you off yet".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from domain.commands import Actor
from domain.errors import Forbidden, InvalidTransition
from domain.records import Record, bumped
from domain.status import DRIVER_BUSY, LABEL, MAIN_PATH, TERMINAL, Role, Status
from domain.times import iso
from domain.words import WORDS

S = Status
Party = Literal[
    "operator", "therapist", "driver", "pickup_driver", "assigned", "operator_or_system"
]
Audience = Literal["assigned", "therapists", "operators"]


@dataclass(frozen=True)
class Notify:
    """A notification for `audience`; `{booking}` in the text is the
    appointment in a few words (`domain.notify.describe`)."""

    audience: Audience
    kind: str
    text: str


@dataclass(frozen=True)
class FreeAgain:
    """The driver in `driver` has finished a trip: free again from now (the
    longest-idle rule of `domain.pickup` reads the stamp)."""

    driver: Literal["driver_id", "pickup_driver_id"]


Effect = Notify | FreeAgain


@dataclass(frozen=True)
class Transition:
    sources: frozenset[Status]
    to: Status | None  # None: the handler decides
    party: Party
    stamp: str
    not_yet: str  # why, when the appointment hasn't reached a source yet
    # the sources for one role of the party, where they are fewer
    by_role: Mapping[Role, frozenset[Status]] = field(default_factory=dict, hash=False)
    effects: tuple[Effect, ...] = ()  # in order, after the appointment's own change

    def sources_for(self, role: Role) -> frozenset[Status]:
        return self.by_role.get(role, self.sources)


def _row(
    sources: set[Status],
    to: Status | None,
    party: Party,
    stamp: str,
    not_yet: str,
    by_role: Mapping[Role, set[Status]] | None = None,
    effects: tuple[Effect, ...] = (),
) -> Transition:
    narrower = {role: frozenset(only) for role, only in (by_role or {}).items()}
    return Transition(frozenset(sources), to, party, stamp, not_yet, narrower, effects)


NON_TERMINAL = frozenset(set(Status) - TERMINAL)

TABLE: dict[str, Transition] = {
    "accept": _row(
        {S.PENDING},
        S.THERAPIST_CONFIRMED,
        "therapist",
        "accepted",
        "it isn't waiting for acceptance",
    ),
    # a therapist rejects a request; a driver, also the trip asked to confirm
    "reject": _row(
        {S.PENDING, S.THERAPIST_CONFIRMED},
        S.REJECTED,
        "assigned",
        "rejected",
        "it isn't waiting for a response",
        by_role={"therapist": {S.PENDING}},
    ),
    "review_rejection": _row({S.REJECTED}, None, "operator", "reviewed", "nobody has rejected it"),
    "confirm": _row(
        {S.THERAPIST_CONFIRMED},
        S.DRIVER_CONFIRMED,
        "driver",
        "driver_confirmed",
        "the therapist hasn't accepted yet",
        effects=(Notify("therapists", "driver_confirmed", "Your driver confirmed: {booking}"),),
    ),
    "start": _row(
        {S.DRIVER_CONFIRMED},
        S.IN_PROGRESS,
        "operator",
        "started",
        "the driver hasn't confirmed yet",
        effects=(Notify("assigned", "started", "Started: {booking}"),),
    ),
    "start_journey": _row(
        {S.IN_PROGRESS},
        S.JOURNEY,
        "driver",
        "journey_started",
        "the operator hasn't started the appointment yet",
    ),
    "arrive": _row(
        {S.JOURNEY},
        S.ARRIVED,
        "driver",
        "arrived",
        "the journey hasn't started yet",
    ),
    "drop_off": _row(
        {S.ARRIVED},
        S.DROPPED_OFF,
        "driver",
        "dropped_off",
        "you haven't arrived yet",
        effects=(FreeAgain("driver_id"),),
    ),
    "start_session": _row(
        {S.DROPPED_OFF},
        S.SESSION_IN_PROGRESS,
        "therapist",
        "session_started",
        "the driver hasn't dropped you off yet",
    ),
    "request_payment": _row(
        {S.SESSION_IN_PROGRESS},
        S.AWAITING_PAYMENT,
        "therapist",
        "payment_requested",
        "the session hasn't started yet",
        effects=(Notify("operators", "payment_requested", "Payment to verify: {booking}"),),
    ),
    "verify_payment": _row(
        {S.AWAITING_PAYMENT},
        S.PAYMENT_VERIFIED,
        "operator",
        "payment_verified",
        "the therapist hasn't requested payment yet",
        effects=(Notify("therapists", "payment_verified", "Payment verified: {booking}"),),
    ),
    "complete": _row(
        {S.PAYMENT_VERIFIED},
        S.COMPLETED,
        "therapist",
        "completed",
        "the payment hasn't been verified yet",
    ),
    "request_pickup": _row(
        {S.COMPLETED},
        None,
        "therapist",
        "pickup_requested",
        "the session isn't completed yet",
    ),
    "assign_pickup_driver": _row(
        {S.PICKUP_REQUESTED},
        S.DRIVER_ASSIGNED_PICKUP,
        "operator",
        "pickup_assigned",
        "no pickup has been requested yet",
    ),
    "confirm_pickup": _row(
        {S.DRIVER_ASSIGNED_PICKUP},
        S.RETURN_JOURNEY,
        "pickup_driver",
        "pickup_confirmed",
        "no pickup driver is assigned yet",
    ),
    "complete_return": _row(
        {S.RETURN_JOURNEY},
        S.TRANSPORT_COMPLETED,
        "pickup_driver",
        "returned",
        "the return journey hasn't started yet",
        effects=(FreeAgain("pickup_driver_id"),),
    ),
    "cancel": _row(
        set(NON_TERMINAL),
        S.CANCELLED,
        "operator",
        "cancelled",
        "it can't be cancelled now",
        effects=(Notify("assigned", "cancelled", "Cancelled: {booking}"),),
    ),
    "auto_cancel": _row(
        {S.PENDING},
        S.AUTO_CANCELLED,
        "operator_or_system",
        "auto_cancelled",
        "it isn't pending",
    ),
}

STAMPS: tuple[str, ...] = tuple(t.stamp for t in TABLE.values())


def command_of(action: str) -> str:
    """The command a row's action is taken by."""
    return (
        "appointments.auto_cancel_overdue" if action == "auto_cancel" else f"appointment.{action}"
    )


def _leaves(row: Transition, statuses: frozenset[Status]) -> bool:
    return bool(row.sources & statuses) and row.to not in statuses


# After these a driver may be free for a waiting pickup: every move out of a
# status that keeps a driver busy, and a driver coming on duty.
FREES_A_DRIVER: frozenset[str] = frozenset(
    {command_of(a) for a, row in TABLE.items() if _leaves(row, DRIVER_BUSY)} | {"staff.set_duty"}
)

_PARTY_WORDS: dict[Party, str] = {
    "operator": "the operator",
    "therapist": "the assigned therapist",
    "driver": "the assigned driver",
    "pickup_driver": "the pickup driver",
    "assigned": "the assigned therapist or driver",
    "operator_or_system": "the operator",
}


def verb(action: str) -> str:
    """What `action` does, completing "Can't …" (the words table's)."""
    return WORDS[command_of(action)].verb or action.replace("_", " ")


def is_party(appt: Record, actor: Actor, party: Party) -> bool:
    if actor.role == "system":
        return party == "operator_or_system"
    if party in ("operator", "operator_or_system"):
        return actor.role == "operator"
    therapist = actor.role == "therapist" and actor.id in (appt.get("therapist_ids") or [])
    driver = actor.role == "driver" and actor.id == appt.get("driver_id")
    if party == "therapist":
        return therapist
    if party == "driver":
        return driver
    if party == "pickup_driver":
        return actor.role == "driver" and actor.id == appt.get("pickup_driver_id")
    return therapist or driver  # "assigned"


def why_not(action: str, status: Status, sources: frozenset[Status]) -> str:
    """The reason `action` can't happen in `status`."""
    row = TABLE[action]
    if status in TERMINAL or status == S.REJECTED:
        return f"Can't {verb(action)}: it's {LABEL[status]}."
    position = {s: i for i, s in enumerate(MAIN_PATH)}
    firsts = [position[s] for s in sources if s in position]
    if status in position and firsts and position[status] < min(firsts):
        return f"Can't {verb(action)}: {row.not_yet}."
    return f"Can't {verb(action)}: it's already {LABEL[status]}."


def check(appt: Record, actor: Actor, action: str) -> Transition:
    """The row for `action`, or raise: Forbidden when the actor is not the
    party, InvalidTransition when the status doesn't allow it."""
    row = TABLE[action]
    if not is_party(appt, actor, row.party):
        raise Forbidden(f"Only {_PARTY_WORDS[row.party]} can {verb(action)}.")
    status = Status(appt["status"])
    sources = row.sources_for(actor.role)
    if status not in sources:
        raise InvalidTransition(why_not(action, status, sources))
    return row


def allowed(appt: Record, actor: Actor, action: str) -> bool:
    """Whether `action` would pass the table's checks (views show only these)."""
    try:
        check(appt, actor, action)
    except (Forbidden, InvalidTransition):
        return False
    if action == "accept":
        return actor.id not in (appt.get("accepted_ids") or [])
    return True


def stamped(
    appt: Record, row: Transition, actor: Actor, now: datetime, to: Status | None, **fields: object
) -> Record:
    """The appointment moved to `to` with the row's timestamp and actor."""
    at = iso(now)
    extra: dict[str, object] = {
        f"{row.stamp}_at": at,
        f"{row.stamp}_by": actor.id,
        "updated_at": at,
    }
    if to is not None:
        extra["status"] = to.value
    extra.update(fields)
    return bumped(appt, **extra)
