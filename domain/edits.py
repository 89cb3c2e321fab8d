"""Booking edits: the operator creates an appointment and changes it, and
what a change does to the answers already given."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain import validate as v
from domain.answers import deadline, settled
from domain.booking import check_therapists, person
from domain.commands import Outcome
from domain.context import Ctx, upsert
from domain.errors import (
    Forbidden,
    InvalidArgs,
    InvalidTransition,
    NotFound,
    VersionConflict,
)
from domain.notify import assigned, describe, notices, told
from domain.records import Record, bumped, client_name
from domain.status import LABEL, TERMINAL, Status
from domain.stock import check_bookable
from domain.times import iso

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
    check_bookable(ctx.snap, f["service_ids"])
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
    return told(ctx, None, appt, assigned(appt), "created", text)


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
    if "service_ids" in f:  # a service taken off offer stays on the bookings that had it
        check_bookable(ctx.snap, f["service_ids"], appt.get("service_ids") or [])
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


HANDLERS: dict[str, Callable[[Ctx], Outcome]] = {
    "appointment.create": create,
    "appointment.update": update,
}
