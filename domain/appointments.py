"""Appointment commands: the table's plain moves as derived handlers, and
every command of the other ideas (booking edits, answers, pickups, the
overdue sweep), in one registry."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from domain import answers, edits, overdue, pickup, receipts, stock
from domain import validate as v
from domain.commands import Change, Outcome
from domain.context import Ctx, upsert
from domain.lifecycle import Audience, Effect, FreeAgain, check, stamped
from domain.notify import assigned, describe, notices, operators
from domain.records import Record, bumped
from domain.times import iso

PAYMENT_METHODS = ("cash", "gcash", "bank_transfer", "card")

Fields = Callable[[Mapping[str, Any]], dict[str, Any]]


def move(
    action: str, args: tuple[str, ...] = (), fields: Fields | None = None
) -> Callable[[Ctx], Outcome]:
    """The handler of a table row: check, move, stamp (with the `fields`
    read from the command's `args`), then the row's effects."""

    def handler(ctx: Ctx) -> Outcome:
        appt = ctx.target("appointment")
        v.only(ctx.cmd.args, args)
        row = check(appt, ctx.actor, action)
        extra = fields(ctx.cmd.args) if fields else {}
        new = stamped(appt, row, ctx.actor, ctx.now, row.to, **extra)
        return Outcome((upsert("appointment", new, appt), *effects(ctx, row.effects, new)))

    return handler


def effects(ctx: Ctx, todo: tuple[Effect, ...], appt: Record) -> list[Change]:
    """The changes `todo` leaves beside the moved appointment `appt`."""
    out: list[Change] = []
    for effect in todo:
        if isinstance(effect, FreeAgain):
            out += _free_again(ctx, appt.get(effect.driver))
            continue
        people = _audience(ctx, effect.audience, appt)
        text = effect.text.format(booking=describe(appt))
        out += notices(ctx.cmd, ctx.now, people, effect.kind, text, appt["id"], start=len(out))
    return out


def _audience(ctx: Ctx, audience: Audience, appt: Record) -> list[str]:
    if audience == "operators":
        return operators(ctx.snap)
    if audience == "therapists":
        return list(appt["therapist_ids"])
    return assigned(appt)


def _free_again(ctx: Ctx, driver_id: str | None) -> list[Change]:
    """A driver who just finished a trip is free again from now."""
    driver = ctx.snap.get("staff", driver_id) if driver_id else None
    if driver is None:
        return []
    return [upsert("staff", bumped(driver, last_available_at=iso(ctx.now)), driver)]


def needs_reference(method: str | None, receipt_id: str | None) -> bool:
    """A payment other than cash needs its receipt's reference typed in, or
    a photo of the receipt (an extension: the reference alone is accepted
    as before)."""
    return method != "cash" and not receipt_id


def _payment(args: Mapping[str, Any]) -> dict[str, Any]:
    method = v.choice(args, "method", PAYMENT_METHODS, "a payment method")
    amount = v.amount(args, "amount", "the amount")
    photo = receipts.arg(args)
    receipt = v.text(args, "receipt_ref", "the receipt reference",
                     required=needs_reference(method, photo))
    extension = v.amount(args, "extension_amount", "the extension amount", required=False)
    payment = {
        "method": method,
        "amount": amount,
        "receipt_ref": receipt,
        "extension_amount": extension,
    }
    if photo is not None:
        payment["receipt_id"] = photo
    return {"payment": payment}


def _claim(args: Mapping[str, Any]) -> dict[str, Any]:
    """What the therapist at the door says the client paid with (optional):
    the operator verifies it."""
    if not args:
        return {}
    method = v.choice(args, "method", PAYMENT_METHODS, "a payment method")
    return {"payment_claim": {"method": method, "receipt_id": receipts.arg(args)}}


def complete(ctx: Ctx) -> Outcome:
    """The session is done: what it used comes out of stock in the same
    Outcome (one transaction), with a warning for stock gone below zero."""
    appt = ctx.target("appointment")
    v.only(ctx.cmd.args, ("materials",))
    row = check(appt, ctx.actor, "complete")
    items = stock.used(ctx.cmd.args, ctx.snap)
    new = stamped(appt, row, ctx.actor, ctx.now, row.to, materials=items)
    taken, warnings = stock.taken(ctx, appt["id"], items)
    return Outcome(
        (upsert("appointment", new, appt), *effects(ctx, row.effects, new), *taken),
        tuple(warnings),
    )


def _cancel_reason(args: Mapping[str, Any]) -> dict[str, Any]:
    return {"cancel_reason": v.text(args, "reason", "a reason", required=False)}


PLAIN = (
    "confirm",
    "start",
    "start_journey",
    "arrive",
    "drop_off",
    "start_session",
    "confirm_pickup",
    "complete_return",
)

HANDLERS: dict[str, Callable[[Ctx], Outcome]] = {
    **edits.HANDLERS,
    **answers.HANDLERS,
    **pickup.HANDLERS,
    **overdue.HANDLERS,
    **{f"appointment.{a}": move(a) for a in PLAIN},
    "appointment.request_payment": move("request_payment", ("method", "receipt_id"), _claim),
    "appointment.verify_payment": move(
        "verify_payment",
        ("method", "amount", "receipt_ref", "extension_amount", "receipt_id"),
        _payment,
    ),
    "appointment.complete": complete,
    "appointment.cancel": move("cancel", ("reason",), _cancel_reason),
}
