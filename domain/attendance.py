"""Attendance: who clocked in when, whether late, and the hours it makes.

A `shift` record is one stretch of work by one person: clocked in, and
clocked out (or still open). Times are instants from the clock of whoever
runs `apply`: the client's optimistic replay shows its own reading at once,
and the server's record (its clock decides) replaces it when the answer
comes. One person has at most one open shift.

Late: the clock-in falls inside one of the person's available slots more
than `Settings.late_minutes` after the slot's start, and no shift of theirs
already covered the time since that start (someone who steps out and back
in is not late twice). Slots and days are in the business's time zone
(`Settings.timezone`); hours split at local midnight, so a night shift from
22:00 to 02:00 counts two hours on each day.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from domain import validate as v
from domain.commands import Outcome, Settings, Snapshot
from domain.context import Ctx, upsert
from domain.errors import Conflict, Forbidden, InvalidArgs
from domain.records import Record, bumped
from domain.times import Interval, interval, iso, parse_date, parse_instant

ROLES = ("therapist", "driver", "operator")  # who clocks in


class AlreadyClockedIn(Conflict):
    code = "already_clocked_in"


class AlreadyClockedOut(Conflict):
    code = "already_clocked_out"


# ---- reading shifts ------------------------------------------------------------------


def is_open(shift: Record) -> bool:
    return not shift.get("clock_out_at")


def open_shift(shifts: Iterable[Record], user_id: str) -> Record | None:
    """The person's open shift, if any (there is at most one)."""
    for shift in shifts:
        if shift.get("user_id") == user_id and is_open(shift):
            return shift
    return None


def zone_of(settings: Settings) -> ZoneInfo:
    return ZoneInfo(settings.timezone)


def local(instant: str, zone: ZoneInfo) -> datetime:
    return parse_instant(instant).astimezone(zone)


def clock_text(instant: str | None, zone: ZoneInfo) -> str:
    """'09:05' in the business's time zone ('' for none)."""
    return local(instant, zone).strftime("%H:%M") if instant else ""


def span(shift: Record, now: datetime) -> tuple[datetime, datetime]:
    """(in, out) as UTC instants; an open shift runs until `now` (never
    before it started: a clock that went back counts nothing)."""
    start = parse_instant(shift["clock_in_at"]).astimezone(UTC)
    end = parse_instant(shift["clock_out_at"]) if shift.get("clock_out_at") else now
    return start, max(start, end.astimezone(UTC))


def seconds_by_day(shift: Record, zone: ZoneInfo, now: datetime) -> dict[str, int]:
    """The shift's worked seconds per local date, split at local midnight."""
    start, end = span(shift, now)
    out: dict[str, int] = {}
    cursor = start
    while cursor < end:
        day = cursor.astimezone(zone).date()
        midnight = datetime.combine(day + timedelta(days=1), time(), zone).astimezone(UTC)
        piece = min(end, midnight)
        out[day.isoformat()] = out.get(day.isoformat(), 0) + int((piece - cursor).total_seconds())
        cursor = piece
    return out


def seconds_total(shift: Record, now: datetime) -> int:
    start, end = span(shift, now)
    return int((end - start).total_seconds())


def hours_by_day(
    shifts: Iterable[Record], zone: ZoneInfo, now: datetime
) -> dict[str, dict[str, int]]:
    """person id -> local date -> worked seconds."""
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for shift in shifts:
        days = out[str(shift.get("user_id"))]
        for day, seconds in seconds_by_day(shift, zone, now).items():
            days[day] = days.get(day, 0) + seconds
    return dict(out)


def week_of(day: date) -> list[date]:
    """Monday to Sunday of the week `day` is in."""
    monday = day - timedelta(days=day.weekday())
    return [monday + timedelta(days=n) for n in range(7)]


def seconds_in(days: Mapping[str, int], wanted: Iterable[date]) -> int:
    return sum(days.get(d.isoformat(), 0) for d in wanted)


def hours_text(seconds: int) -> str:
    """'7 h 35 min', '45 min', '0 min' (whole minutes, rounded down)."""
    minutes = max(0, seconds) // 60
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest:02d} min" if rest else f"{hours} h"


# ---- lateness ------------------------------------------------------------------------


def minute_of(instant: datetime, zone: ZoneInfo) -> int:
    """An instant as the absolute local minute `domain.times.interval` counts in."""
    t = instant.astimezone(zone)
    return t.date().toordinal() * 1440 + t.hour * 60 + t.minute


def late_by(
    slots: Iterable[Interval], at: int, worked: Iterable[Interval], threshold: int
) -> tuple[int, int | None]:
    """(minutes late, the slot's start) for a clock-in at minute `at`: 0 when
    on time, outside every slot, within `threshold` minutes of the start, or
    back after a shift that already covered part of the slot since its start."""
    for start, end in slots:
        if start <= at < end:
            if any(s < at and start < e for s, e in worked):
                return 0, start
            late = at - start
            return (late if late > threshold else 0), start
    return 0, None


def _slots(snap: Snapshot, user_id: str) -> list[Interval]:
    return [
        interval(s["date"], s["start_time"], s["end_time"])
        for s in snap.all("availability")
        if s.get("user_id") == user_id and s.get("available", True)
    ]


def _worked(shifts: Iterable[Record], zone: ZoneInfo, now: datetime) -> list[Interval]:
    out: list[Interval] = []
    for shift in shifts:
        start, end = span(shift, now)
        out.append((minute_of(start, zone), minute_of(end, zone)))
    return out


# ---- commands ------------------------------------------------------------------------


