"""An in-memory twin of the client (views.port.ClientPort) for view tests.

Not a mock: it keeps confirmed state and a pending outbox apart and shows
confirmed state with the pending commands replayed through the real
`domain.apply`, like the real store does. A test plays the server with
`remote`, `ack` and `refuse`.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from domain.apply import apply
from domain.commands import Actor, Command, MemorySnapshot
from domain.errors import DomainError
from domain.records import Entity, Record
from views.port import (
    Changed,
    ChangeListener,
    Key,
    Link,
    Notice,
    QueuedCommand,
    Result,
    ServerEvent,
    SyncInfo,
    TimelineEntry,
    TimelineUnavailable,
)

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


class FakeClient:
    def __init__(
        self, user: Record, records: dict[Entity, list[Record]], now: datetime = NOW
    ) -> None:
        self._user = user
        self._actor = Actor(id=user["id"], role=user["role"])
        self.confirmed = MemorySnapshot.of(**records)
        self.pending: list[Command] = []
        self.failed: list[tuple[Command, str]] = []  # refused, with the server's words
        self.dismissed: list[int] = []
        self.now = now
        self.link = Link.ONLINE
        self.listeners: list[ChangeListener] = []
        self.seq = 0
        self.dispatched: list[Command] = []
        self.stopped = False
        self._view = self.confirmed
        # the server's side of GET /api/appointments/{id}/timeline
        self.timelines: dict[str, list[TimelineEntry]] = {}
        self.timeline_error: str | None = None
        self.timeline_gate: asyncio.Event | None = None

    # ---- ClientPort
    @property
    def actor(self) -> Actor:
        return self._actor

    @property
    def user(self) -> Record:
        return self._user

    def view(self) -> MemorySnapshot:
        return self._view

    def is_pending(self, entity: Entity, id: str) -> bool:
        return any(key == (entity, id) for cmd in self.pending for key in self._keys_of(cmd))

    def sync_info(self) -> SyncInfo:
        return SyncInfo(
            link=self.link,
            queued=tuple(QueuedCommand(c.seq, c.name, c.target) for c in self.pending),
            failed=tuple(
                QueuedCommand(c.seq, c.name, c.target, why, c.args) for c, why in self.failed
            ),
            cursor=7,
            last_event=None,
        )

    def subscribe(self, listener: ChangeListener) -> Callable[[], None]:
        self.listeners.append(listener)
        return lambda: self.listeners.remove(listener)

    async def dispatch(self, name: str, target: str | None, args: dict[str, Any]) -> Result:
        self.seq += 1
        # like the real store: a field edit is based on the version shown now
        base = None
        entity = name.split(".")[0]
        if name.endswith(".update") and target is not None:
            current = self._view.get(entity, target)  # type: ignore[arg-type]
            base = int(current["version"]) if current else None
        cmd = Command(name, target, dict(args), base, client_id="fake", seq=self.seq)
        try:
            outcome = apply(self._view, self._actor, cmd, self.now)
        except DomainError as e:
            return Result(ok=False, message=e.message, code=e.code)
        self.pending.append(cmd)
        self.dispatched.append(cmd)
        self._recompute()
        keys = frozenset((c.entity, c.id) for c in outcome.changes)
        await self._emit(Changed(keys=keys, sync=True))
        return Result(ok=True, record=outcome.record)

    async def dismiss(self, seq: int) -> None:
        """Forget a failed command, like the real outbox; the sync views hear
        of it as the real client tells them (Changed(sync=True))."""
        if not any(c.seq == seq for c, _ in self.failed):
            return
        self.failed = [(c, why) for c, why in self.failed if c.seq != seq]
        self.dismissed.append(seq)
        await self._emit(Changed(sync=True))

    async def logout(self) -> None:
        self.stopped = True

    async def suspend(self) -> None:
        self.stopped = True  # the twin keeps nothing on disk to keep

    def foreground(self) -> None:
        pass  # the twin's link is whatever the test sets (`set_link`)

    async def background(self) -> None:
        pass

    async def timeline(self, appointment_id: str) -> list[TimelineEntry]:
        """What the test put in `timelines`; held while `timeline_gate` is
        closed (a slow server), refused with `timeline_error` when set."""
        if self.timeline_gate is not None:
            await self.timeline_gate.wait()
        if self.timeline_error is not None:
            raise TimelineUnavailable(self.timeline_error)
        return list(self.timelines.get(appointment_id, []))

    # ---- the test plays the server
    async def remote(self, entity: Entity, record: Record) -> None:
        """A server event upserting `record`."""
        self.confirmed.put(entity, record)
        self._recompute()
        await self._emit(Changed(keys=frozenset({(entity, record["id"])})))

    async def remote_events(self, *events: ServerEvent) -> None:
        """A batch of server events, as the real client reports it: one
        Changed with the records (keys) and the events themselves (for the feed)."""
        for e in events:
            if e.op == "delete" or e.data is None:
                self.confirmed.remove(e.entity, e.id)
            else:
                self.confirmed.put(e.entity, e.data)
        self._recompute()
        keys = frozenset((e.entity, e.id) for e in events)
        await self._emit(Changed(keys=keys, sync=True, events=events))

    async def ack(self) -> None:
        """The server applied every pending command."""
        keys: set[Key] = set()
        for cmd in self.pending:
            outcome = apply(self.confirmed, self._actor, cmd, self.now)
            self.confirmed.commit(outcome)
            keys |= {(c.entity, c.id) for c in outcome.changes}
        self.pending.clear()
        self._recompute()
        await self._emit(Changed(keys=frozenset(keys), sync=True, notices=(Notice("Saved"),)))

    async def refuse(self, message: str) -> None:
        """The server rejected the first pending command: rolled back, and
        kept in the failed list until the user dismisses it."""
        cmd = self.pending.pop(0)
        self.failed.append((cmd, message))
        keys = self._keys_of(cmd)
        self._recompute()
        failed = QueuedCommand(cmd.seq, cmd.name, cmd.target, message, cmd.args)
        notice = Notice(message, ok=False, failed=failed)
        await self._emit(Changed(keys=frozenset(keys), sync=True, notices=(notice,)))

    async def set_link(self, link: Link) -> None:
        self.link = link
        await self._emit(Changed(sync=True))

    # ---- internals
    def _keys_of(self, cmd: Command) -> set[Key]:
        if cmd.target is None:
            return set()
        kind = cmd.name.split(".")[0]
        return {(kind, cmd.target)}  # type: ignore[arg-type]

    def _recompute(self) -> None:
        view = MemorySnapshot({e: dict(rows) for e, rows in self.confirmed.tables.items()})
        for cmd in list(self.pending):
            with contextlib.suppress(DomainError):
                view.commit(apply(view, self._actor, cmd, self.now))
        self._view = view

    async def _emit(self, changed: Changed) -> None:
        for listener in list(self.listeners):
            r = listener(changed)
            if inspect.isawaitable(r):
                await r
