"""The optimistic view: confirmed records with the pending commands replayed
on top, in order, by `domain.apply` (the function the server runs).

Rebase, never restore: a rejection drops one command and replays; an event
updates the confirmed records and replays. Replays are incremental: each
pending command remembers what it read (records by key, whole entities it
scanned, the days it read through `on_days`) and what it wrote, and is
re-run only when something it read changed, seeing exactly the writes of
the commands before it. So a local action costs one `apply`, an answer or
event costs the replays it really causes, and neither grows with the cache
or the queue.

When a replay makes a pending command impossible (someone changed the record
first), the command keeps its place in the outbox with `conflict` set: its
effects disappear from the view and the user is told at once (`Store`: a
"conflict" message; not while the command is on its way, since then it is
usually the event of its own effect that overtook the answer). The server
still decides (the client sees only part of the world, and the server may
still accept it, e.g. an idempotent retry that already applied). A server
rejection then rolls it back like any other.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from domain.commands import Actor, Command, Outcome, Settings, Snapshot
from domain.errors import DomainError
from domain.records import Entity, Record
from store.cache import Cache, Key
from store.changed import RecordChange
from store.days import DATED, day_of
from store.outbox import Entry
from store.overlay import DayKey, Layer, Overlay

ApplyFn = Callable[[Snapshot, Actor, Command, datetime, Settings], Outcome]

_MISSING: Record = {}

_PREFIX: dict[str, Entity] = {
    "appointment": "appointment",
    "appointments": "appointment",
    "availability": "availability",
    "staff": "staff",
    "client": "client",
    "service": "service",
    "notification": "notification",
    "notifications": "notification",
    "material": "material",
    "attendance": "shift",  # clock_in names a new shift, clock_out the open one
}


def command_entity(name: str) -> Entity | None:
    """The entity a command's target names ("appointment.accept" -> appointment)."""
    return _PREFIX.get(name.split(".", 1)[0])


def target_key(entry: Entry) -> Key | None:
    entity = command_entity(entry.name)
    if entity is None or entry.target is None:
        return None
    return (entity, entry.target)


def writes_of(outcome: Outcome) -> dict[Key, Record | None]:
    writes: dict[Key, Record | None] = {}
    for c in outcome.changes:
        writes[(c.entity, c.id)] = None if c.op == "delete" else c.record
    return writes


@dataclass(eq=False)
class Pending:
    """A queued command and the effect it had when last replayed."""

    entry: Entry
    command: Command
    now: datetime
    writes: dict[Key, Record | None] = field(default_factory=dict)
    reads: set[Key] = field(default_factory=set)
    scans: set[Entity] = field(default_factory=set)
    days_read: set[DayKey] = field(default_factory=set)
    conflict: DomainError | None = None  # replay refused it; the server decides
    told: bool = False  # the user has been told about the conflict

    @property
    def seq(self) -> int:
        return self.entry.seq

    def touched(self) -> set[Key]:
        """What it writes, plus its target (marked "syncing" even when the
        command currently has no effect)."""
        keys = set(self.writes)
        target = target_key(self.entry)
        if target is not None:
            keys.add(target)
        return keys


class _Before:
    """The world as pending command `seq` sees it: confirmed records plus the
    writes of the pending commands before it (a domain Snapshot), recording
    what `apply` reads."""

    def __init__(self, view: OptimisticView, seq: int) -> None:
        self.view, self.seq = view, seq
        self.reads: set[Key] = set()
        self.scans: set[Entity] = set()
        self.days_read: set[DayKey] = set()

    def get(self, entity: Entity, id: str) -> Record | None:
        key = (entity, id)
        self.reads.add(key)
        found, value = self.view._written_before(key, self.seq)
        return value if found else self.view.cache.get(entity, id)

    def all(self, entity: Entity) -> Iterator[Record]:
        self.scans.add(entity)
        return self._all(entity)

    def on_days(self, entity: Entity, days: Collection[str]) -> Iterator[Record]:
        if entity not in DATED:
            return iter([r for r in self.all(entity) if r.get("date") in days])
        self.days_read.update((entity, day) for day in days)
        view, seq = self.view, self.seq
        written = view._written_ids.get(entity, {})
        found: list[Record] = []
        for record in view.cache.on_days(entity, days):
            if record["id"] not in written:
                found.append(record)
        for id in written:  # as the commands before this one left them
            ok, value = view._written_before((entity, id), seq)
            if not ok:
                value = view.cache.get(entity, id)
            if value is not None and day_of(value) in days:
                found.append(value)
        return iter(found)

    def _all(self, entity: Entity) -> Iterator[Record]:
        written = self.view._written_ids.get(entity, {})
        for id, record in self.view.cache.tables.get(entity, {}).items():
            if id in written:
                found, value = self.view._written_before((entity, id), self.seq)
                if found:
                    if value is not None:
                        yield value
                    continue
            yield record
        confirmed = self.view.cache.tables.get(entity, {})
        for id in list(written):
            if id not in confirmed:
                found, value = self.view._written_before((entity, id), self.seq)
                if found and value is not None:
                    yield value


