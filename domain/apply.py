"""The one function both sides run: apply a command to the current records.

The client runs it to compute its optimistic view; the server runs it to
decide. It returns the changes and raises a DomainError (changing nothing)
when the command is not allowed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from domain import appointments, attendance, availability, overdue, people, staff, stock
from domain.commands import Actor, Command, Outcome, Settings, Snapshot
from domain.context import Ctx
from domain.errors import InvalidArgs, UnknownCommand
from domain.records import Record
from domain.status import DRIVING, Status
from domain.times import is_date, neighbours

HANDLERS: Mapping[str, Callable[[Ctx], Outcome]] = {
    **appointments.HANDLERS,
    **availability.HANDLERS,
    **people.HANDLERS,
    **stock.HANDLERS,
    **staff.HANDLERS,
    **attendance.HANDLERS,
}
COMMANDS: frozenset[str] = frozenset(HANDLERS)
DEFAULT_SETTINGS = Settings()
# Beyond the driving statuses every command may read (who is free for a
# pickup), the statuses a sweep reads whatever the appointment's date.
_SWEEPS_READ: Mapping[str, frozenset[Status]] = {
    "appointments.auto_cancel_overdue": overdue.AWAITING_ANSWERS,
}


def apply(
    snap: Snapshot,
    actor: Actor,
    command: Command,
    now: datetime,
    settings: Settings = DEFAULT_SETTINGS,
) -> Outcome:
    handler = HANDLERS.get(command.name)
    if handler is None:
        raise UnknownCommand(f"There is no command called {command.name!r}.")
    if not isinstance(command.args, Mapping):
        raise InvalidArgs("The command's args must be an object.")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return handler(Ctx(snap, actor, command, now, settings))


def touched_dates(command: Command, target: Record | None) -> set[str]:
    """The dates whose appointments and availability the command may read:
    the command's date and the target's, each with the day either side."""
    days: set[str] = set()
    for day in (
        command.args.get("date") if isinstance(command.args, Mapping) else None,
        (target or {}).get("date"),
    ):
        if is_date(day):
            days.update(neighbours(str(day)))
    return days


def touched_statuses(command: Command) -> frozenset[Status]:
    """The statuses whose appointments the command may read on any date."""
    return DRIVING | _SWEEPS_READ.get(command.name, frozenset())
