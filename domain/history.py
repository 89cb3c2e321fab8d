"""Who took a step in an appointment's history, from the record alone.

Every transition stamps `<stamp>_by` (see `domain.lifecycle.STAMPS`), a
booking `created_by` and a field edit `updated_by`; an event carries the
command's name (`cause`) and the record after it. So the record of each
version names who acted, without the command path logging anything more;
and one record, read on its own (`steps`), still tells who took each step
and when (the latest time, for a step taken more than once).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.lifecycle import TABLE, command_of
from domain.records import Record
from domain.status import Status
from domain.times import parse_instant

SYSTEM_ID = "system"  # the server's own jobs

# causes that aren't `appointment.<lifecycle action>`
_FIELDS: dict[str, str] = {
    "appointment.create": "created_by",
    "appointment.update": "updated_by",
    "appointments.auto_cancel_overdue": f"{TABLE['auto_cancel'].stamp}_by",
    "appointments.auto_assign_pickups": f"{TABLE['assign_pickup_driver'].stamp}_by",
}


def actor_field(cause: str) -> str | None:
    """The appointment field naming who made a step caused by `cause`."""
    if cause in _FIELDS:
        return _FIELDS[cause]
    kind, _, action = cause.partition(".")
    if kind == "appointment" and action in TABLE:
        return f"{TABLE[action].stamp}_by"
    return None


def actor_id(cause: str, appt: Record) -> str | None:
    """Who made the step that left `appt` as it is (a staff id, SYSTEM_ID, or
    None when the record doesn't say, e.g. an edit from before `updated_by`)."""
    field = actor_field(cause)
    who = appt.get(field) if field else None
    return who if isinstance(who, str) and who else None


# ---- the steps a record still shows


@dataclass(frozen=True)
class Step:
    """One step of an appointment's history as its record tells it."""

    cause: str  # the command's name, as an event of that step carries it
    stamp: str  # the `<stamp>_at` / `<stamp>_by` pair it comes from (actor_field's)
    at: str  # the record's ISO instant for it
    by: str | None  # who (a staff id, SYSTEM_ID), None when the record doesn't say
    status: str | None  # the status it left the appointment in, when the record tells


def instant(value: object) -> datetime | None:
    """A stamp's aware instant; None when it is missing or not one."""
    if not isinstance(value, str) or not value:
        return None
    try:
        when = parse_instant(value)
    except ValueError:
        return None
    return when if when.tzinfo is not None else None


def _decision(appt: Record) -> str | None:
    """The decision of the latest review, while the rejection on the record
    is the one it decided (a later rejection replaces it)."""
    rejection = appt.get("rejection") or {}
    decided = rejection.get("decided_at")
    if decided is None or decided != appt.get(f"{TABLE['review_rejection'].stamp}_at"):
        return None
    decision = rejection.get("decision")
    return decision if isinstance(decision, str) and decision else None


def steps(appt: Record) -> list[Step]:
    """The steps `appt` still carries a time for, oldest first (a tie in
    the lifecycle's order). A stamp holds the latest time a step was taken,
    so a step taken twice (rejected, reviewed, rejected again) shows once, at
    its latest. A step without a readable instant is left out, as is a
    field edit whose time the record no longer tells (`updated_at` is
    stamped by every later step too). One command that stamped two pairs
    reads as one step, the way its event does: a pickup request the server
    gave a driver at once, a rejection accepted (which cancels)."""
    found: list[tuple[datetime, int, Step]] = []

    def add(order: int, cause: str, stamp: str, status: str | None) -> None:
        at = appt.get(f"{stamp}_at")
        when = instant(at)
        if when is None:
            return
        by = appt.get(f"{stamp}_by")
        who = by if isinstance(by, str) and by else None
        found.append((when, order, Step(cause, stamp, str(at), who, status)))

    rejection = appt.get("rejection") or {}
    stamped_at = {a: appt.get(f"{row.stamp}_at") for a, row in TABLE.items()}
    # one command, two stamps: keep the step its event is caused by
    auto_pickup = (
        stamped_at["assign_pickup_driver"] is not None
        and stamped_at["assign_pickup_driver"] == stamped_at["request_pickup"]
        and appt.get(f"{TABLE['assign_pickup_driver'].stamp}_by") == SYSTEM_ID
    )
    review_cancelled = (
        _decision(appt) == "accept"
        and stamped_at["cancel"] is not None
        and stamped_at["cancel"] == stamped_at["review_rejection"]
    )

    add(-1, "appointment.create", "created", Status.PENDING.value)
    for order, (action, row) in enumerate(TABLE.items()):
        cause, status = command_of(action), row.to.value if row.to else None
        if action == "accept":  # a group booking moves once everyone has accepted
            accepted = appt.get("accepted_ids")
            status = None
            if isinstance(accepted, list):
                everyone = set(appt.get("therapist_ids") or []) <= set(accepted)
                status = (Status.THERAPIST_CONFIRMED if everyone else Status.PENDING).value
        elif action == "review_rejection":
            decision = _decision(appt)
            if decision is None:
                status = None  # the rejection on the record is a later one
            elif decision == "accept":
                status = Status.CANCELLED.value
            else:
                status = str(rejection.get("previous_status") or Status.PENDING.value)
        elif action == "request_pickup":
            status = (
                Status.DRIVER_ASSIGNED_PICKUP if auto_pickup else Status.PICKUP_REQUESTED
            ).value
        elif action == "assign_pickup_driver":
            if auto_pickup:
                continue
            if appt.get(f"{row.stamp}_by") == SYSTEM_ID:
                cause = "appointments.auto_assign_pickups"
        elif action == "cancel" and review_cancelled:
            continue
        add(order, cause, row.stamp, status)
    # a field edit: `updated_at` is its time only while no later step re-stamped it
    if appt.get("updated_by") and all(s.at != appt.get("updated_at") for _, _, s in found):
        add(len(TABLE), "appointment.update", "updated", appt.get("status"))
    found.sort(key=lambda f: (f[0], f[1]))
    return [s for _, _, s in found]


def as_left(appt: Record, step: Step) -> Record:
    """`appt` as far as it tells how `step` left it: the step's status (''
    when the record doesn't tell), no pickup driver yet after a pickup
    request nobody was sent for at once, no decision on a review the
    rejection on the record is newer than. The rest is the record as it is
    now (names, services, times)."""
    record = {**appt, "status": step.status or ""}
    if step.cause == "appointment.request_pickup" and step.status != (
        Status.DRIVER_ASSIGNED_PICKUP.value
    ):
        record["pickup_driver_id"] = None
    if step.cause == "appointment.review_rejection" and _decision(appt) is None:
        record["rejection"] = {**(appt.get("rejection") or {}), "decision": None}
    return record