class OptimisticView:
    """What views show. A `domain.commands.Snapshot`; read with `get`, `all`,
    `is_pending`, `pending_ids`.

    Indexes keep every operation proportional to what it touches: per key,
    the pending commands that write it (in order); per key / entity, the
    commands that read / scanned it. `layer` is the visible result: per key,
    the last pending writer's value."""

    def __init__(self, cache: Cache, actor: Actor, apply: ApplyFn, settings: Settings) -> None:
        self.cache = cache
        self.actor = actor
        self._apply = apply
        self.settings = settings
        self._pending: dict[int, Pending] = {}  # by seq, in order
        self.layer: Layer = {}
        self._writers: dict[Key, list[Pending]] = {}  # in seq order
        self._written_ids: dict[Entity, dict[str, None]] = {}  # ids with writers, in order
        self._readers: dict[Key, set[int]] = {}
        self._scanners: dict[Entity, set[int]] = {}
        self._day_readers: dict[DayKey, set[int]] = {}
        self._touch: dict[Key, int] = {}  # "syncing" marks, reference counted
        # During one operation: old visible layer values and flipped marks.
        self._old: dict[Key, Record | None] = {}
        self._had: set[Key] = set()
        self._flipped: set[Key] = set()

    # Reading ------------------------------------------------------------
    @property
    def pending(self) -> list[Pending]:
        return list(self._pending.values())

    @property
    def pending_keys(self) -> set[Key]:
        return set(self._touch)

    def get(self, entity: Entity, id: str) -> Record | None:
        over = self.layer.get(entity)
        if over is not None and id in over:
            return over[id]
        return self.cache.get(entity, id)

    def all(self, entity: Entity) -> Iterator[Record]:
        return Overlay(self.cache.tables, self.layer).all(entity)

    def on_days(self, entity: Entity, days: Collection[str]) -> Iterator[Record]:
        return Overlay(self.cache.tables, self.layer, dated=self.cache).on_days(entity, days)

    def is_pending(self, entity: Entity, id: str) -> bool:
        """Has this record changes waiting to reach the server ("syncing")?"""
        return (entity, id) in self._touch

    def pending_ids(self, entity: Entity) -> set[str]:
        return {id for e, id in self._touch if e == entity}

    def conflicts(self) -> list[Pending]:
        return [p for p in self._pending.values() if p.conflict is not None]

    def entangled(self, earlier: int, later: int) -> bool:
        """Must command `later` wait for command `earlier` to be answered?
        Yes when either touches what the other read or wrote (by key, or by
        a whole-entity scan), or when we can't tell. Independent commands may
        travel to the server in parallel: neither can see the other's effect."""
        a, b = self._pending.get(earlier), self._pending.get(later)
        if a is None or b is None:
            return False  # gone: nothing to wait for
        if a.conflict is not None or b.conflict is not None:
            return True
        a_writes, b_writes = a.touched(), b.touched()
        if a_writes & (b.reads | b_writes) or b_writes & a.reads:
            return True
        # (a day read counts as a scan of its entity here: conservative)
        a_scans = a.scans | {e for e, _ in a.days_read}
        b_scans = b.scans | {e for e, _ in b.days_read}
        return bool({e for e, _ in a_writes} & b_scans or {e for e, _ in b_writes} & a_scans)

    # Local actions --------------------------------------------------------
    def attempt(self, command: Command, now: datetime) -> tuple[Outcome, Overlay]:
        """Run a new command on the current view; raises DomainError when it
        is not possible. Changes nothing."""
        snap = Overlay(self.cache.tables, self.layer, dated=self.cache, track=True)
        return self._apply(snap, self.actor, command, now, self.settings), snap

    def push(self, entry: Entry, command: Command, now: datetime, outcome: Outcome,
             snap: Overlay) -> dict[Key, RecordChange]:
        """Append an accepted local command (from `attempt`); the visible changes."""
        p = Pending(entry, command, now, writes_of(outcome), snap.reads, snap.scans,
                    snap.days_read)
        self._begin()
        self._pending[p.seq] = p
        self._index(p)
        return self._finish({})

    # Rebase -----------------------------------------------------------------
    def rebase(self, confirmed_before: dict[Key, Record | None], removed: Iterable[int] = ()
               ) -> tuple[dict[Key, RecordChange], list[Pending]]:
        """Replay after confirmed records changed (`confirmed_before` holds the
        previous confirmed value of each changed key) and/or commands left the
        queue (`removed` seqs). Returns the visible changes and the commands
        that newly became impossible."""
        if not self._pending:
            # Nothing to replay (the usual case for a server event): what views
            # see is the confirmed state, so each changed key is the change.
            get = self.cache.get
            out: dict[Key, RecordChange] = {}
            for key, old in confirmed_before.items():
                now = get(*key)
                if old != now:
                    out[key] = (old, now)
            return out, []
        self._begin()
        changed: set[Key] = set(confirmed_before)
        # the days the changed records were or are on, as anyone may have seen them
        days: set[DayKey] = {(k[0], d) for k, r in confirmed_before.items()
                             if (d := day_of(r)) is not None}
        for seq in removed:
            p = self._pending.pop(seq, None)
            if p is not None:
                self._unindex(p)
                changed.update(p.writes)
                days.update(_days_of(p.writes))
        for key in changed:
            days.update(self._days_now(key))
        queue: list[int] = []
        for key in changed:
            queue.extend(self._readers.get(key, ()))
        for entity in {e for e, _ in changed}:
            queue.extend(self._scanners.get(entity, ()))
        for day in days:
            queue.extend(self._day_readers.get(day, ()))
        heapq.heapify(queue)
        newly: list[Pending] = []
        done: set[int] = set()
        while queue:
            seq = heapq.heappop(queue)
            p = self._pending.get(seq)
            if p is None or seq in done:
                continue
            done.add(seq)
            diff, moved = self._replay(p, newly)
            for key in diff:
                queue.extend(s for s in self._readers.get(key, ()) if s > seq)
                queue.extend(s for s in self._scanners.get(key[0], ()) if s > seq)
            for day in moved:
                queue.extend(s for s in self._day_readers.get(day, ()) if s > seq)
            heapq.heapify(queue)  # once per replay, after all its keys
        return self._finish(confirmed_before), newly

    def _replay(self, p: Pending, newly: list[Pending]) -> tuple[set[Key], set[DayKey]]:
        """Re-run one pending command where it stands; the keys whose
        written value changed, and the days those values were or are on."""
        snap = _Before(self, p.seq)
        try:
            writes = writes_of(self._apply(snap, self.actor, p.command, p.now, self.settings))
            conflict = None
        except DomainError as exc:
            writes, conflict = {}, exc
        diff = {k for k in p.writes.keys() | writes.keys()
                if p.writes.get(k, _MISSING) != writes.get(k, _MISSING)}
        moved = _days_of({k: p.writes.get(k) for k in diff})  # where it wrote them
        if conflict is not None and p.conflict is None:
            newly.append(p)
        self._unindex(p)
        p.writes, p.reads, p.scans, p.conflict = writes, snap.reads, snap.scans, conflict
        p.days_read = snap.days_read
        self._index(p)
        for key in diff:  # where they are now, for everyone after it
            moved |= self._days_now(key)
        return diff, moved

    def reset(self, entries: list[tuple[Entry, Command, datetime]]) -> list[Pending]:
        """Start over with these pending commands (on open); returns the
        ones that can't be replayed."""
        for p in list(self._pending.values()):
            self._unindex(p)
        self._pending = {}
        newly: list[Pending] = []
        for entry, command, now in entries:
            p = Pending(entry, command, now)
            self._pending[p.seq] = p
            self._index(p)
            self._replay(p, newly)
        self._old, self._had, self._flipped = {}, set(), set()
        return newly

    # Indexes ----------------------------------------------------------------
    def _written_before(self, key: Key, seq: int) -> tuple[bool, Record | None]:
        """The value the last pending command before `seq` wrote to `key`."""
        for p in reversed(self._writers.get(key, ())):
            if p.seq < seq:
                return True, p.writes[key]
        return False, None

    def _index(self, p: Pending) -> None:
        for key in p.writes:
            writers = self._writers.setdefault(key, [])
            if not writers or writers[-1].seq < p.seq:
                writers.append(p)
            else:
                bisect.insort(writers, p, key=lambda w: w.seq)
            self._written_ids.setdefault(key[0], {})[key[1]] = None
            self._refresh(key)
        for key in p.reads:
            self._readers.setdefault(key, set()).add(p.seq)
        for entity in p.scans:
            self._scanners.setdefault(entity, set()).add(p.seq)
        for day in p.days_read:
            self._day_readers.setdefault(day, set()).add(p.seq)
        for key in p.touched():
            count = self._touch.get(key, 0)
            self._touch[key] = count + 1
            if count == 0:
                self._flipped ^= {key}

    def _unindex(self, p: Pending) -> None:
        for key in p.writes:
            writers = self._writers.get(key, [])
            if p in writers:
                writers.remove(p)
            if not writers:
                self._writers.pop(key, None)
                self._written_ids.get(key[0], {}).pop(key[1], None)
            self._refresh(key)
        for key in p.reads:
            readers = self._readers.get(key)
            if readers is not None:
                readers.discard(p.seq)
                if not readers:
                    del self._readers[key]
        for entity in p.scans:
            self._scanners.get(entity, set()).discard(p.seq)
        for day in p.days_read:
            day_readers = self._day_readers.get(day)
            if day_readers is not None:
                day_readers.discard(p.seq)
                if not day_readers:
                    del self._day_readers[day]
        for key in p.touched():
            count = self._touch.get(key, 0) - 1
            if count <= 0:
                self._touch.pop(key, None)
                self._flipped ^= {key}
            else:
                self._touch[key] = count

    def _days_now(self, key: Key) -> set[DayKey]:
        """The days `key` is on now: confirmed, and as each pending command
        writes it."""
        values = [self.cache.get(*key)] + [w.writes[key] for w in self._writers.get(key, ())]
        return {(key[0], d) for v in values if (d := day_of(v)) is not None}

    def _refresh(self, key: Key) -> None:
        """Set the visible layer value of `key` from its last writer."""
        entity, id = key
        over = self.layer.get(entity, {})
        if key not in self._old and key not in self._had:
            if id in over:
                self._old[key] = over[id]
            self._had.add(key)
        writers = self._writers.get(key)
        if writers:
            self.layer.setdefault(entity, {})[id] = writers[-1].writes[key]
        elif id in over:
            del over[id]

    def _begin(self) -> None:
        self._old, self._had, self._flipped = {}, set(), set()

    def _finish(self, confirmed_before: dict[Key, Record | None]) -> dict[Key, RecordChange]:
        """The visible changes of this operation: (before, after) per key."""
        out: dict[Key, RecordChange] = {}
        for key in self._had | set(confirmed_before) | self._flipped:
            if key in self._old:
                old = self._old[key]
            elif key in confirmed_before:
                old = confirmed_before[key]
            else:
                old = self.cache.get(*key)
            new = self.get(*key)
            if old != new or key in self._flipped:
                out[key] = (old, new)
        self._old, self._had, self._flipped = {}, set(), set()
        return out


def _days_of(writes: dict[Key, Record | None]) -> set[DayKey]:
    return {(k[0], d) for k, v in writes.items() if (d := day_of(v)) is not None}
