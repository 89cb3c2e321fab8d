"""Stopping background tasks: cancel them all, then wait until each has ended."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from typing import Any


async def cancel_and_wait(tasks: Iterable[asyncio.Task[Any]],
                          ignore: tuple[type[BaseException], ...] = ()) -> None:
    """Cancel `tasks` and await each. A task's own error is raised here unless
    it is one of `ignore` (for tasks that report their errors elsewhere)."""
    tasks = list(tasks)
    for t in tasks:
        t.cancel()
    for t in tasks:
        with contextlib.suppress(asyncio.CancelledError, *ignore):
            await t
