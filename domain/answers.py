"""Answers: the therapists accept (all of them, for a team) or reject, the
operator reviews a rejection, and each answer waits until a deadline."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from domain import validate as v
from domain.booking import check_therapists, person
from domain.commands import Outcome
from domain.context import Ctx, upsert
from domain.errors import InvalidArgs, InvalidTransition
from domain.lifecycle import check, stamped
from domain.notify import assigned, describe, notices, operators, told
from domain.records import Record, staff_name
from domain.status import Status
from domain.times import iso

S = Status


def deadline(ctx: Ctx) -> str:
    return iso(ctx.now + timedelta(minutes=ctx.settings.response_minutes))


def settled(therapist_ids: Iterable[str], accepted_ids: Iterable[str]) -> Status:
    """Where the answers leave a booking that waits for its therapists:
    confirmed once every assigned therapist has accepted, pending before."""
    everyone = set(therapist_ids) <= set(accepted_ids)
    return S.THERAPIST_CONFIRMED if everyone else S.PENDING


def accept(ctx: Ctx) -> Outcome:
    appt = ctx.target("appointment")
    v.only(ctx.cmd.args, ())
    row = check(appt, ctx.actor, "accept")
    accepted = list(appt.get("accepted_ids") or [])
    if ctx.actor.id in accepted:
        raise InvalidTransition("Can't accept the appointment: you've already accepted it.")
    accepted.append(ctx.actor.id)
    everyone = set(appt["therapist_ids"]) <= set(accepted)
    new = stamped(
        appt, row, ctx.actor, ctx.now, row.to if everyone else None, accepted_ids=accepted
    )
    changes = [upsert("appointment", new, appt)]
    if everyone:
        who = staff_name(ctx.snap.get("staff", ctx.actor.id))
        targets = operators(ctx.snap) + ([appt["driver_id"]] if appt.get("driver_id") else [])
        changes += notices(
            ctx.cmd, ctx.now, targets, "accepted", f"{who} accepted {describe(appt)}", appt["id"]
        )
    return Outcome(tuple(changes))


def reject(ctx: Ctx) -> Outcome:
    appt = ctx.target("appointment")
    v.only(ctx.cmd.args, ("reason",))
    row = check(appt, ctx.actor, "reject")
    reason = v.required_text(ctx.cmd.args, "reason", "a reason for rejecting")
    rejection = {
        "by": ctx.actor.id,
        "role": ctx.actor.role,
        "reason": reason,
        "at": iso(ctx.now),
        "previous_status": appt["status"],
        "decision": None,
    }
    new = stamped(appt, row, ctx.actor, ctx.now, row.to, rejection=rejection)
    who = staff_name(ctx.snap.get("staff", ctx.actor.id))
    text = f"{who} rejected {describe(appt)}: {reason}"
    return told(ctx, appt, new, operators(ctx.snap), "rejected", text)


def review_rejection(ctx: Ctx) -> Outcome:
    appt = ctx.target("appointment")
    v.only(ctx.cmd.args, ("decision", "therapist_id", "driver_id", "reason"))
    row = check(appt, ctx.actor, "review_rejection")
    decision = v.choice(ctx.cmd.args, "decision", ("deny", "accept", "reassign"), "a decision")
    note = v.text(ctx.cmd.args, "reason", "a reason", required=False)
    rejection = dict(appt.get("rejection") or {})
    rejection.update(decision=decision, decided_by=ctx.actor.id, decided_at=iso(ctx.now), note=note)
    role = rejection.get("role")
    back = S(rejection.get("previous_status") or S.PENDING.value)
    fields: dict[str, Any] = {"rejection": rejection}
    if decision == "accept":
        to = S.CANCELLED
        fields.update(
            cancel_reason=f"Rejected: {rejection.get('reason')}",
            cancelled_at=iso(ctx.now),
            cancelled_by=ctx.actor.id,
        )
    elif decision == "deny":
        to = back
    else:
        fields.update(_reassigned(ctx, appt, rejection))
        to = back if role == "driver" else S.PENDING
    if to in (S.PENDING, S.THERAPIST_CONFIRMED):
        # an edit while it was rejected may have dropped or completed the answers
        after = {**appt, **fields}
        to = settled(after["therapist_ids"], after.get("accepted_ids") or [])
    if to == S.PENDING:
        # A fresh deadline: without it the job would auto-cancel at once.
        fields["response_deadline"] = deadline(ctx)
    new = stamped(appt, row, ctx.actor, ctx.now, to, **fields)
    people = [*assigned(new), *assigned(appt)]  # in order: notice ids follow it
    text = f"Rejection reviewed ({decision}): {describe(new)}"
    return told(ctx, appt, new, people, "reviewed", text)


def _reassigned(ctx: Ctx, appt: Record, rejection: Record) -> dict[str, Any]:
    """The fields that put a new driver or therapist in the rejecter's place."""
    if rejection.get("role") == "driver":
        driver = v.ident(ctx.cmd.args, "driver_id", "the new driver")
        assert driver is not None
        if driver == appt.get("driver_id"):
            raise InvalidArgs("That driver is already on this appointment.")
        person(ctx.snap, driver, "driver")
        return {"driver_id": driver}
    tid = v.ident(ctx.cmd.args, "therapist_id", "the new therapist")
    assert tid is not None
    team, rejecter = appt["therapist_ids"], rejection.get("by")
    if tid in team:
        raise InvalidArgs("That therapist is already on this appointment.")
    if rejecter not in team:
        # edited off meanwhile: whom the new therapist would replace is anyone's guess
        who = staff_name(ctx.snap.get("staff", str(rejecter)))
        raise InvalidArgs(
            f"Can't reassign: {who} is no longer on this appointment. "
            "Deny the rejection to send it back to the therapists on it now."
        )
    check_therapists(
        ctx.snap, [tid], appt["date"], appt["start_time"], appt["end_time"], ignore_id=appt["id"]
    )
    therapists = [tid if t == rejecter else t for t in team]
    kept = [t for t in appt.get("accepted_ids") or [] if t in therapists]
    return {"therapist_ids": therapists, "accepted_ids": kept}


HANDLERS: dict[str, Callable[[Ctx], Outcome]] = {
    "appointment.accept": accept,
    "appointment.reject": reject,
    "appointment.review_rejection": review_rejection,
}
