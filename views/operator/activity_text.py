"""What a server event says to a person: "Therapist Ana accepted Maria
Santos's 2 pm Swedish massage", "Driver Ben arrived at Maria Santos's".

Pure: an event, the snapshot to look names up in, who is reading and what
day it is go in; one `Activity` (or None when the event is only a side
effect, such as a notification) comes out. A step read back from an
appointment's record (`domain.history.steps`, for the feed's backfill) is
worded by the same sentences, as the event of that step would have been. Who acted comes from the
record's own stamps (`domain.history`), the line under each sentence is the
domain's status text, so neither is restated here; only the past-tense
sentences are this module's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.attendance import hours_text, seconds_total
from domain.commands import Snapshot
from domain.history import SYSTEM_ID, Step, actor_field, actor_id, as_left
from domain.records import Record, client_name, staff_name
from domain.status import Status, status_text
from domain.times import parse_instant
from domain.words import WORDS
from views.operator.stats import revenue
from views.operator.words import METHOD_LABELS, capitalized, clock_text, day_text, money
from views.port import ServerEvent

SYSTEM_NAME = "Tandem"  # what the server's own jobs are called in the feed
STATUSES = frozenset(s.value for s in Status)

# cause -> the sentence, from the words table (its `done`).
SENTENCES: dict[str, str] = {name: w.done for name, w in WORDS.items() if w.done}
REVIEWS: dict[str, str] = {
    "deny": "{who} turned down the rejection of {booking}",
    "accept": "{who} accepted the rejection and cancelled {booking}",
    "reassign": "{who} gave {booking} to {therapists}",
}


@dataclass(frozen=True)
class Activity:
    seq: int
    kind: str  # the entity: appointment, staff, client or availability
    text: str
    detail: str = ""  # the status it is in now, in the domain's words
    at: str | None = None  # ISO instant of the change, when the record says


def person(uid: object, snap: Snapshot, me: str | None) -> str:
    """'You', 'Tandem' (the server's jobs), 'Therapist Ana', or 'Someone'."""
    if not uid:
        return "Someone"
    if uid == me:
        return "You"
    if uid == SYSTEM_ID:
        return SYSTEM_NAME
    record = snap.get("staff", str(uid))
    if record is None:
        return "Someone"
    role = str(record.get("role") or "").capitalize()
    return f"{role} {staff_name(record)}".strip()


def _people(ids: list[Any], snap: Snapshot, me: str | None) -> str:
    names = [person(i, snap, me) for i in ids if i]
    if len(names) > 1:
        return ", ".join(names[:-1]) + " and " + names[-1]
    return names[0] if names else "the therapist"


def _client(appt: Record, snap: Snapshot) -> str:
    name = appt.get("client_name")
    if name:
        return str(name)
    return client_name(snap.get("client", str(appt.get("client_id") or "")))


def _services(appt: Record, snap: Snapshot) -> str:
    names = []
    for sid in appt.get("service_ids") or []:
        record = snap.get("service", str(sid))
        if record and record.get("name"):
            names.append(str(record["name"]))
    return " and ".join(names) or "appointment"


def _appointment(
    event: ServerEvent, snap: Snapshot, me: str | None, today: date | None
) -> Activity:
    appt = event.data or {}
    cause = event.cause
    client = _client(appt, snap)
    booking = (
        f"{client}'s {clock_text(appt.get('start_time'))} {_services(appt, snap)}"
        f"{day_text(appt.get('date'), today)}"
    )
    actor = actor_id(cause, appt)
    method = METHOD_LABELS.get(str((appt.get("payment") or {}).get("method")))
    words = {
        "who": person(actor, snap, me),
        "booking": booking,
        "client": client,
        "therapists": _people(list(appt.get("therapist_ids") or []), snap, me),
        "pickup_driver": person(appt.get("pickup_driver_id"), snap, me),
        "payment": f"payment of {money(revenue(appt))}" + (f" ({method})" if method else ""),
    }
    if cause == "appointment.review_rejection":
        decision = str((appt.get("rejection") or {}).get("decision") or "")
        template = REVIEWS.get(decision, "{who} reviewed the rejection of {booking}")
    else:
        template = SENTENCES.get(cause, "{booking} was updated")
    text = capitalized(template.format(**words))
    status = str(appt.get("status") or "")
    if cause == "appointment.reject":
        reason = (appt.get("rejection") or {}).get("reason")
        text += f": “{reason}”" if reason else ""
    elif cause == "appointment.cancel" and appt.get("cancel_reason"):
        text += f": “{appt['cancel_reason']}”"
    elif cause == "appointment.accept" and status == Status.PENDING.value:
        text += " (waiting for the other therapists)"
    elif cause == "appointment.request_pickup" and appt.get("pickup_driver_id"):
        text += f"; {SYSTEM_NAME} sent {words['pickup_driver']}"
    detail = status_text(status, "operator") if status in STATUSES else ""
    field = actor_field(cause)  # <stamp>_by, stamped together with <stamp>_at
    at = appt.get(field.removesuffix("_by") + "_at") if field else None
    return Activity(
        event.seq, "appointment", text, detail, str(at or appt.get("updated_at") or "") or None
    )


def describe(
    event: ServerEvent, snap: Snapshot, me: str | None = None, today: date | None = None
) -> Activity | None:
    """The feed's line for `event`; None for what is only a side effect
    (notifications, a driver's idle stamp) or not news (seeding, services)."""
    data = event.data or {}
    if event.entity == "appointment" and event.op == "upsert" and event.data:
        return _appointment(event, snap, me, today)
    if event.entity == "staff" and event.cause == "staff.set_duty" and event.data:
        duty = "on duty" if data.get("on_duty") else "off duty"
        return Activity(event.seq, "staff", f"{person(data['id'], snap, None)} is now {duty}")
    if event.entity == "client" and event.data:
        name = client_name(data)
        if event.cause == "client.create":
            return Activity(event.seq, "client", f"New client: {name}")
        if event.cause == "client.update":
            return Activity(event.seq, "client", f"{name}'s details were updated")
        return None
    if event.entity == "availability" and event.cause.startswith("availability."):
        if event.op == "delete" or not event.data:
            return Activity(event.seq, "availability", "An availability slot was removed")
        who = person(data.get("user_id"), snap, me)
        hours = f"{clock_text(data.get('start_time'))}–{clock_text(data.get('end_time'))}"
        when = day_text(data.get("date"), today) or " today"
        if event.cause == "availability.update":
            state = "available" if data.get("available", True) else "not available"
            text = f"{who} changed a slot: {state} {hours}{when}"
        elif data.get("available", True):
            text = f"{who}: available {hours}{when}"
        else:
            text = f"{who}: not available {hours}{when}"
        return Activity(event.seq, "availability", text)
    if event.entity == "shift" and event.cause.startswith("attendance.") and event.data:
        return _shift(event, data, snap, me)
    return None


def _shift(event: ServerEvent, data: Record, snap: Snapshot, me: str | None) -> Activity:
    """'Therapist Ana clocked in, 12 min late', 'Driver Ben clocked out after 7 h 48 min'."""
    who = person(data.get("user_id"), snap, me)
    if event.cause == "attendance.clock_out" and data.get("clock_out_at"):
        after = hours_text(seconds_total(data, parse_instant(str(data["clock_out_at"]))))
        return Activity(event.seq, "shift", f"{who} clocked out after {after}",
                        at=str(data["clock_out_at"]))
    late = f", {int(data.get('late_minutes') or 0)} min late" if data.get("late") else ""
    return Activity(event.seq, "shift", f"{who} clocked in{late}",
                    at=str(data.get("clock_in_at") or "") or None)


def describe_step(
    appt: Record, step: Step, snap: Snapshot, me: str | None = None, today: date | None = None
) -> Activity:
    """The line the event of `step` would have had, from `appt` as it is now
    (seq 0: it comes from the record, not from an event)."""
    record = as_left(appt, step)
    event = ServerEvent(
        0, "appointment", str(appt.get("id") or ""), "upsert", 0, record, step.cause
    )
    return _appointment(event, snap, me, today)
