"""The fan-out hub: "the log now reaches seq N", and every connection gets its events.

Nothing here awaits a socket. `publish` (called right after a commit, still
under the writer lock, so in seq order) appends the events to a ring buffer
and, per event, looks up its recipients ONCE from indexes (operators, named
users, everyone) instead of asking every connection. A connection is in one
of two modes:

- live: it has everything up to `head`. `publish` hands it each event it may
  see straight away (`Subscription.push`: the frame is encoded once per
  event and shared). No task wakes up for it.
- catching up (just connected with an old cursor, or its send queue was
  full): its own task reads the events after its `cursor` — from the ring, or
  from the database when it has fallen behind the ring — filters them for
  its user and, once `cursor == head` with no await in between, goes live.
  `publish` only sets its `wake`.

So replay and live meet without a gap or a duplicate: an event is either
below the cursor the catch-up reached (read by it) or published after the
switch (pushed by `publish`), never both.

A replica on PostgreSQL calls `advance(seq)` when a NOTIFY says another
replica committed up to `seq`: the hub loads the missing events from the log
once, then publishes them the same way.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence

from domain.commands import Actor
from server.events import Event

Loader = Callable[[int, int], Awaitable[list[Event]]]  # (after, limit) → events
# Hand one event to a live connection; False: its queue is full (it goes
# back to catching up from `cursor`).
Push = Callable[[Event], bool]


class Trimmed(Exception):
    """The log no longer reaches back to the cursor: the client must resync."""


class Subscription:
    def __init__(self, hub: Hub, actor: Actor, push: Push | None = None) -> None:
        self.hub = hub
        self.actor = actor
        self.wake = asyncio.Event()
        self.push: Push | None = push
        self.live = False
        self.cursor = 0  # while catching up: the last seq this connection has handled
        # Called (from publish) when a live connection falls behind.
        self.on_lag: Callable[[], None] | None = None

    def go_live(self) -> None:
        """Caught up (call only when `cursor == hub.head`, without an await since
        checking): from now on `publish` pushes this connection's events."""
        assert self.cursor == self.hub.head
        self.live = True

    def close(self) -> None:
        self.live = False
        self.hub.unsubscribe(self)


class Hub:
    def __init__(self, loader: Loader, *, ring_size: int = 10_000) -> None:
        self._load = loader
        self.ring: deque[Event] = deque(maxlen=ring_size)
        self.head = 0  # highest seq known committed, contiguous in the log
        self.trimmed = 0  # the log holds nothing at or below this
        self.subscribers: set[Subscription] = set()
        self._operators: set[Subscription] = set()  # role operator
        self._system: set[Subscription] = set()  # role system: sees everything
        self._by_user: dict[str, set[Subscription]] = {}
        self._advancing = asyncio.Lock()

    def start(self, head: int, trimmed: int) -> None:
        self.head, self.trimmed = head, trimmed
        self.ring.clear()

    def subscribe(self, actor: Actor, push: Push | None = None) -> Subscription:
        sub = Subscription(self, actor, push)
        sub.cursor = self.head
        self.subscribers.add(sub)
        if actor.role == "operator":
            self._operators.add(sub)
        elif actor.role == "system":
            self._system.add(sub)
        self._by_user.setdefault(actor.id, set()).add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self.subscribers.discard(sub)
        self._operators.discard(sub)
        self._system.discard(sub)
        mine = self._by_user.get(sub.actor.id)
        if mine is not None:
            mine.discard(sub)
            if not mine:
                del self._by_user[sub.actor.id]

    def recipients(self, event: Event) -> Iterable[Subscription]:
        """Every subscription whose user may see `event`: the rule of
        `domain.policy.Audience.includes`, evaluated through the indexes."""
        if event.to_everyone:
            return self.subscribers
        groups: list[Iterable[Subscription]] = [self._system]
        if event.to_operators:
            groups.append(self._operators)
        for user in event.users:
            mine = self._by_user.get(user)
            if mine:  # named people, minus those a group above already has
                groups.append(s for s in mine if s.actor.role != "system" and not (
                    event.to_operators and s.actor.role == "operator"))
        return itertools.chain.from_iterable(groups)

    def publish(self, events: Sequence[Event]) -> None:
        """Newly committed events, in seq order (call under the writer lock)."""
        fresh = [e for e in events if e.seq > self.head]  # advance() may overlap
        if not fresh:
            return
        if fresh[0].seq != self.head + 1:
            self.ring.clear()  # keep the ring contiguous; readers fall back to the DB
        self.ring.extend(fresh)
        lagging: list[Subscription] = []
        for event in fresh:
            self.head = event.seq
            for sub in self.recipients(event):
                if sub.live and sub.push is not None and not sub.push(event):
                    sub.live = False  # its queue is full: catch up from here
                    sub.cursor = event.seq - 1
                    lagging.append(sub)
        for sub in lagging:
            if sub.on_lag is not None:
                sub.on_lag()
        self._wake()

    async def advance(self, seq: int) -> None:
        """Another process committed up to `seq`: load what we lack, then publish."""
        async with self._advancing:
            while self.head < seq:
                batch = await self._load(self.head, 1000)
                if not batch:
                    break
                self.publish(batch)

    def _wake(self) -> None:
        for sub in self.subscribers:
            if not sub.live:
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
