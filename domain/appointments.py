"""Appointment commands: create, update, and every lifecycle action."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from domain import validate as v
from domain.booking import check_therapists, person
from domain.commands import Change, Outcome
from domain.context import Ctx, upsert
from domain.errors import (
    DriverBusy,
    Forbidden,
    InvalidArgs,
    InvalidTransition,
    NotFound,
    VersionConflict,
)
from domain.lifecycle import TABLE, check, stamped
from domain.notify import assigned, describe, notices, operators
from domain.pickup import busy_drivers, free_drivers, is_free
from domain.records import Record, bumped, client_name, staff_name
from domain.status import LABEL, TERMINAL, Status
from domain.times import iso, parse_instant

S = Status
CREATE_FIELDS = (
    "client_id",
    "service_ids",
    "therapist_ids",
    "driver_id",
    "date",
    "start_time",
    "end_time",
    "location",
    "notes",
)
# Before the operator starts it, an appointment can be re-planned.
PLANNING = frozenset({S.PENDING, S.REJECTED, S.THERAPIST_CONFIRMED, S.DRIVER_CONFIRMED})
SCHEDULE_FIELDS = frozenset(
    {"client_id", "service_ids", "therapist_ids", "date", "start_time", "end_time"}
)
# What a therapist says yes to, with the team: moving it asks everyone again.
SLOT = ("date", "start_time", "end_time")
# Waiting for, or past, every therapist's acceptance, before the operator starts it.
ANSWERING = frozenset({S.PENDING, S.THERAPIST_CONFIRMED, S.DRIVER_CONFIRMED})
# An appointment waits for its answers until its response deadline; the
# overdue sweep reads every appointment in one of these, whatever its date.
AWAITING_ANSWERS = frozenset({S.PENDING})
PAYMENT_METHODS = ("cash", "gcash", "bank_transfer", "card")
URGENCIES = ("normal", "urgent")


def deadline(ctx: Ctx) -> str:
    return iso(ctx.now + timedelta(minutes=ctx.settings.response_minutes))


def _fields(ctx: Ctx, args: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """Validated appointment fields (only those present when partial)."""
    v.only(args, CREATE_FIELDS)
    out: dict[str, Any] = {}

    def want(key: str) -> bool:
        return not partial or key in args

    if want("client_id"):
        cid = v.ident(args, "client_id", "a client")
        assert cid is not None
        client = ctx.snap.get("client", cid)
        if client is None:
            raise NotFound("That client doesn't exist.")
        out["client_id"], out["client_name"] = cid, client_name(client)
    if want("service_ids"):
        out["service_ids"] = v.ids(args, "service_ids", "at least one service")
        for sid in out["service_ids"]:
            if ctx.snap.get("service", sid) is None:
                raise NotFound(f"There is no service with id {sid}.")
    if want("therapist_ids"):
        out["therapist_ids"] = v.ids(args, "therapist_ids", "at least one therapist")
    if want("driver_id"):
        driver = v.ident(args, "driver_id", "a driver", required=False)
        if driver is not None:
            person(ctx.snap, driver, "driver")
        out["driver_id"] = driver
    if want("date"):
        out["date"] = v.day(args)
    if want("start_time"):
        out["start_time"] = v.clock(args, "start_time", "a start time")
    if want("end_time"):
        out["end_time"] = v.clock(args, "end_time", "an end time")
    if want("location"):
        out["location"] = v.required_text(args, "location", "the address")
    if want("notes"):
        out["notes"] = v.text(args, "notes", "notes", required=False)
    if "start_time" in out and out.get("start_time") == out.get("end_time"):
        raise InvalidArgs("The end time must differ from the start time.")
    return out


def _operator(ctx: Ctx, verb: str) -> None:
    if ctx.actor.role != "operator":
        raise Forbidden(f"Only the operator can {verb}.")


def create(ctx: Ctx) -> Outcome:
    _operator(ctx, "book appointments")
    aid = ctx.new_id("appointment")
    f = _fields(ctx, dict(ctx.cmd.args), partial=False)
    check_therapists(ctx.snap, f["therapist_ids"], f["date"], f["start_time"], f["end_time"])
    at = iso(ctx.now)
    appt: Record = {
        "id": aid,
        "version": 1,
        "status": S.PENDING.value,
        **f,
        "accepted_ids": [],
        "pickup_driver_id": None,
        "response_deadline": deadline(ctx),
        "created_at": at,
        "created_by": ctx.actor.id,
        "updated_at": at,
        "rejection": None,
        "payment": None,
        "materials": [],
        "pickup": None,
        "cancel_reason": None,
    }
    text = f"New booking: {describe(appt)}"
    return Outcome(
        (
            upsert("appointment", appt, None),
            *notices(ctx.cmd, ctx.now, assigned(appt), "created", text, aid),
        )
    )


def update(ctx: Ctx) -> Outcome:
    _operator(ctx, "edit appointments")
    appt = ctx.target("appointment")
    if ctx.cmd.base_version != appt["version"]:
        raise VersionConflict(
            "Someone changed this appointment while you were editing it. "
            "Have a look at the latest version and try again."
        )
    f = _fields(ctx, dict(ctx.cmd.args), partial=True)
    if not f:
        raise InvalidArgs("Nothing to change.")
    status = S(appt["status"])
    if status in TERMINAL:
        raise InvalidTransition(f"Can't edit the appointment: it's {LABEL[status]}.")
    if status not in PLANNING and (set(f) & SCHEDULE_FIELDS or "driver_id" in f):
        raise InvalidTransition(
            f"Can't change the schedule: the appointment is already {LABEL[status]}."
        )
    merged = {**appt, **f}
    if set(f) & {"therapist_ids", *SLOT}:
        check_therapists(
            ctx.snap,
            merged["therapist_ids"],
            merged["date"],
            merged["start_time"],
            merged["end_time"],
            ignore_id=appt["id"],
        )
    extra = _replanned(ctx, appt, merged)
    # updated_by: an edit has no lifecycle stamp, yet the timeline says who made it
    new = bumped(appt, **f, **extra, updated_at=iso(ctx.now), updated_by=ctx.actor.id)
    newcomers = [p for p in assigned(new) if p not in assigned(appt)]
    text = f"Booking updated: {describe(new)}"
    changes = [
        upsert("appointment", new, appt),
        *notices(ctx.cmd, ctx.now, newcomers, "assigned", text, new["id"]),
    ]
    driver = new.get("driver_id")
    confirmed = appt["status"] == S.PENDING.value and new["status"] != S.PENDING.value
    if confirmed and driver and driver not in newcomers:
        # as when the last therapist accepts: the driver can confirm now
        ready = f"Every therapist accepted {describe(new)}"
        changes += notices(
            ctx.cmd, ctx.now, [driver], "accepted", ready, new["id"], start=len(newcomers)
        )
    return Outcome(tuple(changes))


def settled(therapist_ids: Iterable[str], accepted_ids: Iterable[str]) -> Status:
    """Where the answers leave a booking that waits for its therapists:
    confirmed once every assigned therapist has accepted, pending before."""
    everyone = set(therapist_ids) <= set(accepted_ids)
    return S.THERAPIST_CONFIRMED if everyone else S.PENDING


def _replanned(ctx: Ctx, before: Record, after: Record) -> dict[str, Any]:
    """What an edit from `before` to `after` does to the answers given so far.

    An acceptance is for a team and a slot: a new slot drops them all, a new
    team keeps those of the therapists still on it. The booking then stands
    where those answers leave it, as if the last of them had just been given;
    whoever is newly asked gets a full response window. A new driver must
    confirm again."""
    status = S(before["status"])
    moved = any(before.get(k) != after.get(k) for k in SLOT)
    team = list(after["therapist_ids"])
    if not moved and set(team) == set(before["therapist_ids"]):
        if after.get("driver_id") != before.get("driver_id") and status == S.DRIVER_CONFIRMED:
            return {"status": S.THERAPIST_CONFIRMED.value}
        return {}
    kept = [] if moved else [t for t in before.get("accepted_ids") or [] if t in team]
    out: dict[str, Any] = {"accepted_ids": kept}
    if status not in ANSWERING:
        return out  # rejected: the operator's review settles it
    to = settled(team, kept)
    out["status"] = to.value
    newcomers = set(team) - set(before["therapist_ids"])
    if to == S.PENDING and (moved or newcomers or status != S.PENDING):
        out["response_deadline"] = deadline(ctx)
    return out


def _simple(action: str) -> Callable[[Ctx], Outcome]:
    """A plain table transition: check, move, stamp."""

    def handler(ctx: Ctx) -> Outcome:
        appt = ctx.target("appointment")
        v.only(ctx.cmd.args, ())
        row = check(appt, ctx.actor, action)
        new = stamped(appt, row, ctx.actor, ctx.now, row.to)
        changes: list[Change] = [upsert("appointment", new, appt)]
        changes += _side_effects(ctx, action, new)
        return Outcome(tuple(changes))

    return handler


def _idle_stamp(ctx: Ctx, driver_id: str | None) -> list[Change]:
    """A driver who just finished a trip is free again from now."""
    driver = ctx.snap.get("staff", driver_id) if driver_id else None
    if driver is None:
        return []
    return [upsert("staff", bumped(driver, last_available_at=iso(ctx.now)), driver)]


def _side_effects(ctx: Ctx, action: str, appt: Record) -> list[Change]:
    aid = appt["id"]
    if action == "confirm":
        return notices(
            ctx.cmd,
            ctx.now,
            appt["therapist_ids"],
            "driver_confirmed",
            f"Your driver confirmed: {describe(appt)}",
            aid,
        )
    if action == "start":
        return notices(
            ctx.cmd, ctx.now, assigned(appt), "started", f"Started: {describe(appt)}", aid
        )
    if action == "drop_off":
        return _idle_stamp(ctx, appt.get("driver_id"))
    if action == "request_payment":
        return notices(
            ctx.cmd,
            ctx.now,
            operators(ctx.snap),
            "payment_requested",
            f"Payment to verify: {describe(appt)}",
            aid,
        )
    if action == "complete_return":
        return _idle_stamp(ctx, appt.get("pickup_driver_id"))
    return []


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
    return Outcome(
        (
            upsert("appointment", new, appt),
            *notices(
                ctx.cmd,
                ctx.now,
                operators(ctx.snap),
                "rejected",
                f"{who} rejected {describe(appt)}: {reason}",
                appt["id"],
            ),
        )
    )


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
    return Outcome(
        (
            upsert("appointment", new, appt),
            *notices(
                ctx.cmd,
                ctx.now,
                people,
                "reviewed",
                f"Rejection reviewed ({decision}): {describe(new)}",
                new["id"],
            ),
        )
    )


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


def verify_payment(ctx: Ctx) -> Outcome:
    appt = ctx.target("appointment")
    args = ctx.cmd.args
    v.only(args, ("method", "amount", "receipt_ref", "extension_amount"))
    row = check(appt, ctx.actor, "verify_payment")
    method = v.choice(args, "method", PAYMENT_METHODS, "a payment method")
    amount = v.amount(args, "amount", "the amount")
    receipt = v.text(args, "receipt_ref", "the receipt reference", required=method != "cash")
    extension = v.amount(args, "extension_amount", "the extension amount", required=False)
    payment = {
        "method": method,
        "amount": amount,
        "receipt_ref": receipt,
        "extension_amount": extension,
    }
    new = stamped(appt, row, ctx.actor, ctx.now, row.to, payment=payment)
    return Outcome(
        (
            upsert("appointment", new, appt),
            *notices(
                ctx.cmd,
                ctx.now,
                new["therapist_ids"],
                "payment_verified",
                f"Payment verified: {describe(new)}",
                new["id"],
            ),
        )
    )


def complete(ctx: Ctx) -> Outcome:
    appt = ctx.target("appointment")
    v.only(ctx.cmd.args, ("materials",))
    row = check(appt, ctx.actor, "complete")
    materials = _materials(ctx.cmd.args.get("materials"))
    new = stamped(appt, row, ctx.actor, ctx.now, row.to, materials=materials)
    return Outcome((upsert("appointment", new, appt),))


def _materials(value: object) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > 50:
        raise InvalidArgs("Materials must be a list of {name, quantity}.")
    out = []
    for item in value:
        if not isinstance(item, dict):
            raise InvalidArgs("Each material needs a name and a quantity.")
        name = v.required_text(item, "name", "the material's name")
        qty = v.amount(item, "quantity", "the quantity")
        out.append({"name": name, "quantity": qty})
    return out


def request_pickup(ctx: Ctx) -> Outcome:
    appt = ctx.target("appointment")
    v.only(ctx.cmd.args, ("urgency", "notes"))
    row = check(appt, ctx.actor, "request_pickup")
    urgency = v.choice(ctx.cmd.args, "urgency", URGENCIES, "the urgency")
    pickup = {"urgency": urgency, "notes": v.text(ctx.cmd.args, "notes", "notes", required=False)}
    new = stamped(appt, row, ctx.actor, ctx.now, S.PICKUP_REQUESTED, pickup=pickup)
    driver = _longest_idle(ctx)
    if driver is not None:
        return _assign_pickup(ctx, appt, new, driver["id"], by_system=True)
    return Outcome(
        (
            upsert("appointment", new, appt),
            *notices(
                ctx.cmd,
                ctx.now,
                operators(ctx.snap),
                "pickup_requested",
                f"Pickup needed ({urgency}): {describe(new)}",
                new["id"],
            ),
        )
    )


def _longest_idle(ctx: Ctx, exclude: set[str] | None = None) -> Record | None:
    free = free_drivers(ctx.snap.all("staff"), ctx.snap.all("appointment"))
    free = [d for d in free if d["id"] not in (exclude or set())]
    return free[0] if free else None


def _assign_pickup(
    ctx: Ctx, before: Record, appt: Record, driver_id: str, *, by_system: bool, n: int = 0
) -> Outcome:
    row = TABLE["assign_pickup_driver"]
    actor_id = "system" if by_system else ctx.actor.id
    at = iso(ctx.now)
    new = bumped(
        appt,
        status=S.DRIVER_ASSIGNED_PICKUP.value,
        pickup_driver_id=driver_id,
        **{f"{row.stamp}_at": at, f"{row.stamp}_by": actor_id},
        updated_at=at,
    )
    new["version"] = before["version"] + 1  # one command, one version step
    return Outcome(
        (
            upsert("appointment", new, before),
            *notices(
                ctx.cmd,
                ctx.now,
                [driver_id],
                "pickup_assigned",
                f"Pickup for you: {describe(new)} at {new.get('location')}",
                new["id"],
                start=n,
            ),
        )
    )


def assign_pickup_driver(ctx: Ctx) -> Outcome:
    appt = ctx.target("appointment")
    v.only(ctx.cmd.args, ("driver_id",))
    check(appt, ctx.actor, "assign_pickup_driver")
    driver_id = v.ident(ctx.cmd.args, "driver_id", "a driver")
    assert driver_id is not None
    driver = person(ctx.snap, driver_id, "driver")
    if not is_free(driver, busy_drivers(ctx.snap.all("appointment"))):
        raise DriverBusy(f"{staff_name(driver)} is not free right now.")
    return _assign_pickup(ctx, appt, appt, driver_id, by_system=False)


def auto_assign_pickups(ctx: Ctx) -> Outcome:
    """Give each waiting pickup (urgent first, oldest first) a free driver."""
    if ctx.actor.role not in ("operator", "system"):
        raise Forbidden("Only the operator can assign pickups.")
    waiting = sorted(
        (a for a in ctx.snap.all("appointment") if a["status"] == S.PICKUP_REQUESTED.value),
        key=lambda a: (
            (a.get("pickup") or {}).get("urgency") != "urgent",
            a.get("pickup_requested_at") or "",
            a["id"],
        ),
    )
    changes: list[Change] = []
    taken: set[str] = set()
    for appt in waiting:
        driver = _longest_idle(ctx, taken)
        if driver is None:
            break
        taken.add(driver["id"])
        changes += _assign_pickup(
            ctx, appt, appt, driver["id"], by_system=True, n=len(changes)
        ).changes
    return Outcome(tuple(changes))


def cancel(ctx: Ctx) -> Outcome:
    appt = ctx.target("appointment")
    v.only(ctx.cmd.args, ("reason",))
    row = check(appt, ctx.actor, "cancel")
    reason = v.text(ctx.cmd.args, "reason", "a reason", required=False)
    new = stamped(appt, row, ctx.actor, ctx.now, row.to, cancel_reason=reason)
    return Outcome(
        (
            upsert("appointment", new, appt),
            *notices(
                ctx.cmd,
                ctx.now,
                assigned(appt),
                "cancelled",
                f"Cancelled: {describe(appt)}",
                appt["id"],
            ),
        )
    )


def overdue(appointments: Iterable[Record], now: datetime) -> list[Record]:
    """Pending appointments whose response deadline has passed at `now`."""
    return [
        a
        for a in appointments
        if a["status"] in AWAITING_ANSWERS
        and a.get("response_deadline")
        and parse_instant(a["response_deadline"]) <= now
    ]


def auto_cancel_overdue(ctx: Ctx) -> Outcome:
    """Idempotent: a second run finds nothing pending past its deadline."""
    if ctx.actor.role not in ("operator", "system"):
        raise Forbidden("Only the operator can cancel overdue appointments.")
    row = TABLE["auto_cancel"]
    changes: list[Change] = []
    late = sorted(overdue(ctx.snap.all("appointment"), ctx.now), key=lambda a: a["id"])
    for i, appt in enumerate(late):
        new = stamped(
            appt,
            row,
            ctx.actor,
            ctx.now,
            row.to,
            cancel_reason="Not accepted before the response deadline",
        )
        changes.append(upsert("appointment", new, appt))
        changes += notices(
            ctx.cmd,
            ctx.now,
            [*operators(ctx.snap), *assigned(appt)],
            "auto_cancelled",
            f"Auto-cancelled (not accepted in time): {describe(appt)}",
            appt["id"],
            start=i * 100,
        )
    return Outcome(tuple(changes))


HANDLERS: dict[str, Callable[[Ctx], Outcome]] = {
    "appointment.create": create,
    "appointment.update": update,
    "appointment.accept": accept,
    "appointment.reject": reject,
    "appointment.review_rejection": review_rejection,
    "appointment.verify_payment": verify_payment,
    "appointment.complete": complete,
    "appointment.request_pickup": request_pickup,
    "appointment.assign_pickup_driver": assign_pickup_driver,
    "appointment.cancel": cancel,
    "appointments.auto_cancel_overdue": auto_cancel_overdue,
    "appointments.auto_assign_pickups": auto_assign_pickups,
    **{
        f"appointment.{a}": _simple(a)
        for a in (
            "confirm",
            "start",
            "start_journey",
            "arrive",
            "drop_off",
            "start_session",
            "request_payment",
            "confirm_pickup",
            "complete_return",
        )
    },
}
