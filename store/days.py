"""Record ids by their `date`, for the entities booking checks read by day.

`domain.commands.Snapshot.on_days` asks for the appointments (or
availability) on a few days. A client may hold years of history; answering
from this index keeps a booking tap flat in the size of the cache.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from domain.records import Entity, Record

DATED: frozenset[Entity] = frozenset({"appointment", "availability"})


def day_of(record: Record | None) -> str | None:
    day = record.get("date") if record is not None else None
    return day if isinstance(day, str) else None


class DayIndex:
    """entity -> day -> ids (insertion ordered), for the DATED entities.

    Built on the first question, not when the cache opens: a cold start
    (bench device) draws the first screen without asking by day, and
    indexing a 10k-record cache costs 10-20 ms there. Until then `move` has
    nothing to keep up to date: the build reads the live table."""

    def __init__(self) -> None:
        self._rows: dict[Entity, Mapping[str, Record]] = {}  # live tables, not built yet
        self._ids: dict[Entity, dict[str, dict[str, None]]] = {e: {} for e in DATED}

    def rebuild(self, entity: Entity, rows: Mapping[str, Record]) -> None:
        """`rows` (the live table, which later changes reach through `move`)
        replaced the entity's records."""
        if entity not in DATED:
            return
        self._rows[entity] = rows
        self._ids[entity] = {}

    def _built(self, entity: Entity) -> dict[str, dict[str, None]]:
        rows = self._rows.pop(entity, None)
        if rows is not None:
            by_day: dict[str, dict[str, None]] = {}
            for id, record in rows.items():
                day = day_of(record)
                if day is not None:
                    by_day.setdefault(day, {})[id] = None
            self._ids[entity] = by_day
        return self._ids[entity]

    def move(self, entity: Entity, id: str, old: Record | None, new: Record | None) -> None:
        """Record `id` changed from `old` to `new` (None: absent)."""
        if entity not in DATED:
            return
        before, after = day_of(old), day_of(new)
        if before == after and (old is None) == (new is None):
            return
        if entity in self._rows:
            return  # not built yet: the build will read the table as it is then
        by_day = self._ids[entity]
        if before is not None:
            ids = by_day.get(before)
            if ids is not None:
                ids.pop(id, None)
                if not ids:
                    del by_day[before]
        if after is not None and new is not None:
            by_day.setdefault(after, {})[id] = None

    def ids(self, entity: Entity, days: Iterable[str]) -> list[str]:
        by_day = self._built(entity) if entity in DATED else {}
        return [id for day in dict.fromkeys(days) for id in by_day.get(day, ())]
