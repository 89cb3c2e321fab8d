"""The operator calendar's layout, computed from records and nothing else.

Pure (no Flet, no I/O) so the placement rules are unit-testable: which
therapist column a booking goes in, where it starts and ends on the day, which
half-hours are free, and whether the therapist is available then. Clock
arithmetic is `domain.times`'s (a slot whose end is at or before its start runs
past midnight, so yesterday's late slot can reach into today).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from domain.commands import Snapshot
from domain.records import Record, staff_name
from domain.status import Status
from domain.times import interval, parse_date

STEP = 30  # minutes in one bookable cell
DAY_MINUTES = 1440
# The hours shown when nothing falls outside them (a home-massage business's day).
FIRST_SHOWN = 7 * 60
LAST_SHOWN = 23 * 60

# Cancelled bookings free their slot (as in `domain.booking.clashing`) and
# would only clutter the grid; finished ones stay, they happened.
HIDDEN = frozenset({Status.CANCELLED, Status.AUTO_CANCELLED})

Span = tuple[int, int]  # [start, end) minutes after this day's midnight


def hhmm(minutes: int) -> str:
    """"HH:MM" of minutes after midnight (24:00 for the end of the day)."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def shift(day: str, days: int) -> str:
    return (parse_date(day) + timedelta(days=days)).isoformat()


def week_days(day: str) -> list[str]:
    """The seven dates (Monday first) of the week holding `day`."""
    d = parse_date(day)
    monday = d - timedelta(days=d.weekday())
    return [(monday + timedelta(days=i)).isoformat() for i in range(7)]


def on_day(day: str, record: Record) -> Span | None:
    """The part of a dated record (date, start_time, end_time) that falls on
    `day`, or None. Malformed records are skipped, not fatal."""
    try:
        start, end = interval(record["date"], record["start_time"], record["end_time"])
    except (KeyError, TypeError, ValueError):
        return None
    base = date.fromisoformat(day).toordinal() * DAY_MINUTES
    s, e = max(start - base, 0), min(end - base, DAY_MINUTES)
    return (s, e) if s < e else None


def therapists(snap: Snapshot) -> list[Record]:
    """The columns: active therapists by name."""
    return sorted(
        (s for s in snap.all("staff") if s.get("role") == "therapist" and s.get("active", True)),
        key=staff_name,
    )


def reach(days: Iterable[str]) -> set[str]:
    """The dates whose records can fall on `days`: those days and the ones
    before them (a record dated the day before can run past midnight)."""
    wanted = set(days)
    return wanted | {shift(d, -1) for d in wanted}


class Index:
    """Appointments and available slots per (person, date), from one pass over
    the snapshot, so a week of columns doesn't rescan 10k appointments."""

    def __init__(self, snap: Snapshot, days: Iterable[str]) -> None:
        dates = reach(days)
        self.bookings: dict[tuple[str, str], list[Record]] = defaultdict(list)
        self.available: dict[tuple[str, str], list[Record]] = defaultdict(list)
        for appt in snap.all("appointment"):
            if appt.get("date") not in dates or appt.get("status") in HIDDEN:
                continue
            for tid in appt.get("therapist_ids") or []:
                self.bookings[(tid, appt["date"])].append(appt)
        for slot in snap.all("availability"):
            if slot.get("date") in dates and slot.get("available"):
                self.available[(slot.get("user_id") or "", slot["date"])].append(slot)

    def _near(self, table: dict[tuple[str, str], list[Record]], who: str, day: str) -> list[Record]:
        return table.get((who, shift(day, -1)), []) + table.get((who, day), [])

    def bookings_on(self, who: str, day: str) -> list[tuple[Span, Record]]:
        found = [(on_day(day, a), a) for a in self._near(self.bookings, who, day)]
        return sorted(((s, a) for s, a in found if s), key=lambda p: (p[0], p[1]["id"]))

    def available_on(self, who: str, day: str) -> list[Span]:
        spans = (on_day(day, r) for r in self._near(self.available, who, day))
        return merged(s for s in spans if s)


def merged(spans: Iterable[Span]) -> list[Span]:
    """Spans sorted, with touching or overlapping ones joined."""
    out: list[Span] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def covered(span: Span, by: Sequence[Span]) -> bool:
    return any(s <= span[0] and span[1] <= e for s, e in by)


# --- the day view --------------------------------------------------------------------


@dataclass(frozen=True)
class Booked:
    """One or more overlapping bookings drawn as one block (overlaps only
    happen around finished appointments, but must not break the grid)."""

    start: int
    end: int
    appointments: tuple[Record, ...]


@dataclass(frozen=True)
class Free:
    """An empty cell: clicking it books from `start`."""

    start: int
    end: int
    available: bool


