"""Booking checks: is each therapist available for the slot and not already
booked then? Pure functions over a Snapshot; the calendar uses
`slot_problem` to say why a slot is not possible before anyone submits."""

from __future__ import annotations

from collections.abc import Iterable

from domain.commands import Snapshot
from domain.errors import DomainError, DoubleBooked, InvalidArgs, NotFound, Unavailable
from domain.records import Record, staff_name
from domain.status import TERMINAL, Status
from domain.times import Interval, covers, interval, neighbours, overlaps, parse_time


def slots_of(snap: Snapshot, user_id: str, day: str) -> list[Record]:
    """Every slot of `user_id` that can touch `day` (the day either side too)."""
    return [s for s in snap.on_days("availability", neighbours(day)) if s.get("user_id") == user_id]


def is_available(snap: Snapshot, user_id: str, span: Interval, day: str) -> bool:
    return any(
        s.get("available") and covers(interval(s["date"], s["start_time"], s["end_time"]), span)
        for s in slots_of(snap, user_id, day)
    )


def clashing(
    snap: Snapshot, therapist_id: str, span: Interval, day: str, ignore_id: str | None
) -> Record | None:
    """A non-terminal appointment of this therapist overlapping `span`."""
    for appt in snap.on_days("appointment", neighbours(day)):
        if appt["id"] == ignore_id or therapist_id not in (appt.get("therapist_ids") or []):
            continue
        if Status(appt["status"]) in TERMINAL:
            continue
        if overlaps(interval(appt["date"], appt["start_time"], appt["end_time"]), span):
            return appt
    return None


def person(snap: Snapshot, user_id: str, role: str) -> Record:
    """The active staff member `user_id` of `role`, or raise."""
    record = snap.get("staff", user_id)
    if record is None or record.get("role") != role:
        raise NotFound(f"There is no {role} with id {user_id}.")
    if not record.get("active", True):
        raise InvalidArgs(f"{staff_name(record)} is not active any more.")
    return record


# A booking may run past midnight (a late session), but not for this long:
# an end this far "into the next day" is an end typed before the start.
LONGEST_BOOKING_MINUTES = 12 * 60


def check_span(start: str, end: str) -> None:
    """Raise InvalidArgs when the end is before the start (and the booking
    isn't a short one past midnight)."""
    first, last = interval("2000-01-01", start, end)
    if parse_time(end) < parse_time(start) and last - first > LONGEST_BOOKING_MINUTES:
        raise InvalidArgs(f"The end time {end} is before the start time {start}.")


def check_therapists(
    snap: Snapshot,
    therapist_ids: Iterable[str],
    day: str,
    start: str,
    end: str,
    ignore_id: str | None = None,
) -> None:
    """Raise InvalidArgs for a slot that ends before it starts, then
    Unavailable or DoubleBooked for the first therapist who can't take it."""
    check_span(start, end)
    span = interval(day, start, end)
    for tid in therapist_ids:
        who = staff_name(person(snap, tid, "therapist"))
        if not is_available(snap, tid, span, day):
            raise Unavailable(f"{who} isn't available on {day} from {start} to {end}.")
        other = clashing(snap, tid, span, day, ignore_id)
        if other is not None:
            raise DoubleBooked(
                f"{who} is already booked on {other['date']} from "
                f"{other['start_time']} to {other['end_time']}."
            )


def slot_problem(
    snap: Snapshot,
    therapist_ids: Iterable[str],
    day: str,
    start: str,
    end: str,
    ignore_id: str | None = None,
) -> str | None:
    """Why this booking isn't possible, in words, or None when it is."""
    try:
        check_therapists(snap, therapist_ids, day, start, end, ignore_id)
    except (DomainError, ValueError) as exc:
        return str(exc)
    return None
