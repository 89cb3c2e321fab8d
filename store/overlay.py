"""A Snapshot of confirmed records with pending changes layered on top,
without copying the confirmed tables.

`Layer` is entity -> id -> record (None: deleted by a pending command).
`Overlay` optionally records what `apply` read, so the rebase re-runs only the
pending commands whose inputs changed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from domain.records import Entity, Record

Layer = dict[Entity, dict[str, Record | None]]
Tables = Mapping[str, Mapping[str, Record]]


class Overlay:
    """`get`/`all` over `base` with `layer` on top (a domain Snapshot)."""

    __slots__ = ("base", "layer", "reads", "scans", "track")

    def __init__(self, base: Tables, layer: Layer, *, track: bool = False) -> None:
        self.base = base
        self.layer = layer
        self.track = track
        self.reads: set[tuple[Entity, str]] = set()
        self.scans: set[Entity] = set()

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