Block = Booked | Free


@dataclass(frozen=True)
class DayColumn:
    therapist: Record
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class DayGrid:
    day: str
    first: int  # the shown range, in minutes after midnight
    last: int
    columns: tuple[DayColumn, ...]

    def column(self, therapist_id: str) -> DayColumn:
        return next(c for c in self.columns if c.therapist["id"] == therapist_id)

    @property
    def days(self) -> tuple[str, ...]:
        return (self.day,)

    def appointment_ids(self) -> frozenset[str]:
        """The appointments the grid draws."""
        return frozenset(
            a["id"]
            for c in self.columns
            for b in c.blocks
            if isinstance(b, Booked)
            for a in b.appointments
        )


def clusters(bookings: Sequence[tuple[Span, Record]]) -> list[Booked]:
    out: list[Booked] = []
    for (s, e), appt in bookings:  # sorted by start
        if out and s < out[-1].end:
            last = out[-1]
            out[-1] = Booked(last.start, max(last.end, e), (*last.appointments, appt))
        else:
            out.append(Booked(s, e, (appt,)))
    return out


def _free_cells(start: int, end: int, available: Sequence[Span]) -> list[Free]:
    """[start, end) cut at every STEP boundary (a cell after a booking that
    ends at 10:45 runs 10:45-11:00, so the grid realigns)."""
    cells: list[Free] = []
    t = start
    while t < end:
        nxt = min((t // STEP + 1) * STEP, end)
        cells.append(Free(t, nxt, covered((t, nxt), available)))
        t = nxt
    return cells


def column_blocks(
    first: int, last: int, booked: Sequence[Booked], available: Sequence[Span]
) -> tuple[Block, ...]:
    blocks: list[Block] = []
    t = first
    for b in booked:
        if b.end <= first or b.start >= last:
            continue
        blocks += _free_cells(t, max(t, b.start), available)
        clipped = Booked(max(b.start, first), min(b.end, last), b.appointments)
        blocks.append(clipped)
        t = max(t, clipped.end)
    blocks += _free_cells(t, last, available)
    return tuple(blocks)


def day_grid(snap: Snapshot, day: str) -> DayGrid:
    index = Index(snap, [day])
    people = therapists(snap)
    booked = {t["id"]: clusters(index.bookings_on(t["id"], day)) for t in people}
    available = {t["id"]: index.available_on(t["id"], day) for t in people}
    # widen the default hours to whatever falls outside them, on the cell grid
    starts = [b.start for bs in booked.values() for b in bs]
    starts += [s for spans in available.values() for s, _ in spans]
    ends = [b.end for bs in booked.values() for b in bs]
    ends += [e for spans in available.values() for _, e in spans]
    first = min([FIRST_SHOWN, *starts]) // STEP * STEP
    last = min(-(-max([LAST_SHOWN, *ends]) // STEP) * STEP, DAY_MINUTES)
    columns = tuple(
        DayColumn(t, column_blocks(first, last, booked[t["id"]], available[t["id"]]))
        for t in people
    )
    return DayGrid(day, first, last, columns)


# --- the week view -------------------------------------------------------------------


@dataclass(frozen=True)
class WeekCell:
    day: str
    bookings: tuple[Record, ...]  # by start time
    available: tuple[Span, ...]
    first_free: int | None  # the first available, unbooked cell's start (for "Book")


@dataclass(frozen=True)
class WeekRow:
    therapist: Record
    cells: tuple[WeekCell, ...]


@dataclass(frozen=True)
class WeekGrid:
    days: tuple[str, ...]
    rows: tuple[WeekRow, ...]

    def appointment_ids(self) -> frozenset[str]:
        """The appointments the grid draws."""
        return frozenset(a["id"] for r in self.rows for c in r.cells for a in c.bookings)


def first_free(booked: Sequence[Span], available: Sequence[Span]) -> int | None:
    for s, e in available:
        for cell in _free_cells(s, e, available):
            if not any(cell.start < be and bs < cell.end for bs, be in booked):
                return cell.start
    return None


def week_grid(snap: Snapshot, day: str) -> WeekGrid:
    days = week_days(day)
    index = Index(snap, days)
    rows = []
    for t in therapists(snap):
        cells = []
        for d in days:
            found = index.bookings_on(t["id"], d)
            available = index.available_on(t["id"], d)
            cells.append(
                WeekCell(
                    d,
                    tuple(a for _, a in found),
                    tuple(available),
                    first_free([s for s, _ in found], available),
                )
            )
        rows.append(WeekRow(t, tuple(cells)))
    return WeekGrid(tuple(days), tuple(rows))