def _who(ctx: Ctx) -> None:
    if ctx.actor.role not in ROLES:
        raise Forbidden("Only therapists, drivers and operators clock in and out.")


def _note(ctx: Ctx) -> str | None:
    v.only(ctx.cmd.args, ("note",))
    return v.text(ctx.cmd.args, "note", "a note", required=False)


def clock_in(ctx: Ctx) -> Outcome:
    _who(ctx)
    sid = ctx.new_id("shift")
    note = _note(ctx)
    zone = zone_of(ctx.settings)
    mine = [s for s in ctx.snap.all("shift") if s.get("user_id") == ctx.actor.id]
    current = open_shift(mine, ctx.actor.id)
    if current is not None:
        raise AlreadyClockedIn(
            f"You're already clocked in since {clock_text(current['clock_in_at'], zone)}: "
            "clock out first."
        )
    at = minute_of(ctx.now, zone)
    late, slot_start = late_by(
        _slots(ctx.snap, ctx.actor.id), at, _worked(mine, zone, ctx.now), ctx.settings.late_minutes
    )
    record: Record = {
        "id": sid,
        "version": 1,
        "user_id": ctx.actor.id,
        "date": ctx.now.astimezone(zone).date().isoformat(),
        "clock_in_at": iso(ctx.now),
        "clock_out_at": None,
        "late": late > 0,
        "late_minutes": late,
        # the slot it was measured against, local 'HH:MM' (None: outside every slot)
        "expected_start": None if slot_start is None else f"{slot_start % 1440 // 60:02d}:"
        f"{slot_start % 60:02d}",
        "note": note,
        "out_note": None,
    }
    return Outcome((upsert("shift", record, None),))


def clock_out(ctx: Ctx) -> Outcome:
    _who(ctx)
    shift = ctx.target("shift")
    if shift.get("user_id") != ctx.actor.id:
        raise Forbidden("You can only clock out of your own shift.")
    note = _note(ctx)
    if not is_open(shift):
        zone = zone_of(ctx.settings)
        raise AlreadyClockedOut(
            f"You already clocked out of this shift at "
            f"{clock_text(shift['clock_out_at'], zone)}."
        )
    # never before the clock-in (a client clock behind the server's)
    out = max(ctx.now, parse_instant(shift["clock_in_at"]))
    return Outcome((upsert("shift", bumped(shift, clock_out_at=iso(out), out_note=note), shift),))


HANDLERS: dict[str, Callable[[Ctx], Outcome]] = {
    "attendance.clock_in": clock_in,
    "attendance.clock_out": clock_out,
}


# ---- the export ----------------------------------------------------------------------

EXPORT_DAYS = 366  # the longest range one export covers


def export_range(first: object, last: object) -> tuple[str, str]:
    """The export's dates, checked (the server's route and the operator's
    form say the same)."""
    try:
        start, end = parse_date(first), parse_date(last)  # type: ignore[arg-type]
    except (ValueError, TypeError) as exc:
        raise InvalidArgs("Please give both days as YYYY-MM-DD.") from exc
    if end < start:
        raise InvalidArgs("The range ends before it starts: swap the dates.")
    if (end - start).days >= EXPORT_DAYS:
        raise InvalidArgs(f"Export at most {EXPORT_DAYS} days at a time.")
    return start.isoformat(), end.isoformat()


CSV_HEADER = (
    "date", "name", "role", "clock_in", "clock_out", "hours", "late", "late_minutes",
    "expected_start", "note", "out_note",
)


def export_rows(
    shifts: Iterable[Record],
    people: Mapping[str, Record],
    zone: ZoneInfo,
    now: datetime,
    first: str,
    last: str,
) -> list[tuple[str, ...]]:
    """The export's lines (the server's CSV route and the operator page's
    download both use them): the shifts clocked in on local dates
    `first`..`last` (inclusive), by date, then clock-in, then name. Hours
    to two decimals (an open shift counts until `now`, its clock_out empty)."""
    chosen = [s for s in shifts if first <= str(s.get("date") or "") <= last]
    chosen.sort(key=lambda s: (str(s.get("date")), str(s.get("clock_in_at")),
                               _name(people, s), str(s["id"])))
    rows: list[tuple[str, ...]] = []
    for s in chosen:
        person = people.get(str(s.get("user_id"))) or {}
        out = s.get("clock_out_at")
        rows.append((
            str(s.get("date") or ""),
            _name(people, s),
            str(person.get("role") or ""),
            local(s["clock_in_at"], zone).strftime("%Y-%m-%d %H:%M"),
            local(out, zone).strftime("%Y-%m-%d %H:%M") if out else "",
            f"{seconds_total(s, now) / 3600:.2f}",
            "yes" if s.get("late") else "no",
            str(int(s.get("late_minutes") or 0)),
            str(s.get("expected_start") or ""),
            str(s.get("note") or ""),
            str(s.get("out_note") or ""),
        ))
    return rows


def _name(people: Mapping[str, Record], shift: Record) -> str:
    person = people.get(str(shift.get("user_id")))
    if not person:
        return str(shift.get("user_id") or "")
    return str(person.get("name") or person.get("username") or person["id"])


def _inert(cell: str) -> str:
    return "'" + cell if cell[:1] in ("=", "+", "@", "-") and not _number(cell) else cell


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def export_csv(rows: Iterable[tuple[str, ...]]) -> str:
    """RFC 4180 text with a header line (CRLF line ends, quoted as needed).
    A cell a spreadsheet would run as a formula (a note starting with '=')
    gets a leading apostrophe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    writer.writerows(tuple(_inert(cell) for cell in row) for row in rows)
    return buffer.getvalue()
