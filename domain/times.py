"""Dates, clock times and the intervals they make, as plain minutes.

A slot is (date, start, end) in the business's time zone; an end at or before
the start runs past midnight. Intervals are half-open [start, end) minutes
counted from 0001-01-01, so slots on neighbouring days compare directly.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")

Interval = tuple[int, int]

# The dates a booking may name. Far wider than any business needs, and
# narrow enough that the day either side always exists (0001-01-01 has no
# day before it: `neighbours` would overflow).
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)


def parse_date(value: str) -> date:
    """Raise ValueError unless `value` is a real YYYY-MM-DD date between
    FIRST_DAY and LAST_DAY."""
    if not isinstance(value, str) or not _DATE.match(value):
        raise ValueError(value)
    d = date.fromisoformat(value)
    if not FIRST_DAY <= d <= LAST_DAY:
        raise ValueError(f"{value} is out of range")
    return d


def parse_time(value: str) -> int:
    """Minutes after midnight of an HH:MM time; ValueError otherwise."""
    m = _TIME.match(value) if isinstance(value, str) else None
    if m is None:
        raise ValueError(value)
    return int(m.group(1)) * 60 + int(m.group(2))


def is_date(value: object) -> bool:
    try:
        parse_date(value)  # type: ignore[arg-type]
    except (ValueError, TypeError):
        return False
    return True


def is_time(value: object) -> bool:
    try:
        parse_time(value)  # type: ignore[arg-type]
    except (ValueError, TypeError):
        return False
    return True


def interval(day: str, start: str, end: str) -> Interval:
    """The absolute minute interval of a slot; past midnight when end <= start."""
    base = parse_date(day).toordinal() * 1440
    s, e = parse_time(start), parse_time(end)
    if e <= s:
        e += 1440
    return base + s, base + e


def overlaps(a: Interval, b: Interval) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def covers(outer: Interval, inner: Interval) -> bool:
    return outer[0] <= inner[0] and inner[1] <= outer[1]


def neighbours(day: str) -> tuple[str, str, str]:
    """The day before, the day and the day after: every date whose slots can
    overlap a slot on `day`."""
    d = parse_date(day)
    return (
        (d - timedelta(days=1)).isoformat(),
        d.isoformat(),
        (d + timedelta(days=1)).isoformat(),
    )


def iso(instant: datetime) -> str:
    """An instant as ISO 8601 UTC with a Z, second precision."""
    if instant.tzinfo is None:
        raise ValueError("instants must be timezone-aware")
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
