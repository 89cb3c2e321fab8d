"""One appointment's timeline, read from the event log: who did what, when.

Each upsert event of the appointment is one step. The log keeps the command
(`cause`), the instant and the record after the step; who acted is the
record's own stamp for that step (`domain.history`), so nothing new is
written on the command path.
Pure: the route (server.api) loads the events and the people.

An entry (GET /api/appointments/{id}/timeline, an extension of the wire
protocol; see server/README.md):

    {seq, at, version, actor: {id, name, role}, command,
     status_before, status_after, summary}

`summary` completes a sentence that starts with the actor's name: "accepted",
"rejected it: I'm unwell", "moved it to 2026-11-22, 10:00–11:00".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from domain.history import SYSTEM_ID, actor_id
from domain.records import Record, staff_name
from server.events import Event

SYSTEM = {"id": SYSTEM_ID, "name": "Tandem", "role": "system"}  # the server's jobs

PAID_BY = {"cash": "cash", "gcash": "GCash", "bank_transfer": "bank transfer", "card": "card"}


def _names(ids: Sequence[str] | None, people: Mapping[str, Record]) -> str:
    return ", ".join(staff_name(people.get(i)) for i in ids or []) or "nobody"


def _edit_summary(before: Record | None, after: Record, people: Mapping[str, Record]) -> str:
    """What a field edit changed, in words (an edit's args aren't logged: the
    difference between the two versions is)."""
    if before is None:  # the version before is no longer in the log
        return "edited it"
    parts: list[str] = []
    when = ("date", "start_time", "end_time")
    if any(before.get(k) != after.get(k) for k in when):
        parts.append(
            f"moved it to {after.get('date')}, {after.get('start_time')}–{after.get('end_time')}"
        )
    if before.get("therapist_ids") != after.get("therapist_ids"):
        parts.append(f"changed the therapists to {_names(after.get('therapist_ids'), people)}")
    if before.get("driver_id") != after.get("driver_id"):
        driver = after.get("driver_id")
        parts.append(
            f"assigned {staff_name(people.get(driver))} to drive" if driver
            else "took the driver off"
        )
    for field, words in (("client_id", "the client"), ("service_ids", "the services"),
                         ("location", "the address"), ("notes", "the notes")):
        if before.get(field) != after.get(field):
            parts.append(f"changed {words}")
    text = "; ".join(parts) or "edited it"
    if after.get("status") == "pending" and before.get("status") != "pending":
        text += " (the therapists must accept again)"
    return text


def _rejection_summary(after: Record, people: Mapping[str, Record]) -> str:
    rejection = after.get("rejection") or {}
    decision = rejection.get("decision")
    if decision == "accept":
        return "accepted the rejection and cancelled it"
    if decision == "reassign":
        return f"reassigned it to {_names(after.get('therapist_ids'), people)}"
    return "denied the rejection and kept the booking"


def _amount(value: object) -> str:
    """1500 → "1,500"; 1500.5 → "1,500.50" (pesos: no exponent, no stray digits)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _payment_summary(after: Record) -> str:
    pay = after.get("payment") or {}
    method = PAID_BY.get(str(pay.get("method")), str(pay.get("method") or "a"))
    text = f"verified a {method} payment"
    if pay.get("amount") is not None:
        text += f" of {_amount(pay['amount'])}"
    if pay.get("extension_amount"):
        text += f" (extension {_amount(pay['extension_amount'])})"
    if pay.get("receipt_id"):
        text += " with a receipt photo"
    return text


def _claim_summary(after: Record) -> str:
    claim = after.get("payment_claim") or {}
    if not claim.get("method"):
        return "requested payment"
    method = PAID_BY.get(str(claim["method"]), str(claim["method"]))
    photo = " and attached a receipt photo" if claim.get("receipt_id") else ""
    return f"requested payment: paid by {method}{photo}"


