"""Numbers for the operator's staff and charts pages, from the local store's
appointments. Pure functions over records (no Flet, no clock: the caller
says which day is "today"), so each is tested on its own.

Days are the appointments' own `date` fields, which are already in the
business's time zone: an appointment that starts at 23:30 and runs past
midnight belongs to the day it starts, and revenue belongs to the day of the
session, not to the instant the payment was verified.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from domain.records import Record
from domain.reports import takings
from domain.status import MAIN_PATH, Status
from domain.times import parse_time

# Cancelled bookings are not part of anyone's day, nor of the booking counts.
CALLED_OFF = frozenset({Status.CANCELLED, Status.AUTO_CANCELLED})

_STEP = {s: i for i, s in enumerate(MAIN_PATH)}


def _at_or_past(status: Status, mark: Status) -> bool:
    return status in _STEP and _STEP[status] >= _STEP[mark]


def status_of(appt: Record) -> Status:
    return Status(appt["status"])


def on_day(appointments: Iterable[Record], day: date) -> list[Record]:
    """The appointments dated `day`."""
    iso = day.isoformat()
    return [a for a in appointments if a.get("date") == iso]


class Subset:
    """The appointments that pass `keep`, kept current from the ids a change
    touched, so a change costs its own size and not the whole cache's."""

    def __init__(self, keep: Callable[[Record], bool]) -> None:
        self.keep = keep
        self.rows: dict[str, Record] = {}

    def fill(self, appointments: Iterable[Record]) -> None:
        self.rows = {a["id"]: a for a in appointments if self.keep(a)}

    def update(self, ids: Iterable[str], get: Callable[[str], Record | None]) -> bool:
        """Take in the current records of `ids`; whether the subset changed
        (a record in it changed, joined or left)."""
        moved = False
        for id in ids:
            record = get(id)
            if record is not None and self.keep(record):
                self.rows[id] = record
                moved = True
            elif self.rows.pop(id, None) is not None:
                moved = True
        return moved


# ---- staff load -------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    """One person's appointments on a day (cancelled ones left out)."""

    total: int = 0
    done: int = 0

    @property
    def remaining(self) -> int:
        return self.total - self.done


def involves(person: Record, appt: Record) -> bool:
    if person.get("role") == "therapist":
        return person["id"] in (appt.get("therapist_ids") or [])
    if person.get("role") == "driver":
        return person["id"] in (appt.get("driver_id"), appt.get("pickup_driver_id"))
    return False


def is_done_for(person: Record, appt: Record) -> bool:
    """Whether this person's part of the appointment is over: a therapist's
    once the session is completed; a driver's once the therapist is dropped
    off, or, for the pickup driver, once they are back."""
    status = status_of(appt)
    if person.get("role") == "therapist":
        return _at_or_past(status, Status.COMPLETED)
    if person["id"] == appt.get("pickup_driver_id"):
        return status == Status.TRANSPORT_COMPLETED
    return _at_or_past(status, Status.DROPPED_OFF)


def load(person: Record, todays: Iterable[Record]) -> Load:
    """`person`'s load among `todays` appointments (see `on_day`)."""
    mine = [a for a in todays if status_of(a) not in CALLED_OFF and involves(person, a)]
    return Load(total=len(mine), done=sum(is_done_for(person, a) for a in mine))


# ---- charts -------------------------------------------------------------------


def by_status(todays: Iterable[Record]) -> list[tuple[Status, int]]:
    """How many of the day's appointments are in each status: the main path
    in order, then the side statuses; only statuses that occur."""
    counts: dict[Status, int] = {}
    for appt in todays:
        s = status_of(appt)
        counts[s] = counts.get(s, 0) + 1
    return [(s, counts[s]) for s in Status if s in counts]


def by_start_hour(todays: Iterable[Record]) -> list[int]:
    """24 counts: the day's bookings (not cancelled) by the hour they start."""
    hours = [0] * 24
    for appt in todays:
        if status_of(appt) in CALLED_OFF:
            continue
        try:
            minute = parse_time(str(appt.get("start_time")))
        except ValueError:
            continue  # a malformed record: nothing to plot
        hours[minute // 60] += 1
    return hours


def revenue(appt: Record) -> float:
    """What a verified payment brought in, in pesos (`domain.reports.takings`)."""
    return takings(appt) / 100


def revenue_by_day(
    appointments: Iterable[Record], today: date, days: int = 14
) -> list[tuple[date, float]]:
    """Revenue for each of the `days` days ending with `today`, oldest first
    (days without any are 0)."""
    first = today - timedelta(days=days - 1)
    totals = {(first + timedelta(days=i)).isoformat(): 0.0 for i in range(days)}
    for appt in appointments:
        day = appt.get("date")
        if day in totals:
            totals[day] += revenue(appt)
    return [(date.fromisoformat(d), total) for d, total in totals.items()]
