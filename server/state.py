"""The current records, in memory, indexed the way the command path reads them.

Every write goes through the serialized writer, which updates this after its
commit (still under the lock), so on one process the cache is exactly the
database at `seq`. A process that shares the database with others (the
PostgreSQL replicas) calls `refresh` under the writer lock first: it reloads
the records named by the events it hasn't seen, by id (everything, when the
log was trimmed past what it has seen).

`snapshot` builds the per-command MemorySnapshot the domain contract asks for
(see `domain.commands.Snapshot`) from dict look-ups instead of queries, and
`visible` serves bootstrap with a cursor that matches (no await in between).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncConnection

from domain.apply import touched_dates, touched_statuses
from domain.commands import Actor, Change, Command, MemorySnapshot
from domain.policy import can_see
from domain.records import ENTITIES, Entity, Record
from domain.status import TERMINAL
from server import repo

_PREFIX: dict[str, Entity] = {e: e for e in ENTITIES}
_PREFIX["attendance"] = "shift"  # clock_in names a new shift, clock_out the open one
# whose records the attendance commands read (the actor's own)
_PERSONAL: tuple[Entity, ...] = ("shift", "availability")


def target_entity(command: Command) -> Entity | None:
    """The entity a command's target names (None for sweeps)."""
    return _PREFIX.get(command.name.split(".", 1)[0])


class State:
    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self.seq = 0
        self.tables: dict[Entity, dict[str, Record]] = {e: {} for e in ENTITIES}
        # entity → date → ids (appointment, availability)
        self._by_date: dict[Entity, defaultdict[str, set[str]]] = {
            "appointment": defaultdict(set), "availability": defaultdict(set)}
        self._by_status: defaultdict[str, set[str]] = defaultdict(set)  # appointments
        self._by_owner: defaultdict[str, set[str]] = defaultdict(set)  # notifications
        # entity → person → ids (shift, availability): what clocking in reads
        self._by_person: dict[Entity, defaultdict[str, set[str]]] = {
            e: defaultdict(set) for e in _PERSONAL}

    # --- loading and keeping up ------------------------------------------------------

    async def load(self, conn: AsyncConnection) -> None:
        self._reset()
        self.seq, _ = await repo.head(conn)
        for entity in ENTITIES:
            for record in await repo.select(conn, entity):
                self._put(entity, record)

    async def refresh(self, conn: AsyncConnection, head: int) -> None:
        """Catch up with writes by other processes up to `head` (under the writer lock).

        The events after `seq` name the records to reload — unless the log was
        trimmed past `seq` meanwhile: then some of them are gone (the log no
        longer starts right after `seq`), and only a full load is right."""
        if head == self.seq:
            return
        touched: set[tuple[Entity, str]] = set()
        after = self.seq
        while True:
            batch = await repo.events_after(conn, after, 5000)
            if not batch:
                break
            if batch[0].seq != after + 1:  # trimmed past our state: a gap
                await self.load(conn)
                return
            touched.update((e.entity, e.id) for e in batch)
            after = batch[-1].seq
        if after != head:  # trimmed through everything we lacked: nothing to read
            await self.load(conn)
            return
        by_entity: defaultdict[Entity, list[str]] = defaultdict(list)
        for entity, id in touched:
            by_entity[entity].append(id)
        for entity, ids in by_entity.items():
            fresh = {r["id"]: r for r in await repo.many(conn, entity, ids)}
            for id in ids:
                if id in fresh:
                    self._put(entity, fresh[id])
                else:
                    self._drop(entity, id)
        self.seq = head

    def commit(self, changes: Iterable[Change], seq: int) -> None:
        for c in changes:
            if c.op == "delete" or c.record is None:
                self._drop(c.entity, c.id)
            else:
                self._put(c.entity, c.record)
        self.seq = max(self.seq, seq)

    def _put(self, entity: Entity, record: Record) -> None:
        self._drop(entity, record["id"])
        self.tables[entity][record["id"]] = record
        if entity in self._by_date and record.get("date"):
            self._by_date[entity][record["date"]].add(record["id"])
        if entity == "appointment":
            self._by_status[record.get("status", "")].add(record["id"])
        elif entity == "notification" and record.get("user_id"):
            self._by_owner[record["user_id"]].add(record["id"])
        if entity in self._by_person and record.get("user_id"):
            self._by_person[entity][record["user_id"]].add(record["id"])

    def _drop(self, entity: Entity, id: str) -> None:
        old = self.tables[entity].pop(id, None)
        if old is None:
            return
        if entity in self._by_date and old.get("date"):
            self._by_date[entity][old["date"]].discard(id)
        if entity == "appointment":
            self._by_status[old.get("status", "")].discard(id)
        elif entity == "notification" and old.get("user_id"):
            self._by_owner[old["user_id"]].discard(id)
        if entity in self._by_person and old.get("user_id"):
            self._by_person[entity][old["user_id"]].discard(id)

    # --- reading ---------------------------------------------------------------------

    def get(self, entity: Entity, id: str) -> Record | None:
        return self.tables[entity].get(id)

    def snapshot(self, actor: Actor, command: Command) -> MemorySnapshot:
        """What `command` needs, per the domain's Snapshot contract."""
        t = self.tables
        # materials: the stock list is small, and completing a session reads it
        snap = MemorySnapshot({"staff": t["staff"], "service": t["service"],
                               "material": t["material"]})
        args = command.args if isinstance(command.args, dict) else {}
        entity = target_entity(command)
        target: Record | None = None
        if entity is not None and isinstance(command.target, str) and command.target:
            target = t[entity].get(command.target)
            if target is not None:
                snap.put(entity, target)

        for day in touched_dates(command, target):
            for id in self._by_date["appointment"].get(day, ()):
                appt = t["appointment"][id]
                if appt.get("status") not in TERMINAL:
                    snap.put("appointment", appt)
            for id in self._by_date["availability"].get(day, ()):
                snap.put("availability", t["availability"][id])
        for status in touched_statuses(command):
            for id in self._by_status.get(status, ()):
                snap.put("appointment", t["appointment"][id])

        client_ids = [args.get("client_id")]
        if target is not None and entity == "appointment":
            client_ids.append(target.get("client_id"))
        for cid in client_ids:
            client = t["client"].get(cid) if isinstance(cid, str) else None
            if client is not None:
                snap.put("client", client)
        if command.name.startswith("attendance."):
            for personal in _PERSONAL:
                for id in self._by_person[personal].get(actor.id, ()):
                    snap.put(personal, t[personal][id])
        if command.name == "notification.mark_all_read":
            for id in self._by_owner.get(actor.id, ()):
                snap.put("notification", t["notification"][id])
        return snap

    def visible(self, actor: Actor) -> dict[Entity, list[Record]]:
        """Every record `actor` may see, by entity (synchronous: consistent with seq)."""
        out: dict[Entity, list[Record]] = {}
        for entity in ENTITIES:
            if entity == "notification":
                rows: Iterable[Record] = (self.tables["notification"][i]
                                          for i in self._by_owner.get(actor.id, ()))
            elif entity == "client" and actor.role != "operator":
                rows = ()
            else:
                rows = self.tables[entity].values()
            out[entity] = [r for r in rows if can_see(actor, entity, r)]
        return out