def _pickup_driver(after: Record, people: Mapping[str, Record]) -> str:
    return staff_name(people.get(after.get("pickup_driver_id") or ""))


def _with_reason(text: str, reason: object) -> str:
    return f"{text}: {reason}" if reason else text


Summary = Callable[[Record | None, Record, Mapping[str, Record]], str]

SUMMARIES: dict[str, Summary] = {
    "appointment.create": lambda b, a, p: (
        f"booked it for {a.get('date')}, {a.get('start_time')}–{a.get('end_time')}"
        f" with {_names(a.get('therapist_ids'), p)}"
    ),
    "appointment.update": _edit_summary,
    "appointment.accept": lambda b, a, p: "accepted" if a.get("status") != "pending"
    else "accepted (waiting for the other therapists)",
    "appointment.reject": lambda b, a, p: _with_reason(
        "rejected it", (a.get("rejection") or {}).get("reason")),
    "appointment.review_rejection": lambda b, a, p: _rejection_summary(a, p),
    "appointment.confirm": lambda b, a, p: "confirmed the trip",
    "appointment.start": lambda b, a, p: "started the appointment",
    "appointment.start_journey": lambda b, a, p: "set off to the client",
    "appointment.arrive": lambda b, a, p: "arrived at the client's place",
    "appointment.drop_off": lambda b, a, p: "dropped off the therapist",
    "appointment.start_session": lambda b, a, p: "started the session",
    "appointment.request_payment": lambda b, a, p: _claim_summary(a),
    "appointment.verify_payment": lambda b, a, p: _payment_summary(a),
    "appointment.complete": lambda b, a, p: "completed the session",
    "appointment.request_pickup": lambda b, a, p: (
        f"requested a{'n urgent' if (a.get('pickup') or {}).get('urgency') == 'urgent' else ''}"
        " pickup"
        + (f"; {_pickup_driver(a, p)} was assigned to it"
           if a.get("status") == "driver_assigned_pickup" else "")
    ),
    "appointment.assign_pickup_driver": lambda b, a, p: (
        f"assigned {_pickup_driver(a, p)} for the pickup"),
    "appointments.auto_assign_pickups": lambda b, a, p: (
        f"assigned {_pickup_driver(a, p)} for the pickup"),
    "appointment.confirm_pickup": lambda b, a, p: "confirmed the pickup",
    "appointment.complete_return": lambda b, a, p: "completed the return trip",
    "appointment.cancel": lambda b, a, p: _with_reason("cancelled it", a.get("cancel_reason")),
    "appointments.auto_cancel_overdue": lambda b, a, p: (
        "auto-cancelled it: nobody accepted in time"),
}


def actor_of(cause: str, after: Record, people: Mapping[str, Record]) -> dict[str, Any]:
    who = actor_id(cause, after)
    if who == SYSTEM_ID:
        return dict(SYSTEM)
    if who is None:
        return {"id": None, "name": "Someone", "role": None}
    person = people.get(who)
    return {"id": who, "name": staff_name(person), "role": (person or {}).get("role")}


def entries(events: Sequence[Event], people: Mapping[str, Record]) -> list[dict[str, Any]]:
    """The timeline of one record's upsert events (in seq order, already
    filtered to what the reader may see); `people`: staff by id."""
    out: list[dict[str, Any]] = []
    before: Record | None = None
    for e in events:
        if e.op != "upsert" or e.data is None:
            continue
        after = e.data
        if before is not None and int(before.get("version", 0)) >= e.version:
            continue  # one version, several events (never expected; keep one)
        summary = SUMMARIES.get(e.cause)
        out.append({
            "seq": e.seq,
            "at": e.created_at,
            "version": e.version,
            "actor": actor_of(e.cause, after, people),
            "command": e.cause,
            "status_before": before.get("status") if before else None,
            "status_after": after.get("status"),
            "summary": summary(before, after, people) if summary else "changed it",
        })
        before = after
    return out
