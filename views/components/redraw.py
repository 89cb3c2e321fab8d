"""A page that redraws once after a burst of changes (a day of bookings
arriving, a resync) rather than once per change."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import flet as ft


class SoonRedraw:
    """`request()` schedules `refresh` `delay` seconds later; the requests
    made meanwhile ride along with it."""

    def __init__(self, page: ft.Page, refresh: Callable[[], None], delay: float) -> None:
        self.page = page
        self.refresh = refresh
        self.delay = delay
        self.scheduled = False

    def request(self) -> None:
        if self.scheduled:
            return  # the redraw on its way will see this change too
        self.scheduled = True
        with contextlib.suppress(RuntimeError):  # the session is gone
            self.page.run_task(self._redraw)

    async def _redraw(self) -> None:
        await asyncio.sleep(self.delay)
        self.scheduled = False
        self.refresh()
