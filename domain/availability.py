"""Availability commands: one person's slots never overlap; a slot whose end
is at or before its start runs past midnight."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from domain import validate as v
from domain.booking import slots_of
from domain.commands import Change, Outcome
from domain.context import Ctx, upsert
from domain.errors import Forbidden, InvalidArgs, NotFound, Overlap, VersionConflict
from domain.records import Record, bumped
from domain.times import interval, overlaps

MAX_BULK = 48


def _owner(ctx: Ctx, requested: object) -> str:
    """Operators may name anyone; staff always get their own."""
    if ctx.actor.role == "operator":
        if not isinstance(requested, str) or not requested:
            raise InvalidArgs("Please choose whose availability this is.")
        who = ctx.snap.get("staff", requested)
        if who is None or who.get("role") not in ("therapist", "driver"):
            raise NotFound("That therapist or driver doesn't exist.")
        return requested
    if ctx.actor.role not in ("therapist", "driver"):
        raise Forbidden("Only staff and operators can set availability.")
    if requested not in (None, "", ctx.actor.id):
        raise Forbidden("You can only set your own availability.")
    return ctx.actor.id


def _check_free(slot: Record, others: Iterable[Record]) -> None:
    span = interval(slot["date"], slot["start_time"], slot["end_time"])
    for other in others:
        if other["id"] == slot["id"]:
            continue
        if overlaps(span, interval(other["date"], other["start_time"], other["end_time"])):
            raise Overlap(
                f"That overlaps another slot on {other['date']} from "
                f"{other['start_time']} to {other['end_time']}."
            )


def _times(args: Any, *, partial: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if not partial or "start_time" in args:
        out["start_time"] = v.clock(args, "start_time", "a start time")
    if not partial or "end_time" in args:
        out["end_time"] = v.clock(args, "end_time", "an end time")
    if not partial or "available" in args:
        out["available"] = (
            v.flag(args, "available", "you are available") if "available" in args else True
        )
    return out


def _same_times(slot: Record) -> None:
    if slot["start_time"] == slot["end_time"]:
        raise InvalidArgs("The end time must differ from the start time.")


def create(ctx: Ctx) -> Outcome:
    args = ctx.cmd.args
    v.only(args, ("user_id", "date", "start_time", "end_time", "available"))
    sid = ctx.new_id("availability")
    user = _owner(ctx, args.get("user_id"))
    slot: Record = {"id": sid, "version": 1, "user_id": user, "date": v.day(args), **_times(args)}
    _same_times(slot)
    _check_free(slot, slots_of(ctx.snap, user, slot["date"]))
    return Outcome((upsert("availability", slot, None),))


def _own_slot(ctx: Ctx) -> Record:
    slot = ctx.target("availability")
    if ctx.actor.role != "operator" and slot["user_id"] != ctx.actor.id:
        raise Forbidden("You can only change your own availability.")
    return slot


def update(ctx: Ctx) -> Outcome:
    slot = _own_slot(ctx)
    v.only(ctx.cmd.args, ("start_time", "end_time", "available"))
    if ctx.cmd.base_version != slot["version"]:
        raise VersionConflict("This slot changed meanwhile. Have a look and try again.")
    fields = _times(ctx.cmd.args, partial=True)
    if not fields:
        raise InvalidArgs("Nothing to change.")
    new = bumped(slot, **fields)
    _same_times(new)
    _check_free(new, slots_of(ctx.snap, new["user_id"], new["date"]))
    return Outcome((upsert("availability", new, slot),))


def delete(ctx: Ctx) -> Outcome:
    slot = _own_slot(ctx)
    v.only(ctx.cmd.args, ())
    return Outcome((Change("availability", slot["id"], "delete", None, slot),))


def bulk_create(ctx: Ctx) -> Outcome:
    args = ctx.cmd.args
    v.only(args, ("user_id", "date", "slots"))
    user = _owner(ctx, args.get("user_id"))
    day = v.day(args)
    raw = args.get("slots")
    if not isinstance(raw, list) or not raw or len(raw) > MAX_BULK:
        raise InvalidArgs(f"Please give between 1 and {MAX_BULK} slots.")
    existing = slots_of(ctx.snap, user, day)
    made: list[Record] = []
    for n, item in enumerate(raw):
        if not isinstance(item, dict):
            raise InvalidArgs("Each slot needs a start_time and an end_time.")
        v.only(item, ("start_time", "end_time", "available"))
        slot: Record = {
            "id": ctx.cmd.derived_id(n),
            "version": 1,
            "user_id": user,
            "date": day,
            **_times(item),
        }
        _same_times(slot)
        _check_free(slot, [*existing, *made])
        made.append(slot)
    return Outcome(tuple(upsert("availability", s, None) for s in made))


HANDLERS: dict[str, Callable[[Ctx], Outcome]] = {
    "availability.create": create,
    "availability.update": update,
    "availability.delete": delete,
    "availability.bulk_create": bulk_create,
}
