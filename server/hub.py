"""The fan-out hub: "the log now reaches seq N", and each connection catches up.

Nothing here sends on a socket. `publish` (called right after a commit, still
under the writer lock, so in seq order) appends the events to a ring buffer
and wakes every subscriber: setting N asyncio.Events, never awaiting anyone.
Each connection's own task then reads the events after its cursor — from the
ring, or from the database when it has fallen behind the ring — and filters
them for its user. A replica on PostgreSQL will call `advance(seq)` when a
NOTIFY says another replica committed up to `seq`: the hub loads the missing
events from the log once, then wakes its subscribers the same way.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import Awaitable, Callable, Sequence

from domain.commands import Actor
from server.events import Event

Loader = Callable[[int, int], Awaitable[list[Event]]]  # (after, limit) → events


class Trimmed(Exception):
    """The log no longer reaches back to the cursor: the client must resync."""


class Subscription:
    def __init__(self, hub: Hub, actor: Actor) -> None:
        self.hub = hub
        self.actor = actor
        self.wake = asyncio.Event()

    def close(self) -> None:
        self.hub.subscribers.discard(self)


class Hub:
    def __init__(self, loader: Loader, *, ring_size: int = 10_000) -> None:
        self._load = loader
        self.ring: deque[Event] = deque(maxlen=ring_size)
        self.head = 0  # highest seq known committed, contiguous in the log
        self.trimmed = 0  # the log holds nothing at or below this
        self.subscribers: set[Subscription] = set()
        self._advancing = asyncio.Lock()

    def start(self, head: int, trimmed: int) -> None:
        self.head, self.trimmed = head, trimmed
        self.ring.clear()

    def subscribe(self, actor: Actor) -> Subscription:
        sub = Subscription(self, actor)
        self.subscribers.add(sub)
        return sub

    def publish(self, events: Sequence[Event]) -> None:
        """Newly committed events, in seq order (call under the writer lock)."""
        fresh = [e for e in events if e.seq > self.head]  # advance() may overlap
        if not fresh:
            return
        if fresh[0].seq != self.head + 1:
            self.ring.clear()  # keep the ring contiguous; readers fall back to the DB
        self.ring.extend(fresh)
        self.head = fresh[-1].seq
        self._wake()

    async def advance(self, seq: int) -> None:
        """Another process committed up to `seq`: load what we lack, then wake."""
        async with self._advancing:
            while self.head < seq:
                batch = await self._load(self.head, 1000)
                if not batch:
                    break
                self.publish(batch)

    def _wake(self) -> None:
        for sub in self.subscribers:
            sub.wake.set()

    async def read_after(self, cursor: int, limit: int = 500) -> list[Event]:
        """Events after `cursor` (every audience; callers filter), at most up to head."""
        if cursor < self.trimmed:
            raise Trimmed()
        if self.ring and self.ring[0].seq <= cursor + 1:
            start = cursor + 1 - self.ring[0].seq
            return list(itertools.islice(self.ring, start, start + limit))
        batch = await self._load(cursor, limit)
        if batch and batch[0].seq != cursor + 1 and cursor < self.trimmed:
            raise Trimmed()
        return [e for e in batch if e.seq <= self.head]
