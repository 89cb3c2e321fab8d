"""The command path: one serialized transaction per command.

    check (client_id, seq) → load a snapshot → domain.apply → write records →
    append events (commit-ordered seq) → store the response → commit → publish

Rejections are stored too, so a retry always gets the first answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from domain.apply import apply
from domain.commands import Actor, Command, Outcome
from domain.commands import Settings as DomainSettings
from domain.errors import DomainError
from domain.policy import can_see
from domain.times import iso
from server import repo
from server.database import Database
from server.events import Event, drafts_for
from server.hub import Hub
from server.state import State

log = logging.getLogger("tandem.commands")

Clock = Callable[[], datetime]
Response = tuple[int, dict[str, Any]]


def utcnow() -> datetime:
    return datetime.now(UTC)


def _wire_change(c: Any) -> dict[str, Any]:
    record = c.record
    version = int(record["version"]) if record else int((c.previous or {}).get("version", 0)) + 1
    return {"entity": c.entity, "id": c.id, "op": "delete" if record is None else c.op,
            "version": version, "data": record}


class CommandService:
    def __init__(self, db: Database, hub: Hub, state: State, domain_settings: DomainSettings,
                 clock: Clock = utcnow) -> None:
        self.db = db
        self.hub = hub
        self.state = state
        self.domain_settings = domain_settings
        self.clock = clock
        # Called (name, outcome) after a command is committed; jobs hook in here.
        self.listeners: list[Callable[[Command, Outcome], None]] = []

    async def execute(self, actor: Actor, command: Command, *, log_it: bool = True,
                      now: datetime | None = None) -> Response:
        """Run one command; (HTTP status, wire body). `now` is for the demo seed."""
        async with self.db.write() as tx:
            conn = tx.conn
            if log_it:
                prior = await repo.logged_response(conn, command.client_id, command.seq)
                if prior is not None:
                    user_id, status, body = prior
                    if user_id != actor.id:
                        return 409, {
                            "status": "rejected", "code": "duplicate_command",
                            "message": "This command id was already used by someone else. "
                                       "Please sign in again on this device.",
                        }
                    return status, body
            now = now or self.clock()
            head, _ = await repo.head(conn)
            await self.state.refresh(conn, head)  # a no-op unless another process wrote
            try:
                snap = self.state.snapshot(actor, command)
                # The domain refuses targets the actor may not see as not_found.
                outcome = apply(snap, actor, command, now, self.domain_settings)
            except DomainError as exc:
                body = exc.to_wire()
                if log_it:
                    await repo.log_response(conn, command.client_id, command.seq, actor.id,
                                            exc.status, body, iso(now))
                return exc.status, body
            except (TypeError, ValueError, KeyError, AttributeError, IndexError):
                # The domain should have refused these arguments with InvalidArgs;
                # answer 422 rather than crash, and log it so it gets fixed.
                log.exception("domain.apply failed on %s", command.name)
                return 422, {"status": "rejected", "code": "invalid_args",
                             "message": "Some of the details are not in the expected form."}

            await repo.write_changes(conn, outcome.changes)
            drafts = [d for c in outcome.changes for d in drafts_for(c)]
            events = [d.numbered(head + i + 1, command.name, iso(now))
                      for i, d in enumerate(drafts)]
            await repo.append_events(conn, events)
            cursor = events[-1].seq if events else head
            record = outcome.record
            first = outcome.changes[0] if outcome.changes else None
            body = {
                "status": "applied",
                "record": record if first and record and can_see(actor, first.entity, record)
                else None,
                "changes": [_wire_change(c) for c in outcome.changes
                            if _visible_change(actor, c)],
                "cursor": cursor,
            }
            if log_it:
                await repo.log_response(conn, command.client_id, command.seq, actor.id,
                                        200, body, iso(now))
            tx.after_commit.append(lambda: self._committed(command, outcome, events, cursor))
        return 200, body

    def _committed(self, command: Command, outcome: Outcome, events: list[Event],
                   cursor: int) -> None:
        self.state.commit(outcome.changes, cursor)
        self.hub.publish(events)
        for listener in self.listeners:
            try:
                listener(command, outcome)
            except Exception:  # a listener must never undo a committed command
                log.exception("command listener failed")


def _visible_change(actor: Actor, c: Any) -> bool:
    rec = c.record if c.record is not None else c.previous
    return rec is not None and can_see(actor, c.entity, rec)

