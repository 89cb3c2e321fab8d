"""A Snapshot of confirmed records with pending changes layered on top,
without copying the confirmed tables.

`Layer` is entity -> id -> record (None: deleted by a pending command).
`Overlay` optionally records what `apply` read, so the rebase re-runs only the
pending commands whose inputs changed: records by key, whole entities
scanned, and (entity, day) pairs read through `on_days`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from typing import Protocol

from domain.records import Entity, Record
from store.days import day_of

Layer = dict[Entity, dict[str, Record | None]]
Tables = Mapping[str, Mapping[str, Record]]
DayKey = tuple[Entity, str]


class Dated(Protocol):
    """Confirmed records by day (`store.cache.Cache.on_days`)."""

    def on_days(self, entity: Entity, days: Collection[str]) -> Iterator[Record]: ...


class Overlay:
    """`get`/`all` over `base` with `layer` on top (a domain Snapshot)."""

    __slots__ = ("base", "dated", "days_read", "layer", "reads", "scans", "track")

    def __init__(self, base: Tables, layer: Layer, *, dated: Dated | None = None,
                 track: bool = False) -> None:
        self.base = base
        self.dated = dated  # None: `on_days` filters a scan
        self.layer = layer
        self.track = track
        self.reads: set[tuple[Entity, str]] = set()
        self.scans: set[Entity] = set()
        self.days_read: set[DayKey] = set()

    def get(self, entity: Entity, id: str) -> Record | None:
        if self.track:
            self.reads.add((entity, id))
        over = self.layer.get(entity)
        if over is not None and id in over:
            return over[id]
        return self.base.get(entity, {}).get(id)

    def all(self, entity: Entity) -> Iterator[Record]:
        if self.track:
            self.scans.add(entity)
        return _merged(self.base.get(entity, {}), self.layer.get(entity) or {})

    def on_days(self, entity: Entity, days: Collection[str]) -> Iterator[Record]:
        if self.dated is None:
            return iter([r for r in self.all(entity) if r.get("date") in days])
        if self.track:
            self.days_read.update((entity, day) for day in days)
        over = self.layer.get(entity) or {}
        found = [r for r in self.dated.on_days(entity, days) if r["id"] not in over]
        found.extend(r for r in over.values() if r is not None and day_of(r) in days)
        return iter(found)

    def has(self, entity: Entity, id: str) -> bool:
        return self.get(entity, id) is not None


def _merged(base: Mapping[str, Record], over: Mapping[str, Record | None]) -> Iterator[Record]:
    if not over:
        yield from base.values()
        return
    for id, record in base.items():
        if id not in over:
            yield record
    for layered in over.values():
        if layered is not None:
            yield layered
