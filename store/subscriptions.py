"""The one way the store tells anyone of a change: every batch is one
`Changed` (store/changed.py), handed to `Subscribers.publish`. Whole-screen
listeners get it as is; subscribers of one record or of a query are called,
once per batch, only when their results changed, with what changed.

A query keeps its result set (ids). After a batch it looks only at the
changed records of its entity: O(changed records x queries on that entity),
never a rescan of the cache. `rows()` sorts the current results on demand.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from domain.records import Entity, Record
from store.cache import Key
from store.changed import Changed, RecordChange

log = logging.getLogger(__name__)

ChangeListener = Callable[[Changed], None]


@dataclass(frozen=True)
class Delta:
    """What changed for one subscriber in one batch (ids of `entity`).
    `updated` includes records whose "changes waiting" mark flipped."""

    entity: Entity
    added: frozenset[str] = frozenset()
    updated: frozenset[str] = frozenset()
    removed: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.added or self.updated or self.removed)


Callback = Callable[[Delta], None]


@dataclass(frozen=True)
class Query:
    """A live query: records of `entity` where `where(record)` holds, sorted
    by `order_by` when given. `name` is for logs and debugging."""

    entity: Entity
    where: Callable[[Record], bool]
    order_by: Callable[[Record], Any] | None = None
    name: str = ""


class StoreSubscription:
    def __init__(self, hub: Subscribers, callback: Callback) -> None:
        self._hub = hub
        self.callback = callback
        self.active = True

    def cancel(self) -> None:
        if self.active:
            self.active = False
            self._hub._remove(self)


class RecordSubscription(StoreSubscription):
    def __init__(self, hub: Subscribers, key: Key, callback: Callback) -> None:
        super().__init__(hub, callback)
        self.key = key


class QuerySubscription(StoreSubscription):
    def __init__(self, hub: Subscribers, query: Query, callback: Callback,
                 ids: set[str]) -> None:
        super().__init__(hub, callback)
        self.query = query
        self.ids = ids  # current results

    def rows(self) -> list[Record]:
        """The current results as records, sorted by the query's order."""
        get = self._hub.get
        rows = [r for r in (get(self.query.entity, id) for id in self.ids) if r is not None]
        if self.query.order_by is not None:
            rows.sort(key=self.query.order_by)
        return rows

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class Subscribers:
    """Who hears of the store's changes (`get`/`all` give what views see)."""

    get: Callable[[Entity, str], Record | None]
    all: Callable[[Entity], Iterator[Record]]
    _records: dict[Key, list[RecordSubscription]] = field(default_factory=dict)
    _queries: dict[Entity, list[QuerySubscription]] = field(default_factory=dict)
    _listeners: list[ChangeListener] = field(default_factory=list)

    def listen(self, listener: ChangeListener) -> Callable[[], None]:
        """`listener(changed)` for every batch. Unlike a record's or a query's
        subscriber, a listener that raises is not shielded: the error reaches
        whoever changed the store (the sync task that crashes is restarted
        and the user told, services.client)."""
        self._listeners.append(listener)

        def off() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return off

    def record(self, entity: Entity, id: str, callback: Callback) -> RecordSubscription:
        sub = RecordSubscription(self, (entity, id), callback)
        self._records.setdefault((entity, id), []).append(sub)
        return sub

    def query(self, query: Query, callback: Callback) -> QuerySubscription:
        """Subscribe to a query; its first results are computed now (one scan)."""
        ids = {str(r["id"]) for r in self.all(query.entity) if _holds(query, r)}
        sub = QuerySubscription(self, query, callback, ids)
        self._queries.setdefault(query.entity, []).append(sub)
        return sub

    def _remove(self, sub: StoreSubscription) -> None:
        if isinstance(sub, RecordSubscription):
            subs = self._records.get(sub.key, [])
            if sub in subs:
                subs.remove(sub)
            if not subs:
                self._records.pop(sub.key, None)
        elif isinstance(sub, QuerySubscription):
            qsubs = self._queries.get(sub.query.entity, [])
            if sub in qsubs:
                qsubs.remove(sub)

    def publish(self, changed: Changed) -> None:
        """Tell each affected subscriber once what changed in this batch, then
        every listener."""
        self._deliver(changed.changes)
        for listener in list(self._listeners):
            listener(changed)

    def _deliver(self, changes: Mapping[Key, RecordChange]) -> None:
        if not changes:
            return
        calls: list[tuple[StoreSubscription, Delta]] = []
        by_entity: dict[Entity, list[tuple[str, RecordChange]]] = {}
        for (entity, id), change in changes.items():
            by_entity.setdefault(entity, []).append((id, change))
            for rsub in self._records.get((entity, id), ()):
                calls.append((rsub, _record_delta(entity, id, change)))
        for entity, items in by_entity.items():
            for qsub in list(self._queries.get(entity, ())):
                delta = _query_delta(qsub, entity, items)
                if delta:
                    calls.append((qsub, delta))
        for sub, delta in calls:
            if not sub.active:
                continue
            try:
                sub.callback(delta)
            except Exception:  # one broken view must not stop the others
                log.exception("subscriber failed")


def _holds(query: Query, record: Record) -> bool:
    try:
        return bool(query.where(record))
    except Exception:
        log.exception("query %s failed on %s", query.name, record.get("id"))
        return False


def _record_delta(entity: Entity, id: str, change: RecordChange) -> Delta:
    before, after = change
    ids = frozenset({id})
    if after is None:
        return Delta(entity, removed=ids)
    if before is None:
        return Delta(entity, added=ids)
    return Delta(entity, updated=ids)


def _query_delta(sub: QuerySubscription, entity: Entity,
                 items: Iterable[tuple[str, RecordChange]]) -> Delta:
    added: set[str] = set()
    updated: set[str] = set()
    removed: set[str] = set()
    for id, (_before, after) in items:
        was = id in sub.ids
        now = after is not None and _holds(sub.query, after)
        if now and not was:
            sub.ids.add(id)
            added.add(id)
        elif was and not now:
            sub.ids.discard(id)
            removed.add(id)
        elif was and now:
            updated.add(id)
    return Delta(entity, frozenset(added), frozenset(updated), frozenset(removed))
