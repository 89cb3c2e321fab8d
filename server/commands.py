"""The command path, with group commit.

Requests queue their commands; one writer task takes whatever is queued (up
to `max_batch`) and runs it in ONE serialized transaction:

    check every (client_id, seq) → for each command in order: snapshot from
    the in-memory state plus the batch's earlier changes → domain.apply →
    collect changes, events (consecutive seq) and the response → write the
    records, events, head and command log → commit → update the state,
    publish to the hub, answer each request.

Every command is still all-or-nothing and sees every command before it, and
rejections are stored too, so a retry always gets the first answer. Batching
only shares the transaction's fixed cost (BEGIN/COMMIT, the head row) among
commands that arrived together. If a batch fails in the database, each of
its commands is retried alone, so one bad command can't sink the others.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import OperationalError

from domain.apply import apply
from domain.commands import Actor, Change, Command, MemorySnapshot, Outcome
from domain.commands import Settings as DomainSettings
from domain.errors import DomainError, NotFound
from domain.policy import can_see
from domain.records import Entity, Record
from domain.times import iso
from server import credentials, repo
from server.credentials import Credentials, Prepared
from server.database import Database
from server.errors import BUSY_MESSAGE, SERVER_ERROR_MESSAGE
from server.events import Event, drafts_for, view_for
from server.hub import Hub
from server.state import State, target_entity
from server.tasks import cancel_and_wait

log = logging.getLogger("tandem.commands")

Clock = Callable[[], datetime]
Response = tuple[int, dict[str, Any]]

DUPLICATE = {
    "status": "rejected", "code": "duplicate_command",
    "message": "This command id was already used by someone else. "
               "Please sign in again on this device.",
}
MALFORMED = {"status": "rejected", "code": "invalid_args",
             "message": "Some of the details are not in the expected form."}
# An unexpected exception: not applied, try again (the traceback is logged).
SERVER_ERROR: Response = (500, {"status": "rejected", "code": "server_error",
                                "message": SERVER_ERROR_MESSAGE})
# A batch's command after one that failed that way: not run, so the caller's
# order holds when it sends them again (a later change to the same record
# must not land before the earlier one).
NOT_ATTEMPTED: Response = (503, {
    "status": "rejected", "code": "not_attempted",
    "message": "Not attempted: an earlier change sent with it didn't go through. "
               "Please send both again."})


def utcnow() -> datetime:
    return datetime.now(UTC)


def _wire_change(actor: Actor, c: Change) -> dict[str, Any]:
    record = c.record
    version = int(record["version"]) if record else int((c.previous or {}).get("version", 0)) + 1
    return {"entity": c.entity, "id": c.id, "op": "delete" if record is None else c.op,
            "version": version,
            "data": None if record is None else view_for(actor, c.entity, record)}


def _not_yours(cmd: Command) -> Response:
    """A refusal about a record you may not see, or that doesn't exist, says
    just that: 404, one answer for both; a 403 for a record you may not see
    would confirm its id (the audience rule, domain.policy)."""
    entity = target_entity(cmd) or "record"
    return 404, NotFound(f"That {entity} doesn't exist or isn't yours.").to_wire()


def _visible_change(actor: Actor, c: Change) -> bool:
    rec = c.record if c.record is not None else c.previous
    return rec is not None and can_see(actor, c.entity, rec)


@dataclass
class _Request:
    """The commands of one batch request: once one of them fails for a
    reason other than the domain's (500/503), the rest are not attempted."""

    broken: bool = False


@dataclass
class _Job:
    actor: Actor
    command: Command
    log_it: bool
    now: datetime | None
    done: asyncio.Future[Response]
    request: _Request | None = None
    prepared: Prepared | None = None  # staff and account commands (server.credentials)

    def fail(self, exc: BaseException) -> None:
        if self.request is not None:
            self.request.broken = True
        if not self.done.done():
            self.done.set_exception(exc)


