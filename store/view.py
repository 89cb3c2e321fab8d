"""The optimistic view: confirmed records with the pending commands replayed
on top, in order, by `domain.apply` (the function the server runs).

Rebase, never restore: a rejection drops one command and replays; an event
updates the confirmed records and replays. Replays are incremental: each
pending command remembers what it read (records by key, whole entities it
scanned) and what it wrote, and is re-run only when something it read
changed. So a local action costs one `apply`, and an event touching records
no pending command read costs no replay at all, whatever the cache size.

When a replay makes a pending command impossible (someone changed the record
first), the command keeps its place in the outbox with `conflict` set: its
effects disappear from the view and the user is told at once, but the server
still decides (the client sees only part of the world, and the server may
still accept it, e.g. an idempotent retry that already applied). A server
rejection then rolls it back like any other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from domain.commands import Actor, Command, Outcome, Settings, Snapshot
from domain.errors import DomainError
from domain.records import Entity, Record
from store.cache import Cache, Key
from store.outbox import Entry
from store.overlay import Layer, Overlay

ApplyFn = Callable[[Snapshot, Actor, Command, datetime, Settings], Outcome]
Change = tuple[Record | None, Record | None]  # (before, after) as views saw it
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


@dataclass
class Pending:
    """A queued command and the effect it had when last replayed."""

    entry: Entry
    command: Command
    now: datetime
    writes: dict[Key, Record | None] = field(default_factory=dict)
    reads: set[Key] = field(default_factory=set)
    scans: set[Entity] = field(default_factory=set)
    conflict: DomainError | None = None  # replay refused it; the server decides
    told: bool = False  # the user has been told about the conflict


class OptimisticView:
    """What views show. A `domain.commands.Snapshot`; read with `get`, `all`,
    `is_pending`, `pending_ids`."""

    def __init__(self, cache: Cache, actor: Actor, apply: ApplyFn, settings: Settings) -> None:
        self.cache = cache
        self.actor = actor
        self._apply = apply
        self.settings = settings
        self.pending: list[Pending] = []
        self.layer: Layer = {}
        self.pending_keys: set[Key] = set()
        self._by_seq: dict[int, Pending] = {}

    # Reading ------------------------------------------------------------
    def get(self, entity: Entity, id: str) -> Record | None:
        over = self.layer.get(entity)
        if over is not None and id in over:
            return over[id]
        return self.cache.get(entity, id)

    def all(self, entity: Entity) -> Iterator[Record]:
        return Overlay(self.cache.tables, self.layer).all(entity)

    def is_pending(self, entity: Entity, id: str) -> bool:
        """Has this record changes waiting to reach the server ("syncing")?"""
        return (entity, id) in self.pending_keys

    def pending_ids(self, entity: Entity) -> set[str]:
        return {id for e, id in self.pending_keys if e == entity}

    def entangled(self, earlier: int, later: int) -> bool:
        """Must command `later` wait for command `earlier` to be answered?
        Yes when either touches what the other read or wrote (by key, or by
        a whole-entity scan), or when we can't tell. Independent commands may
        travel to the server in parallel: neither can see the other's effect."""
        a, b = self._by_seq.get(earlier), self._by_seq.get(later)
        if a is None or b is None or a.conflict is not None or b.conflict is not None:
            return a is not None and b is not None  # gone: nothing to wait for
        a_writes, b_writes = _touched(a), _touched(b)
        if a_writes & (b.reads | b_writes) or b_writes & a.reads:
            return True
        return bool({e for e, _ in a_writes} & b.scans or {e for e, _ in b_writes} & a.scans)

    def conflicts(self) -> list[Pending]:
        return [p for p in self.pending if p.conflict is not None]

    # Local actions --------------------------------------------------------
    def attempt(self, command: Command, now: datetime) -> tuple[Outcome, Overlay]:
        """Run a new command on the current view; raises DomainError when it
        is not possible. Changes nothing."""
        snap = Overlay(self.cache.tables, self.layer, track=True)
        return self._apply(snap, self.actor, command, now, self.settings), snap

    def push(self, entry: Entry, command: Command, now: datetime, outcome: Outcome,
             snap: Overlay) -> dict[Key, Change]:
        """Append an accepted local command (from `attempt`); the visible changes."""
        pending = Pending(entry, command, now, writes_of(outcome), snap.reads, snap.scans)
        keys = set(pending.writes)
        target = target_key(entry)
        if target is not None:
            keys.add(target)
        before = {k: self.get(*k) for k in keys}
        self.pending.append(pending)
        self._by_seq[entry.seq] = pending
        _put(self.layer, pending.writes)
        self.pending_keys |= keys
        return {k: (before[k], self.get(*k)) for k in keys}

    # Rebase -----------------------------------------------------------------
    def rebase(self, confirmed_before: dict[Key, Record | None], removed: Iterable[int] = ()
               ) -> tuple[dict[Key, Change], list[Pending]]:
        """Replay after confirmed records changed (`confirmed_before` holds the
        previous confirmed value of each changed key) and/or commands left the
        queue (`removed` seqs). Returns the visible changes and the commands
        that newly became impossible."""
        gone = set(removed)
        changed: set[Key] = set(confirmed_before)
        keep: list[Pending] = []
        for p in self.pending:
            if p.entry.seq in gone:
                changed.update(p.writes)
            else:
                keep.append(p)
        old_layer, old_keys = self.layer, self.pending_keys
        entities = {e for e, _ in changed}
        layer: Layer = {}
        keys: set[Key] = set()
        newly: list[Pending] = []
        for p in keep:
            if p.reads & changed or p.scans & entities:
                self._replay(p, layer, changed, entities, newly)
            _put(layer, p.writes)
            keys.update(p.writes)
            target = target_key(p.entry)
            if target is not None:
                keys.add(target)
        self.pending, self.layer, self.pending_keys = keep, layer, keys
        for seq in gone:
            self._by_seq.pop(seq, None)

        candidates = set(confirmed_before) | (old_keys ^ keys)
        for entity in old_layer.keys() | layer.keys():
            a, b = old_layer.get(entity, {}), layer.get(entity, {})
            for id in a.keys() | b.keys():
                if a.get(id, _MISSING) is not b.get(id, _MISSING):
                    candidates.add((entity, id))
        out: dict[Key, Change] = {}
        for k in candidates:
            over = old_layer.get(k[0], {})
            if k[1] in over:
                old = over[k[1]]
            elif k in confirmed_before:
                old = confirmed_before[k]
            else:
                old = self.cache.get(*k)
            new = self.get(*k)
            if old != new or ((k in old_keys) != (k in keys)):
                out[k] = (old, new)
        return out, newly

    def _replay(self, p: Pending, layer: Layer, changed: set[Key], entities: set[Entity],
                newly: list[Pending]) -> None:
        snap = Overlay(self.cache.tables, layer, track=True)
        try:
            writes = writes_of(self._apply(snap, self.actor, p.command, p.now, self.settings))
            conflict = None
        except DomainError as exc:
            writes, conflict = {}, exc
        for k in p.writes.keys() | writes.keys():
            if p.writes.get(k, _MISSING) != writes.get(k, _MISSING):
                changed.add(k)
                entities.add(k[0])
        if conflict is not None and p.conflict is None:
            newly.append(p)
        p.writes, p.reads, p.scans, p.conflict = writes, snap.reads, snap.scans, conflict

    def reset(self, entries: list[tuple[Entry, Command, datetime]]) -> list[Pending]:
        """Start over with these pending commands (on open); returns the
        ones that can't be replayed."""
        self.pending = [Pending(e, c, now) for e, c, now in entries]
        self._by_seq = {p.entry.seq: p for p in self.pending}
        self.layer, self.pending_keys = {}, set()
        newly: list[Pending] = []
        for p in self.pending:
            self._replay(p, self.layer, set(), set(), newly)
            _put(self.layer, p.writes)
            self.pending_keys.update(p.writes)
            target = target_key(p.entry)
            if target is not None:
                self.pending_keys.add(target)
        return newly


def _touched(p: Pending) -> set[Key]:
    keys = set(p.writes)
    target = target_key(p.entry)
    if target is not None:
        keys.add(target)
    return keys


def _put(layer: Layer, writes: dict[Key, Record | None]) -> None:
    for (entity, id), record in writes.items():
        layer.setdefault(entity, {})[id] = record
