"""The business's "today": dates on the wire are in its time zone, not the
machine's. Set once per process from the UI config."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

_zone = ZoneInfo("Asia/Manila")


def set_zone(name: str) -> None:
    global _zone
    _zone = ZoneInfo(name)


def today() -> date:
    return datetime.now(_zone).date()


def local(instant: datetime) -> datetime:
    """An aware instant (the wire's UTC stamps) on the business's clock."""
    return instant.astimezone(_zone)
