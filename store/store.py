"""`Store`: one signed-in user's client state, no network.

    store = Store(actor, directory=path)      # or directory=None: memory only
    result = store.dispatch("appointment.accept", appt_id)   # local, instant
    if not result.ok: show(result.message)                    # nothing queued
    store.view.get("appointment", id); store.view.is_pending("appointment", id)
    sub = store.watch(Query("appointment", lambda r: r["status"] == "pending"), on_delta)

The services layer feeds it: `bootstrap(payload)`, `apply_events(events)`,
`acknowledge(seq, response)`, `reject(seq, code, message)`, and sends
`next_command()`. Every change (records, pending marks, the link, messages,
a resync, the outbox's lists) reaches subscribers as one `Changed` per batch
(`publish`; `batch()` merges what one step of the engine does into one).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from domain.commands import Actor, Command, Outcome, Settings, Snapshot
from domain.errors import DomainError
from domain.policy import can_see
from domain.records import ENTITIES, Entity, Record
from domain.times import iso, parse_instant
from domain.words import about, label, refusal
from store.cache import Cache, Key
from store.changed import (
    Changed,
    Link,
    QueuedCommand,
    RecordChange,
    ServerEvent,
    SyncInfo,
    describe,
    of_message,
    of_records,
)
from store.messages import Message
from store.outbox import Entry, Outbox
from store.subscriptions import (
    Callback,
    ChangeListener,
    Query,
    QuerySubscription,
    RecordSubscription,
    Subscribers,
)
from store.view import ApplyFn, OptimisticView, Pending, command_entity

log = logging.getLogger(__name__)

CACHE_FILE = "cache.json"
OUTBOX_FILE = "outbox.jsonl"


def domain_apply(snap: Snapshot, actor: Actor, command: Command, now: datetime,
                 settings: Settings) -> Outcome:
    """`domain.apply`, imported late so the store loads without it."""
    from domain.apply import apply

    return apply(snap, actor, command, now, settings)


class NotSaved(DomainError):
    """The outbox could not write the command down (a full disk): nothing
    was queued and nothing changed."""

    code = "not_saved"
    status = 507


@dataclass(frozen=True)
class Dispatched:
    """The immediate, local result of an action (the views' port calls it
    `Result`)."""

    ok: bool
    seq: int | None = None
    record: Record | None = None  # the target as it looks now (optimistic)
    error: DomainError | None = None
    # when not ok: why, in the business's words, and the stable code (the
    # error's, unless given)
    message: str = field(default="")
    code: str = field(default="")

    def __post_init__(self) -> None:
        if self.error is not None:
            if not self.message:
                object.__setattr__(self, "message", self.error.message)
            if not self.code:
                object.__setattr__(self, "code", self.error.code)


class Store:
    def __init__(self, actor: Actor, *, directory: Path | str | None = None,
                 apply: ApplyFn = domain_apply, settings: Settings | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.actor = actor
        self.clock = clock or (lambda: datetime.now(UTC))
        folder = Path(directory) if directory is not None else None
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
        self.cache = Cache(folder / CACHE_FILE if folder else None)
        try:
            self.outbox = Outbox(folder / OUTBOX_FILE if folder else None)
        except BaseException:
            self.cache.close()
            raise
        try:
            self._open(actor, apply, settings)
        except BaseException:
            # Give both files back: the folder must open again in this
            # process (the web UI's sessions share it) without a restart.
            self.close()
            raise

    def _open(self, actor: Actor, apply: ApplyFn, settings: Settings | None) -> None:
        self.view = OptimisticView(self.cache, actor, apply, settings or Settings())
        self.subscribers = Subscribers(self.view.get, self.view.all)
        self._batch: Changed | None = None  # what `batch()` has gathered so far
        self.messages: list[Message] = []
        self.link = Link.OFFLINE  # the services' listener sets it (`set_link`)
        self.last_event: dict[str, Any] | None = None  # as the server sent it
        if self.cache.corrupt:
            self.tell(Message("problem", "The saved data on this device was damaged; "
                               "downloading it again.", code="cache_corrupt"))
        if self.outbox.problem is not None:
            self.tell(Message("problem", self.outbox.problem.message, code="outbox_corrupt"))
        restored = [(e, _command(e), parse_instant(e.created_at)) for e in self.outbox.pending()]
        self._conflicts(self.view.reset(restored))

    # Reading --------------------------------------------------------------
    @property
    def cursor(self) -> int | None:
        return self.cache.cursor

    @property
    def needs_bootstrap(self) -> bool:
        return self.cache.needs_bootstrap

    def queued(self) -> list[Entry]:
        """Commands still to deliver, in order."""
        return self.outbox.pending()

    def failed(self) -> list[Entry]:
        """Commands the server refused (the user may dismiss them)."""
        return self.outbox.failed()

    def must_wait(self, earlier: int, later: int) -> bool:
        """Must command `later` wait for `earlier`'s answer before it is sent?
        (See OptimisticView.entangled: same record, or one reads what the
        other writes.)"""
        return self.view.entangled(earlier, later)

    def sync_info(self) -> SyncInfo:
        """The link and the outbox's lists, for the indicator and inspector."""
        return SyncInfo(
            link=self.link,
            queued=tuple(QueuedCommand(e.seq, e.name, e.target) for e in self.queued()),
            failed=tuple(_failed(e) for e in self.failed()),
            cursor=self.cursor,
            last_event=describe(self.last_event),
        )

    def next_command(self) -> Entry | None:
        first = self.outbox.first(1)
        return first[0] if first else None

    def head(self, n: int) -> list[Entry]:
        """The first `n` commands still to deliver, in order."""
        return self.outbox.first(n)

    # Local actions --------------------------------------------------------
    def dispatch(self, name: str, target: str | None = None,
                 args: Mapping[str, Any] | None = None,
                 base_version: int | None = None) -> Dispatched:
        """Validate on the current view with `domain.apply`; when it passes,
        enqueue durably and show the effect at once. When it fails nothing is
        queued and the error comes back for the UI to show."""
        args = dict(args or {})
        entity = command_entity(name)
        if base_version is None and name.endswith(".update") and entity and target:
            current = self.view.get(entity, target)
            base_version = int(current["version"]) if current else None
        created_at = iso(self.clock())
        now = parse_instant(created_at)  # replays must see the same instant
        command = Command(name, target, args, base_version, self.outbox.client_id,
                          self.outbox.next_seq)
        try:
            outcome, snap = self.view.attempt(command, now)
        except DomainError as exc:
            return Dispatched(False, error=exc)
        try:
            entry = self.outbox.enqueue(name, target, args, base_version, created_at)
        except OSError as exc:
            log.error("could not queue %s: %s", name, exc)
            return Dispatched(False, error=NotSaved(
                "This change couldn't be saved on this device, so it wasn't made. "
                "The device may be out of storage space: free some and try again."))
        changes = self.view.push(entry, command, now, outcome, snap)
        if changes:
            self.publish(of_records(changes, local=True))
        record = outcome.record
        return Dispatched(True, entry.seq, record)

    def dismiss(self, seq: int) -> bool:
        """Forget a failed command the user has seen (False: `seq` is no
        failed command; nothing happens)."""
        entry = self.outbox.get(seq)
        if entry is None or entry.state != "failed":
            return False
        self.outbox.drop(seq)
        self.publish(Changed(sync=True))
        return True

    # From the server ------------------------------------------------------
    def bootstrap(self, payload: Mapping[str, Any]) -> None:
        """Replace confirmed state with a fresh bootstrap; pending commands
        are replayed on top."""
        old = {e: self.cache.tables.get(e, {}) for e in ENTITIES}
        keys = self.cache.replace_all(payload)
        with self.batch():
            self._rebase({k: old[k[0]].get(k[1]) for k in keys})
            # the events in between will never come: what was built from
            # events (an activity feed) starts over from the records
            self.publish(Changed(sync=True, reset=True))

    def apply_events(self, events: Iterable[Mapping[str, Any]]) -> None:
        """Apply a batch of server events (in seq order) and notify once:
        what they changed and the events themselves (for activity feeds,
        which want what happened, not only what it changed)."""
        before: dict[Key, Record | None] = {}
        applied: list[Mapping[str, Any]] = []
        for event in events:
            applied.append(event)
            key: Key = (event["entity"], str(event["id"]))
            old = self.cache.get(*key)
            if self.cache.apply_event(event) is not None and key not in before:
                before[key] = old
        if not applied:
            return
        self.last_event = dict(applied[-1])
        # built in one piece, not merged in a batch: this runs for every
        # event on every device, and what it allocates is what the garbage
        # collector scans (bench propagation, 1,000 clients a process)
        happened = tuple(ServerEvent.of(e) for e in applied)
        changes, newly = self.view.rebase(before, ())
        changed = (Changed(keys=frozenset(changes), sync=True, changes=changes, events=happened)
                   if changes else Changed(events=happened))
        self._publish_with(changed, newly)

    def acknowledge(self, seq: int, response: Mapping[str, Any]) -> None:
        """The server applied command `seq`: drop it and take the records in
        the response as confirmed (when newer), so the view doesn't flicker
        while the event is on its way."""
        entry = self.outbox.get(seq)
        if entry is None:
            return
        before: dict[Key, Record | None] = {}
        for entity, id, record, version in _confirmed_changes(entry, response):
            key: Key = (entity, id)
            old = self.cache.get(*key)
            if record is not None and not can_see(self.actor, entity, record):
                continue  # not ours to keep (the server filters too)
            if record is not None:
                changed = self.cache.put(entity, record)
            else:
                changed = self.cache.delete(entity, id, version)
            if changed and key not in before:
                before[key] = old
        self.outbox.drop(seq)
        with self.batch():
            self._rebase(before, removed=[seq])
            self.tell(Message("success", f"{label(entry.name)}: saved.", seq=seq), entry.name)

    def reject(self, seq: int, code: str, message: str) -> None:
        """The server refused command `seq`: undo it (replay the rest) and keep
        it in the failed list with the server's words."""
        entry = self.outbox.get(seq)
        if entry is None:
            return
        # named as the user saw it, before it is undone
        subject = about(self.view, entry.name, entry.target, entry.args)
        self.outbox.fail(seq, code, message)  # `entry` now carries the error
        with self.batch():
            self._rebase({}, removed=[seq])
            self.tell(Message("rollback", refusal(entry.name, message, subject), code=code,
                              seq=seq), entry.name, _failed(entry))

    def advance_cursor(self, cursor: int) -> None:
        """The server says nothing for us happened up to `cursor` (polling)."""
        if self.cache.cursor is not None and cursor > self.cache.cursor:
            self.cache.set_cursor(cursor)

    def reset_confirmed(self) -> None:
        """Forget confirmed state (a 410 / resync): the next bootstrap refills it."""
        old = {e: dict(self.cache.tables.get(e, {})) for e in ENTITIES}
        self.cache.clear()
        self._rebase({(e, id): r for e, rows in old.items() for id, r in rows.items()})

    def set_link(self, link: Link) -> None:
        """The connection to the server is up, going or gone (the listener)."""
        if link != self.link:
            self.link = Link(link)
            self.publish(Changed(sync=True))

    # Subscriptions ----------------------------------------------------------
    def listen(self, listener: ChangeListener) -> Callable[[], None]:
        """`listener(changed)` once per batch, whatever changed."""
        return self.subscribers.listen(listener)

    def subscribe(self, entity: Entity, id: str, callback: Callback) -> RecordSubscription:
        return self.subscribers.record(entity, id, callback)

    def watch(self, query: Query, callback: Callback) -> QuerySubscription:
        return self.subscribers.query(query, callback)

    def on_message(self, callback: Callable[[Message], None]) -> Callable[[], None]:
        """Each message for the user, as told (a view of `listen`)."""

        def heard(changed: Changed) -> None:
            for message in changed.messages:
                callback(message)

        return self.listen(heard)

    def on_change(self, callback: Callable[[Mapping[Key, RecordChange]], None]
                  ) -> Callable[[], None]:
        """Every batch's record changes (a view of `listen`, for whole-screen
        consumers and tests)."""

        def heard(changed: Changed) -> None:
            if changed.changes:
                callback(changed.changes)

        return self.listen(heard)

    def publish(self, changed: Changed) -> None:
        """Tell everyone of a change: now, or at the end of the `batch()`
        it is part of."""
        if self._batch is not None:
            self._batch = self._batch.then(changed)
        else:
            self.subscribers.publish(changed)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """What is published inside reaches subscribers as one `Changed`,
        at the end (nested: at the end of the outermost)."""
        if self._batch is not None:
            yield
            return
        self._batch = Changed()
        try:
            yield
        finally:
            gathered, self._batch = self._batch, None
            if gathered:
                self.subscribers.publish(gathered)

    # Lifecycle ----------------------------------------------------------------
    def flush(self) -> bool:
        """Persist the cache if it changed (the outbox is always on disk)."""
        return self.cache.flush()

    def prepare_flush(self) -> Callable[[], bool] | None:
        """`flush` in two steps: call this on the thread that changes the
        store (it copies the tables, ~1 ms per 50k records) and the returned
        writer from a worker thread (it serializes in pieces, leaving the
        GIL to the event loop between them). None: nothing to write."""
        return self.cache.prepare_flush()

    @property
    def dirty(self) -> bool:
        return self.cache.storage.dirty

    def close(self) -> None:
        try:
            self.cache.close()
        finally:
            self.outbox.close()

    # Internals ----------------------------------------------------------------
    def _rebase(self, before: dict[Key, Record | None], removed: Iterable[int] = ()) -> None:
        changes, newly = self.view.rebase(before, removed)
        if changes or newly:
            self._publish_with(of_records(changes) if changes else Changed(), newly)

    def _publish_with(self, changed: Changed, newly: list[Pending]) -> None:
        """Publish `changed` with the conflicts `newly` faces, as one."""
        if not newly:
            self.publish(changed)
            return
        with self.batch():
            self._conflicts(newly)
            self.publish(changed)

    def _conflicts(self, newly: list[Pending]) -> None:
        for p in newly:
            # A command on its way is not worth a warning yet: typically the
            # event of its own effect overtook the answer. The answer decides
            # (a rejection is told as a rollback); see `requeued`.
            if p.entry.state != "sending":
                self._warn(p)

    def _warn(self, p: Pending) -> None:
        if p.conflict is not None and not p.told:
            p.told = True
            self.tell(Message("conflict", f"{label(p.entry.name)} may not go through: "
                               f"{p.conflict.message}", code=p.conflict.code, seq=p.entry.seq))

    def requeued(self, seq: int) -> None:
        """A send got no answer (it stays queued): now warn about a conflict
        that arose while it was on its way."""
        for p in self.view.pending:
            if p.entry.seq == seq:
                self._warn(p)

    def tell(self, message: Message, name: str | None = None,
             failed: QueuedCommand | None = None) -> None:
        """Publish a message for the user (kept in `messages`); `name`: the
        command it is about (a success is worded with its `saved`), `failed`:
        the refused command a rollback is about."""
        log.info("message: %s", message)
        self.messages.append(message)
        del self.messages[:-200]  # keep the last ones only
        self.publish(of_message(message, name, failed))


