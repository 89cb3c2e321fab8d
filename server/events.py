"""Events: what a change looks like in the log and who receives it.

Each domain Change becomes one event whose audience is `domain.policy.audience`
of the new record. When a change takes people out of a record's audience (a
therapist reassigned, a driver swapped), those people get a `delete` event
for it, so their caches drop what they may no longer see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from domain.commands import Actor, Change
from domain.policy import Audience, audience
from domain.records import Entity, Record


@dataclass(frozen=True)
class Event:
    seq: int
    entity: Entity
    id: str
    op: str  # upsert | delete
    version: int
    data: Record | None
    cause: str
    users: frozenset[str]
    to_operators: bool
    to_everyone: bool
    created_at: str = ""
    _frame: list[str] = field(default_factory=list, compare=False, repr=False)
    _audience: Audience = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        # Built once: every connection's pump asks each event about its user.
        object.__setattr__(self, "_audience",
                           Audience(self.users, self.to_operators, self.to_everyone))

    def wire(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "entity": self.entity,
            "id": self.id,
            "op": self.op,
            "version": self.version,
            "data": self.data,
            "cause": self.cause,
        }

    def frame(self) -> str:
        """The websocket frame, encoded once and shared by every recipient."""
        if not self._frame:
            self._frame.append(orjson.dumps({"type": "event", "event": self.wire()}).decode())
        return self._frame[0]

    def visible_to(self, actor: Actor) -> bool:
        return self._audience.includes(actor)


@dataclass(frozen=True)
class Draft:
    """An event before it has a sequence number."""

    entity: Entity
    id: str
    op: str
    version: int
    data: Record | None
    users: frozenset[str]
    to_operators: bool
    to_everyone: bool

    def numbered(self, seq: int, cause: str, created_at: str) -> Event:
        return Event(seq, self.entity, self.id, self.op, self.version, self.data, cause,
                     self.users, self.to_operators, self.to_everyone, created_at)


def drafts_for(change: Change) -> list[Draft]:
    """The events one change produces (see the module docstring)."""
    before = audience(change.entity, change.previous) if change.previous else None
    if change.op == "delete" or change.record is None:
        version = int((change.previous or {}).get("version", 0)) + 1
        who = before or Audience()
        return [Draft(change.entity, change.id, "delete", version, None,
                      who.users, who.operators, who.everyone)]
    after = audience(change.entity, change.record)
    version = int(change.record.get("version", 0))
    drafts = [Draft(change.entity, change.id, "upsert", version, change.record,
                    after.users, after.operators, after.everyone)]
    if before is not None:
        lost = _lost(before, after)
        if lost:
            drafts.append(Draft(change.entity, change.id, "delete", version, None,
                                lost, False, False))
    return drafts


def _lost(before: Audience, after: Audience) -> frozenset[str]:
    """Named users who could see the record before and can't now (operators
    and 'everyone' audiences don't shrink through ordinary edits)."""
    if after.everyone:
        return frozenset()
    return before.users - after.users
