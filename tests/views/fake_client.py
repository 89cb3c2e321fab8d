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

from domain import receipts, reports
from domain.apply import apply
from domain.commands import Actor, Command, MemorySnapshot
from domain.errors import DomainError
from domain.policy import can_see
from domain.records import Entity, Record
from store.view import command_entity
from views.port import (
    AccountAnswer,
    Changed,
    ChangeListener,
    Key,
    Link,
    Notice,
    QueuedCommand,
    Result,
    ServerEvent,
    ServerRefused,
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
        # False: a dispatch tells the listeners nothing, as the embedded app's
        # tabs hear their own change only with the server's answer
        # (services/with_answer.py); `ack` tells them then
        self.tells_its_dispatch = True
        self.stopped = False
        self._view = self.confirmed
        # the server's side of GET /api/appointments/{id}/timeline
        self.timelines: dict[str, list[TimelineEntry]] = {}
        self.timeline_error: str | None = None
        self.timeline_gate: asyncio.Event | None = None
        # the server's side of the account commands (`account`)
        self.password = "demo1234"
        self.one_time = "Kq7mZp3xRt9w"
        self.accounts: list[Command] = []
        # the server's side of /api/appointments/{id}/receipts: (appointment, id) -> bytes
        self.receipts: dict[tuple[str, str], bytes] = {}
        self.receipt_limit = 64 * 1024
        self.offline_asks = False  # receipts and reports answer "offline"
        self.csv_asked: list[tuple[str, str | None, str | None]] = []

    def _ask(self, appointment_id: str | None = None) -> None:
        """As the server's receipt and report routes refuse."""
        if self.offline_asks:
            raise ServerRefused("Can't reach the server right now.", "offline")
        if appointment_id is not None:
            appt = self.confirmed.get("appointment", appointment_id)
            if appt is None or not can_see(self._actor, "appointment", appt):
                raise ServerRefused("That appointment doesn't exist or isn't yours.",
                                    "not_found")

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
        if self.tells_its_dispatch:
            await self._emit(Changed(keys=keys, sync=True))
        return Result(ok=True, record=outcome.record)

    async def account(self, name: str, target: str | None, args: dict[str, Any]) -> AccountAnswer:
        """Like the server: straight through (never pending), the domain's
        rules, then the account's part: the current password must be
        `password`; staff.create and reset_password hand out `one_time`."""
        self.seq += 1
        cmd = Command(name, target, dict(args), None, client_id="fake-account", seq=self.seq)
        try:
            outcome = apply(self.confirmed, self._actor, cmd, self.now)
        except DomainError as e:
            return AccountAnswer(ok=False, message=e.message, code=e.code)
        if self.link != Link.ONLINE:
            return AccountAnswer(ok=False, code="offline", message="Can't reach the server.")
        if name == "account.change_password":
            if args.get("current_password") != self.password:
                return AccountAnswer(ok=False, code="wrong_password",
                              message="Your current password isn't right. Please try again.")
            self.password = str(args["new_password"])
            self._user = {**self._user, "must_change_password": False}
        self.accounts.append(cmd)
        self.confirmed.commit(outcome)
        self._recompute()
        keys = frozenset((c.entity, c.id) for c in outcome.changes)
        await self._emit(Changed(keys=keys))
        secret = self.one_time if name in ("staff.create", "staff.reset_password") else None
        return AccountAnswer(ok=True, record=outcome.record, one_time_password=secret)

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

    async def upload_receipt(self, appointment_id: str, data: bytes) -> str:
        self._ask(appointment_id)
        try:
            receipts.accepted(data, self.receipt_limit)
        except receipts.ReceiptRefused as exc:
            raise ServerRefused(exc.message, exc.code) from exc
        rid = receipts.receipt_id(data)
        self.receipts[(appointment_id, rid)] = data
        return rid

    async def receipt(self, appointment_id: str, receipt_id: str) -> bytes:
        self._ask(appointment_id)
        data = self.receipts.get((appointment_id, receipt_id))
        if data is None:
            raise ServerRefused("That receipt isn't attached to this appointment.",
                                "not_found")
        return data

    async def sales_csv(self, by: str, start: str | None, end: str | None) -> bytes:
        self._ask()
        self.csv_asked.append((by, start, end))
        found = reports.sales(self.confirmed.all("appointment"), start, end)
        rows = reports.report(by, found, self.confirmed.all("staff"),  # type: ignore[arg-type]
                              self.confirmed.all("service"))
        return reports.to_csv(by, rows, reports.totals(found)).encode()  # type: ignore[arg-type]

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
        kind = command_entity(cmd.name)  # as the store marks it ("attendance." -> shift)
        return {(kind, cmd.target)} if kind is not None else set()

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
