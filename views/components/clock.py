"""The business's "today": dates on the wire are in its time zone, not the
machine's. Set once per process from the UI config.

`watch_day` is the one midnight watch: a page that shows "today" (charts,
staff load) hands it a redraw and rolls over when the day turns, even when
nothing else changes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

import flet as ft

DAY_WATCH_SECONDS = 60.0  # how late after midnight a page may roll over

_zone = ZoneInfo("Asia/Manila")


def set_zone(name: str) -> None:
    global _zone
    _zone = ZoneInfo(name)


def today() -> date:
    return datetime.now(_zone).date()


def local(instant: datetime) -> datetime:
    """An aware instant (the wire's UTC stamps) on the business's clock."""
    return instant.astimezone(_zone)


async def watch_day(
    control: ft.BaseControl,
    turned: Callable[[], object],
    now: Callable[[], date] | None = None,
) -> None:
    """Call `turned` each time the business's day (`now`, by default
    `today`) turns, checking every `DAY_WATCH_SECONDS`, until `control`
    leaves the page. Start it with `page.run_task(watch_day, ...)`."""
    day = (now or today)()
    while True:
        await asyncio.sleep(DAY_WATCH_SECONDS)
        try:
            _ = control.page
        except RuntimeError:  # the page is gone
            return
        current = (now or today)()
        if current != day:
            day = current
            turned()


def zone() -> ZoneInfo:
    """The business's time zone (what the domain's hours per day split on)."""
    return _zone
