"""Demo data (filled in below)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from server.runtime import Runtime


async def seed_demo(rt: Runtime) -> None:
    return None
