"""Load what one command needs into a domain MemorySnapshot.

Follows the contract in `domain.commands.Snapshot`: the target; all staff and
services; the clients named; every non-terminal appointment on the dates the
command touches and the day either side, plus every appointment in a driving
or pickup status; availability on those dates; the actor's notifications for
mark_all_read; every pending appointment for the overdue sweep.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from domain.apply import touched_dates
from domain.commands import Actor, Command, MemorySnapshot
from domain.records import Entity, Record
from domain.status import TERMINAL, Status
from server import repo
from server.schema import records

# Statuses in which an appointment ties up a driver or waits for one.
DRIVING = (
    Status.IN_PROGRESS, Status.JOURNEY, Status.ARRIVED, Status.PICKUP_REQUESTED,
    Status.DRIVER_ASSIGNED_PICKUP, Status.RETURN_JOURNEY,
)
LIVE = tuple(s.value for s in Status if s not in TERMINAL)

_PREFIX: dict[str, Entity] = {
    "appointment": "appointment",
    "availability": "availability",
    "client": "client",
    "staff": "staff",
    "notification": "notification",
    "service": "service",
}


def target_entity(command: Command) -> Entity | None:
    """The entity a command's target names (None for sweeps and bulk commands)."""
    prefix = command.name.split(".", 1)[0]
    return _PREFIX.get(prefix)


async def load(conn: AsyncConnection, actor: Actor, command: Command) -> MemorySnapshot:
    snap = MemorySnapshot()
    args = command.args if isinstance(command.args, dict) else {}
    for r in await repo.select(conn, "staff"):
        snap.put("staff", r)
    for r in await repo.select(conn, "service"):
        snap.put("service", r)

    entity = target_entity(command)
    target: Record | None = None
    if entity is not None and isinstance(command.target, str) and command.target:
        target = await repo.get(conn, entity, command.target)
        if target is not None:
            snap.put(entity, target)

    days = touched_dates(command, target)
    if days:
        day_list = sorted(days)
        for r in await repo.select(conn, "appointment", records.c.date.in_(day_list),
                                   records.c.status.in_(LIVE)):
            snap.put("appointment", r)
        for r in await repo.select(conn, "availability", records.c.date.in_(day_list)):
            snap.put("availability", r)
    sweep = [s.value for s in DRIVING]
    if command.name == "appointments.auto_cancel_overdue":
        sweep.append(Status.PENDING.value)
    for r in await repo.select(conn, "appointment", records.c.status.in_(sweep)):
        snap.put("appointment", r)

    client_ids = [args.get("client_id")]
    if target is not None and entity == "appointment":
        client_ids.append(target.get("client_id"))
    for r in await repo.many(conn, "client", [c for c in client_ids if isinstance(c, str)]):
        snap.put("client", r)

    if command.name == "notification.mark_all_read":
        for r in await repo.select(conn, "notification", records.c.owner == actor.id):
            snap.put("notification", r)
    return snap