@dataclass
class _Batch:
    """What one transaction accumulates."""

    head: int
    now: datetime  # one clock reading per transaction (stamps have second precision)
    stamp: str  # iso(now)
    changes: list[Change] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    logged: list[dict[str, Any]] = field(default_factory=list)
    answers: list[tuple[_Job, Response, Outcome | None]] = field(default_factory=list)
    # (client_id, seq) → (user, response) for commands answered in this batch
    seen: dict[tuple[str, int], tuple[str, Response]] = field(default_factory=dict)
    # the users table's statements of staff and account commands, and whose
    # standing they changed (server.credentials)
    statements: list[Any] = field(default_factory=list)
    accounts: list[str] = field(default_factory=list)
    # The net effect of `changes` (the last write per record), which every
    # later command of the batch sees: records written, records deleted.
    puts: dict[Entity, dict[str, Record]] = field(default_factory=dict)
    gone: dict[Entity, set[str]] = field(default_factory=dict)

    def saw(self, changes: Sequence[Change]) -> None:
        self.changes.extend(changes)
        for c in changes:
            if c.op == "delete" or c.record is None:
                self.puts.get(c.entity, {}).pop(c.id, None)
                self.gone.setdefault(c.entity, set()).add(c.id)
            else:
                id = c.record["id"]
                self.puts.setdefault(c.entity, {})[id] = c.record
                if c.entity in self.gone:
                    self.gone[c.entity].discard(id)


