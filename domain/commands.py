"""Commands, actors, outcomes and the read-only view of the world that the
pure `apply` function works on."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from domain.records import Entity, Record
from domain.status import Role

Op = Literal["upsert", "delete"]

# uuid5 namespace for ids derived from a command: the client's optimistic
# replay and the server derive the same ids for records a command creates
# without naming them (bulk availability, notifications).
_NAMESPACE = uuid.UUID("6f1d7a2e-52f4-4c38-9d0c-2b5f0a3c9e11")


@dataclass(frozen=True)
class Actor:
    id: str
    role: Role


SYSTEM = Actor(id="system", role="system")


@dataclass(frozen=True)
class Command:
    name: str
    target: str | None = None
    args: Mapping[str, Any] = field(default_factory=dict)
    base_version: int | None = None
    client_id: str = ""
    seq: int = 0

    def derived_id(self, n: int) -> str:
        """A stable id for the n-th record this command creates."""
        return str(
            uuid.uuid5(_NAMESPACE, f"{self.client_id}:{self.seq}:{self.name}:{self.target}:{n}")
        )


@dataclass(frozen=True)
class Change:
    entity: Entity
    id: str
    op: Op
    record: Record | None  # the full new record; None on delete
    previous: Record | None = None  # as it was before; None when created


@dataclass(frozen=True)
class Outcome:
    changes: tuple[Change, ...]
    # what the person should know although it went through ("Massage oil is
    # now at -20 ml: restock it."); the server's answer carries them
    warnings: tuple[str, ...] = ()

    @property
    def record(self) -> Record | None:
        """The record the command was about: its first change."""
        return self.changes[0].record if self.changes else None


@dataclass(frozen=True)
class Settings:
    response_minutes: int = 30  # pending → auto-cancelled after this long
    late_minutes: int = 10  # a clock-in later than this after the slot's start is late
    timezone: str = "Asia/Manila"  # the business's clock: local dates, slots, hours per day


class Snapshot(Protocol):
    """What `apply` may read. The client passes its whole cache; the server
    loads, per command, at least: the target; all staff, services and the
    clients named; every non-terminal appointment on the dates the command
    touches and the day either side (see `apply.touched_dates`), plus
    every appointment in a status of `apply.touched_statuses`; the availability of the people
    involved on those dates; the actor's unread notifications for
    notification.mark_all_read; for attendance.*, the actor's shifts and
    availability."""

    def get(self, entity: Entity, id: str) -> Record | None: ...

    def all(self, entity: Entity) -> Iterable[Record]: ...

    def on_days(self, entity: Entity, days: Collection[str]) -> Iterable[Record]:
        """The records of `entity` whose `date` is one of `days` (what the
        booking checks read: a client holding years of history answers from
        an index instead of a scan)."""
        ...


class MemorySnapshot:
    """A Snapshot over dicts of records: the in-memory twin used by tests,
    by the server after loading, and by the client cache."""

    def __init__(self, records: Mapping[Entity, Mapping[str, Record]] | None = None) -> None:
        self.tables: dict[Entity, dict[str, Record]] = {}
        for entity, rows in (records or {}).items():
            self.tables[entity] = dict(rows)

    @classmethod
    def of(cls, **rows: Iterable[Record]) -> MemorySnapshot:
        snap = cls()
        for entity, records in rows.items():
            for r in records:
                snap.put(entity, r)  # type: ignore[arg-type]
        return snap

    def get(self, entity: Entity, id: str) -> Record | None:
        return self.tables.get(entity, {}).get(id)

    def all(self, entity: Entity) -> Iterator[Record]:
        return iter(list(self.tables.get(entity, {}).values()))

    def on_days(self, entity: Entity, days: Collection[str]) -> Iterator[Record]:
        return iter([r for r in self.tables.get(entity, {}).values() if r.get("date") in days])

    def put(self, entity: Entity, record: Record) -> None:
        self.tables.setdefault(entity, {})[record["id"]] = record

    def remove(self, entity: Entity, id: str) -> None:
        self.tables.get(entity, {}).pop(id, None)

    def commit(self, outcome: Outcome) -> None:
        """Apply an outcome's changes to this snapshot."""
        for c in outcome.changes:
            if c.op == "delete" or c.record is None:
                self.remove(c.entity, c.id)
            else:
                self.put(c.entity, c.record)
