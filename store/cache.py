"""The confirmed records this user may see, plus the event cursor.

A TinyDB database (one table per entity, string ids as document ids) over a
`MemoryFileStorage`. Writes go straight to the storage's in-memory tables:
TinyDB's own `Table.update` copies the whole table per write (O(n) at 10k
records), while the data stays an ordinary TinyDB file any TinyDB can open.

Versions only move forward: an event or response older than what we hold is
ignored, and deletions leave a tombstone so a late, older upsert cannot bring
a record back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterator, Mapping
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.table import Table

from domain.records import ENTITIES, Entity, Record
from store.days import DATED, DayIndex
from store.storage import MemoryFileStorage, gc_paused

log = logging.getLogger(__name__)

Key = tuple[Entity, str]

# Bootstrap payload field -> entity.
BOOTSTRAP_FIELDS: dict[str, Entity] = {
    "appointments": "appointment",
    "availability": "availability",
    "staff": "staff",
    "clients": "client",
    "services": "service",
    "notifications": "notification",
    "materials": "material",
    "stock_moves": "stock_move",
    "shifts": "shift",
}
_META = "_meta"
_TOMBSTONES = "_deleted"


class StrIdTable(Table):
    """A TinyDB table whose document ids are our string ids."""

    document_id_class = str  # type: ignore[assignment]


class Cache:
    """Confirmed server state (a `domain.commands.Snapshot`)."""

    def __init__(self, path: Path | str | None = None) -> None:
        # A file that can't be read, or that reads as something we never
        # wrote (check_document): start empty, and the caller re-bootstraps.
        self.storage = MemoryFileStorage(path, validate=check_document)
        storage = self.storage
        try:
            self.db = TinyDB(storage=lambda: storage)  # TinyDB wants a factory
            self.db.table_class = StrIdTable
            self.corrupt = self.storage.corrupt
            self.days = DayIndex()
            for entity in ENTITIES:
                self.days.rebuild(entity, self.storage.data.setdefault(entity, {}))
        except BaseException:
            storage.release()
            raise

    # Snapshot protocol --------------------------------------------------
    def get(self, entity: Entity, id: str) -> Record | None:
        return self.storage.data.get(entity, {}).get(id)

    def all(self, entity: Entity) -> Iterator[Record]:
        return iter(self.storage.data.get(entity, {}).values())

    def on_days(self, entity: Entity, days: Collection[str]) -> Iterator[Record]:
        if entity not in DATED:
            return iter([r for r in self.all(entity) if r.get("date") in days])
        table = self.storage.data.get(entity, {})
        return iter([table[id] for id in self.days.ids(entity, days)])

    @property
    def tables(self) -> Mapping[str, Mapping[str, Record]]:
        """entity -> id -> record, live; read only."""
        return self.storage.data

    def table(self, entity: Entity) -> Table:
        """The TinyDB table of an entity, for ad-hoc TinyDB queries (read only)."""
        return self.db.table(entity, cache_size=0)

    def count(self, entity: Entity) -> int:
        return len(self.storage.data.get(entity, {}))

    # Cursor -------------------------------------------------------------
    @property
    def cursor(self) -> int | None:
        meta = self.storage.data.get(_META, {}).get("state")
        value = meta.get("cursor") if meta else None
        return int(value) if value is not None else None

    def set_cursor(self, cursor: int) -> None:
        self.storage.data.setdefault(_META, {})["state"] = {"cursor": int(cursor)}
        self.storage.touch()

    @property
    def needs_bootstrap(self) -> bool:
        return self.cursor is None

    # Writes -------------------------------------------------------------
    def replace_all(self, payload: Mapping[str, Any]) -> set[Key]:
        """Bootstrap: replace everything with `payload`; return the keys whose
        record changed (appeared, disappeared or differs)."""
        changed: set[Key] = set()
        data = self.storage.data
        with gc_paused():
            self._replace(payload, data, changed)
        data[_TOMBSTONES] = {}
        self.set_cursor(int(payload.get("cursor") or 0))
        self.storage.touch()
        return changed

    def _replace(self, payload: Mapping[str, Any], data: dict[str, dict[str, Any]],
                 changed: set[Key]) -> None:
        for field, entity in BOOTSTRAP_FIELDS.items():
            old = data.get(entity, {})
            new = {str(r["id"]): dict(r) for r in payload.get(field) or ()}
            for id in old.keys() | new.keys():
                if old.get(id) != new.get(id):
                    changed.add((entity, id))
            data[entity] = new
            self.days.rebuild(entity, new)

    def put(self, entity: Entity, record: Record) -> bool:
        """Store a confirmed record (a copy) unless we already hold a newer
        version; True when the stored record changed."""
        return self._put(entity, record, copy=True)

    def _put(self, entity: Entity, record: Record, *, copy: bool) -> bool:
        """`put`; with copy=False `record` itself is kept (a fresh dict)."""
        id = str(record["id"])
        version = int(record.get("version", 0))
        data = self.storage.data
        table = data.get(entity)
        if table is None:
            table = data[entity] = {}
        current = table.get(id)
        if current is not None:
            if int(current.get("version", 0)) > version or current == record:
                return False
        else:
            dead = data.get(_TOMBSTONES, {}).get(f"{entity}:{id}")
            if dead is not None and int(dead["version"]) >= version:
                return False
        table[id] = new = dict(record) if copy else record
        self.days.move(entity, id, current, new)
        self.storage.touch()
        return True

    def delete(self, entity: Entity, id: str, version: int | None = None) -> bool:
        """Remove a record unless we hold a newer version than the deletion."""
        table = self.storage.data.setdefault(entity, {})
        current = table.get(id)
        if current is not None and version is not None and int(current.get("version", 0)) > version:
            return False
        if version is not None:
            self.storage.data.setdefault(_TOMBSTONES, {})[f"{entity}:{id}"] = {"version": version}
        if current is None:
            return False
        del table[id]
        self.days.move(entity, id, current, None)
        self.storage.touch()
        return True

    def apply_event(self, event: Mapping[str, Any]) -> Key | None:
        """Apply one server event; the key when confirmed state changed.
        The cursor moves to the event's seq either way."""
        entity: Entity = event["entity"]
        id = str(event["id"])
        version = event.get("version")
        if event.get("op") == "delete" or event.get("data") is None:
            changed = self.delete(entity, id, int(version) if version is not None else None)
        else:
            record = dict(event["data"])
            if version is not None and "version" not in record:
                record["version"] = version
            changed = self._put(entity, record, copy=False)  # already our own copy
        seq = event.get("seq")
        if seq is not None:
            seq = int(seq)
            cursor = self.cursor
            if cursor is None or seq > cursor:
                self.set_cursor(seq)
        return (entity, id) if changed else None

    def clear(self) -> None:
        for entity in ENTITIES:
            table: dict[str, Record] = {}
            self.storage.data[entity] = table
            self.days.rebuild(entity, table)
        self.storage.data.pop(_META, None)
        self.storage.data.pop(_TOMBSTONES, None)
        self.storage.touch()

    def flush(self) -> bool:
        return self.storage.flush()

    def prepare_flush(self) -> Callable[[], bool] | None:
        return self.storage.prepare_flush()

    def close(self) -> None:
        self.db.close()


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_document(data: Mapping[str, Any]) -> None:
    """Raise ValueError (saying where) unless `data` has the shape `Cache`
    writes: entity tables of id -> record (a dict whose "id" is that string
    id, with an integer version when it has one), `_meta` holding the cursor
    (an integer) and `_deleted` of "entity:id" -> {"version": integer}.
    Tables of other names are left alone (TinyDB's own, a newer version's)."""
    for name, table in data.items():
        if not isinstance(table, dict):
            raise ValueError(f"table {name!r} is not an object")
        if name == _META:
            state = table.get("state")
            if state is None:
                continue
            if not isinstance(state, dict):
                raise ValueError("the sync state is not an object")
            cursor = state.get("cursor")
            if cursor is not None and not _is_int(cursor):
                raise ValueError(f"the cursor is {cursor!r}, not a number")
        elif name == _TOMBSTONES:
            for key, dead in table.items():
                if not isinstance(dead, dict) or not _is_int(dead.get("version")):
                    raise ValueError(f"deletion {key!r} has no version")
        elif name in ENTITIES:
            # every record of the cache, at every start: no call per record
            # (the common version, a plain int, is one type check)
            for id, record in table.items():
                if not isinstance(record, dict):
                    raise ValueError(f"{name} {id!r} is {type(record).__name__}, not a record")
                if record.get("id") != id:
                    raise ValueError(f"{name} {id!r} holds a record with id {record.get('id')!r}")
                version = record.get("version", 0)
                if type(version) is not int and not _is_int(version):
                    raise ValueError(f"{name} {id!r} has version {version!r}")
