"""Pickups: the return trip goes to the longest-idle free driver, chosen when
the therapist asks for it, by the operator, or by the server's job."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable

from domain import validate as v
from domain.booking import person
from domain.commands import Change, Outcome
from domain.context import Ctx, upsert
from domain.errors import DriverBusy, Forbidden
from domain.lifecycle import TABLE, check, stamped
from domain.notify import describe, notices, operators, told
from domain.records import Record, bumped, staff_name
from domain.status import OUTBOUND_BUSY, RETURN_BUSY, Status
from domain.times import iso

S = Status
URGENCIES = ("normal", "urgent")


def busy_drivers(appointments: Iterable[Record]) -> set[str]:
    busy: set[str] = set()
    for appt in appointments:
        status = Status(appt["status"])
        if status in OUTBOUND_BUSY and appt.get("driver_id"):
            busy.add(appt["driver_id"])
        if status in RETURN_BUSY and appt.get("pickup_driver_id"):
            busy.add(appt["pickup_driver_id"])
    return busy


def is_free(driver: Record, busy: set[str]) -> bool:
    return (
        driver.get("role") == "driver"
        and bool(driver.get("active", True))
        and bool(driver.get("on_duty", True))
        and driver["id"] not in busy
    )


def free_drivers(staff: Iterable[Record], appointments: Iterable[Record]) -> list[Record]:
    """Free drivers, longest idle first (never idle-stamped counts as longest)."""
    busy = busy_drivers(appointments)
    free = [d for d in staff if is_free(d, busy)]
    return sorted(free, key=lambda d: (d.get("last_available_at") or "", d["id"]))


def longest_idle(
    staff: Iterable[Record], appointments: Iterable[Record], exclude: Collection[str] = ()
) -> Record | None:
    free = [d for d in free_drivers(staff, appointments) if d["id"] not in exclude]
    return free[0] if free else None


def request_pickup(ctx: Ctx) -> Outcome:
    appt = ctx.target("appointment")
    v.only(ctx.cmd.args, ("urgency", "notes"))
    row = check(appt, ctx.actor, "request_pickup")
    urgency = v.choice(ctx.cmd.args, "urgency", URGENCIES, "the urgency")
    pickup = {"urgency": urgency, "notes": v.text(ctx.cmd.args, "notes", "notes", required=False)}
    new = stamped(appt, row, ctx.actor, ctx.now, S.PICKUP_REQUESTED, pickup=pickup)
    driver = longest_idle(ctx.snap.all("staff"), ctx.snap.all("appointment"))
    if driver is not None:
        return _assign_pickup(ctx, appt, new, driver["id"], by_system=True)
    text = f"Pickup needed ({urgency}): {describe(new)}"
    return told(ctx, appt, new, operators(ctx.snap), "pickup_requested", text)


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
        driver = longest_idle(ctx.snap.all("staff"), ctx.snap.all("appointment"), taken)
        if driver is None:
            break
        taken.add(driver["id"])
        changes += _assign_pickup(
            ctx, appt, appt, driver["id"], by_system=True, n=len(changes)
        ).changes
    return Outcome(tuple(changes))


HANDLERS: dict[str, Callable[[Ctx], Outcome]] = {
    "appointment.request_pickup": request_pickup,
    "appointment.assign_pickup_driver": assign_pickup_driver,
    "appointments.auto_assign_pickups": auto_assign_pickups,
}