def _failed(entry: Entry) -> QueuedCommand:
    """A refused command as the sync page lists it."""
    message = (entry.error or {}).get("message") or "refused"
    return QueuedCommand(entry.seq, entry.name, entry.target, message, entry.args)


def _command(entry: Entry) -> Command:
    return Command(entry.name, entry.target, entry.args, entry.base_version, entry.client_id,
                   entry.seq)


def _confirmed_changes(entry: Entry, response: Mapping[str, Any]
                       ) -> list[tuple[Entity, str, Record | None, int | None]]:
    """(entity, id, record or None when deleted, version) for each change a
    command response carries: `changes` when present, else `record`."""
    out: list[tuple[Entity, str, Record | None, int | None]] = []
    changes = response.get("changes")
    if isinstance(changes, list):
        for c in changes:
            if not isinstance(c, dict) or c.get("entity") not in ENTITIES or "id" not in c:
                continue
            data = c.get("data", c.get("record"))
            version = c.get("version")
            if c.get("op") == "delete" or data is None:
                out.append((c["entity"], str(c["id"]), None, version))
            elif isinstance(data, dict):
                out.append((c["entity"], str(c["id"]), data, version))
        if out:
            return out
    record = response.get("record")
    entity = command_entity(entry.name)
    if isinstance(record, dict) and "id" in record and entity is not None:
        out.append((entity, str(record["id"]), record, record.get("version")))
    return out