class CommandService:
    def __init__(self, db: Database, hub: Hub, state: State, domain_settings: DomainSettings,
                 clock: Clock = utcnow, max_batch: int = 256,
                 credentials: Credentials | None = None) -> None:
        self.db = db
        self.credentials = credentials
        # Called with the ids whose account standing a committed command changed.
        self.on_accounts: Callable[[list[str]], None] | None = None
        self.hub = hub
        self.state = state
        self.domain_settings = domain_settings
        self.clock = clock
        self.max_batch = max_batch
        # Called (command, outcome) after a command is committed; jobs hook in here.
        self.listeners: list[Callable[[Command, Outcome], None]] = []
        self._queue: asyncio.Queue[_Job] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None

    async def execute(self, actor: Actor, command: Command, *, log_it: bool = True,
                      now: datetime | None = None, session_key: str | None = None) -> Response:
        """Run one command; (HTTP status, wire body). `now` is for the demo seed;
        `session_key` names the asking session (server.auth.token_key)."""
        job = _Job(actor, command, log_it, now, asyncio.get_running_loop().create_future(),
                   prepared=await self._prepare(actor, command, session_key))
        self._enqueue([job])
        try:
            # Shielded: a client that hangs up doesn't cancel a command mid-commit.
            return await asyncio.shield(job.done)
        except OperationalError:
            raise  # 503 with Retry-After (server.errors)
        except Exception as exc:  # logged by the writer; not applied
            return _failed(exc)

    async def _prepare(self, actor: Actor, command: Command,
                       session_key: str | None) -> Prepared | None:
        if self.credentials is None or command.name not in credentials.COMMANDS:
            return None
        return await self.credentials.prepare(actor.id, command, session_key)

    async def execute_many(self, actor: Actor, commands: list[Command], *,
                           session_key: str | None = None) -> list[Response]:
        """Run several commands of one caller, in order (POST /api/commands/batch).

        Their jobs enter the queue together, so the writer takes them in this
        order, usually into one transaction (`max_batch` permitting). Each is
        still its own command: exactly once by (client_id, seq), all-or-nothing
        alone, answered alone; a rejected one doesn't stop those after it, but
        one that fails (500/503: "try again") does: they answer NOT_ATTEMPTED."""
        if not commands:
            return []
        loop = asyncio.get_running_loop()
        request = _Request()
        prepared = [await self._prepare(actor, c, session_key) for c in commands]
        jobs = [_Job(actor, c, True, None, loop.create_future(), request, p)
                for c, p in zip(commands, prepared, strict=True)]
        self._enqueue(jobs)
        # Shielded like `execute`: a client that hangs up doesn't cancel them.
        done = await asyncio.shield(asyncio.gather(*(j.done for j in jobs),
                                                   return_exceptions=True))
        out: list[Response] = []
        for result in done:
            if isinstance(result, _NotAttempted):
                out.append(NOT_ATTEMPTED)
            elif isinstance(result, BaseException):
                out.append(_failed(result))
            else:
                out.append(result)
        return out

    def _enqueue(self, jobs: list[_Job]) -> None:
        """Queue `jobs` for the writer (started if need be), back to back: no
        await in between, so they are contiguous in the queue."""
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_loop(), name="command-writer")
        for job in jobs:
            self._queue.put_nowait(job)

    async def close(self) -> None:
        if self._writer is not None:
            await cancel_and_wait([self._writer])
            self._writer = None

    async def _write_loop(self) -> None:
        while True:
            jobs = [await self._queue.get()]
            while len(jobs) < self.max_batch and not self._queue.empty():
                jobs.append(self._queue.get_nowait())
            try:
                await self._run(jobs)
            except Exception as exc:
                if len(jobs) == 1:
                    log.exception("command %s failed", jobs[0].command.name)
                    jobs[0].fail(exc)
                    continue
                for job in jobs:  # isolate the culprit
                    if job.request is not None and job.request.broken:
                        job.fail(_NotAttempted())
                        continue
                    try:
                        await self._run([job])
                    except Exception as one:
                        log.exception("command %s failed", job.command.name)
                        job.fail(one)

    async def _run(self, jobs: list[_Job]) -> None:
        keys = [(j.command.client_id, j.command.seq) for j in jobs if j.log_it]
        async with self.db.write() as tx:
            head, prior = await tx.prepare(keys)
            await self.state.refresh(tx.conn, head)  # a no-op unless another process wrote
            now = self.clock()
            batch = _Batch(head=head, now=now, stamp=iso(now))
            for job in jobs:
                self._one(job, batch, prior)
            await tx.save(_final(batch.changes, self.state), batch.events, batch.logged)
            for statement in batch.statements:
                await tx.conn.execute(statement)
            tx.after_commit.append(lambda: self._committed(batch))

    def _one(self, job: _Job, batch: _Batch, prior: repo.Prior) -> None:
        cmd, actor = job.command, job.actor
        key = (cmd.client_id, cmd.seq)
        if job.request is not None and job.request.broken:
            batch.answers.append((job, NOT_ATTEMPTED, None))
            return
        if job.log_it:
            stored = prior.get(key)
            earlier = batch.seen.get(key) or (
                (stored[0], (stored[1], stored[2])) if stored else None)
            if earlier is not None:
                user, response = earlier
                batch.answers.append((job, response if user == actor.id else (409, DUPLICATE),
                                      None))
                return
        now, stamp = (job.now, iso(job.now)) if job.now else (batch.now, batch.stamp)
        outcome: Outcome | None = None
        try:
            snap = self._snapshot(actor, cmd, batch)
            outcome = apply(snap, actor, cmd, now, self.domain_settings)
            account = (credentials.effects(cmd, actor.id, outcome, job.prepared, stamp)
                       if cmd.name in credentials.COMMANDS else None)
            response = self._applied(actor, cmd, outcome, batch, stamp)
            if account is not None:
                response[1].update(account.answer)
                batch.statements.extend(account.statements)
                batch.accounts.extend(account.accounts)
        except DomainError as exc:
            response = (exc.status, exc.to_wire())
            if exc.status == 403 and self._hidden(actor, cmd, batch):
                response = _not_yours(cmd)
        except (TypeError, ValueError, KeyError, AttributeError, IndexError):
            # The domain should have refused these arguments with InvalidArgs;
            # answer 422 rather than crash, log it so it gets fixed, don't store it.
            log.exception("domain.apply failed on %s", cmd.name)
            batch.answers.append((job, (422, MALFORMED), None))
            return
        except Exception:
            # Anything else is a bug: this command changes nothing and gets a
            # 500 server_error (not stored: a retry runs it again); the rest of
            # the batch goes on.
            log.exception("command %s failed unexpectedly", cmd.name)
            if job.request is not None:
                job.request.broken = True
            batch.answers.append((job, SERVER_ERROR, None))
            return
        if job.log_it:
            kept = (response[0], credentials.stored(response[1]))  # no secrets kept
            batch.seen[key] = (actor.id, kept)
            batch.logged.append({
                "client_id": cmd.client_id, "seq": cmd.seq, "user_id": actor.id,
                "status_code": kept[0], "response": kept[1], "created_at": stamp,
            })
        batch.answers.append((job, response, outcome if response[0] == 200 else None))

    def _hidden(self, actor: Actor, cmd: Command, batch: _Batch) -> bool:
        """The command's target is not there for `actor`: it doesn't exist, or
        they may not see it (a `.create` names a new record: not that)."""
        entity = target_entity(cmd)
        if entity is None or not isinstance(cmd.target, str) or cmd.name.endswith(".create"):
            return False
        record = batch.puts.get(entity, {}).get(cmd.target)
        if record is None and cmd.target not in batch.gone.get(entity, ()):
            record = self.state.tables[entity].get(cmd.target)
        return record is None or not can_see(actor, entity, record)

    def _snapshot(self, actor: Actor, cmd: Command, batch: _Batch) -> MemorySnapshot:
        """The domain snapshot for `cmd`: the state plus what earlier commands
        of this batch did."""
        snap = self.state.snapshot(actor, cmd)
        tables = snap.tables
        for entity, rows in batch.puts.items():  # (one dict update per entity, not
            tables.setdefault(entity, {}).update(rows)  # a put per earlier change)
        for entity, ids in batch.gone.items():
            table = tables.get(entity)
            if table:
                for id in ids:
                    table.pop(id, None)
        return snap

    def _applied(self, actor: Actor, cmd: Command, outcome: Outcome, batch: _Batch,
                 stamp: str) -> Response:
        # Everything that could fail comes before the batch is touched: a
        # command that raises here leaves no trace in the transaction.
        drafts = [d for c in outcome.changes for d in drafts_for(c)]
        first_seq = batch.head + len(batch.events) + 1
        events = [d.numbered(first_seq + i, cmd.name, stamp) for i, d in enumerate(drafts)]
        record = outcome.record
        first = outcome.changes[0] if outcome.changes else None
        response: Response = (200, {
            "status": "applied",
            "record": view_for(actor, first.entity, record)
            if first and record and can_see(actor, first.entity, record) else None,
            "changes": [_wire_change(actor, c) for c in outcome.changes
                        if _visible_change(actor, c)],
            "cursor": batch.head + len(batch.events) + len(events),
        })
        if outcome.warnings:
            response[1]["warnings"] = list(outcome.warnings)
        batch.saw(outcome.changes)
        batch.events.extend(events)
        return response

    def _committed(self, batch: _Batch) -> None:
        self.state.commit(batch.changes, batch.head + len(batch.events))
        # Answers first: their handlers are scheduled ahead of the sockets'
        # pumps, so a reply isn't stuck behind a fan-out to thousands. (This
        # all runs without an await: the hub has the events before any reply
        # goes out.)
        for job, response, _ in batch.answers:
            if not job.done.done():
                job.done.set_result(response)
        self.hub.publish(batch.events)
        if batch.accounts and self.on_accounts is not None:
            try:
                self.on_accounts(batch.accounts)
            except Exception:
                log.exception("account recheck failed")
        for job, _, outcome in batch.answers:
            if outcome is not None:
                for listener in self.listeners:
                    try:
                        listener(job.command, outcome)
                    except Exception:  # a listener must never undo a committed command
                        log.exception("command listener failed")


class _NotAttempted(Exception):
    """A batch job skipped after an earlier one of its request failed."""


def _failed(exc: BaseException) -> Response:
    """The answer for a command of a batch whose transaction failed: what a
    single command would have got (503 for the database, else 500); both
    mean "not applied, retry"."""
    if isinstance(exc, OperationalError):
        return 503, {"status": "rejected", "code": "unavailable", "message": BUSY_MESSAGE}
    return SERVER_ERROR


def _final(changes: list[Change], state: State) -> list[tuple[str, Entity, str, Record | None]]:
    """Collapse a batch's changes to one write per record: (insert | update |
    delete, entity, id, record), judged against the state before the batch."""
    last: dict[tuple[Entity, str], Record | None] = {}
    for c in changes:
        last[(c.entity, c.id)] = None if c.op == "delete" else c.record
    out: list[tuple[str, Entity, str, Record | None]] = []
    for (entity, id), record in last.items():
        existed = state.get(entity, id) is not None
        if record is None:
            if existed:
                out.append(("delete", entity, id, None))
        else:
            out.append(("update" if existed else "insert", entity, id, record))
    return out
