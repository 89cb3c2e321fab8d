"""Events: what a change looks like in the log and who receives it.

Each domain Change becomes one event whose audience is `domain.policy.audience`
of the new record. When a change takes people out of a record's audience (a
therapist reassigned, a driver swapped), those people get a `delete` event
for it, so their caches drop what they may no longer see.

Not everyone in an audience sees the whole record (`view_for`): an
appointment's rejection — who rejected it, when, why, and the `rejected_at/_by`
stamps — is the operators' and the rejecter's only (others keep how it was
settled: `rejection.decision`); a therapist reassigned in
the rejecter's place (or anyone else on it) gets a copy without it. The log
keeps the whole record; every way out applies `view_for`: bootstrap, command
answers, GET /api/events and the timeline (`Event.seen_by`), and the
websocket (`Event.frame_for`: a second frame, built once, for such events).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
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
    # False: everyone in the audience sees the whole record; else who (besides
    # operators) may see its rejection, and the frame of the copy for the rest.
    _hides: str | None | bool = field(init=False, compare=False, repr=False)
    _copy_frame: list[str] = field(default_factory=list, compare=False, repr=False)

    def __post_init__(self) -> None:
        # Built once: every connection's pump asks each event about its user.
        object.__setattr__(self, "_audience",
                           Audience(self.users, self.to_operators, self.to_everyone))
        object.__setattr__(self, "_hides", False if self.data is None
                           else _rejecter(self.entity, self.data))

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

    def _whole_for(self, actor: Actor) -> bool:
        return (self._hides is False or actor.role in ("operator", "system")
                or actor.id == self._hides)

    def seen_by(self, actor: Actor) -> Event:
        """This event as `actor` gets it (`view_for` of its record)."""
        if self._whole_for(actor) or self.data is None:
            return self
        return replace(self, data=view_for(actor, self.entity, self.data), _frame=[],
                       _copy_frame=[])

    def frame_for(self, actor: Actor) -> str:
        """`frame()`, or for someone who gets a copy, the copy's frame (built once)."""
        if self._whole_for(actor):
            return self.frame()
        if not self._copy_frame:
            self._copy_frame.append(self.seen_by(actor).frame())
        return self._copy_frame[0]


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


_REJECTION_FIELDS = ("rejection", "rejected_at", "rejected_by")
# What a copy keeps of a rejection: that there was one and how it was settled
# (the timeline's "reassigned it to …"), not who rejected it, when or why.
_REJECTION_KEPT = ("role", "previous_status", "decision", "decided_at", "decided_by")


def _rejecter(entity: Entity, record: Record) -> str | None | bool:
    """Who may see the record's rejection besides the operators (None: nobody
    named); False when it carries none."""
    if entity != "appointment" or not any(record.get(f) for f in _REJECTION_FIELDS):
        return False
    by = (record.get("rejection") or {}).get("by") or record.get("rejected_by")
    return by if isinstance(by, str) else None


def view_for(actor: Actor, entity: Entity, record: Record) -> Record:
    """The copy of `record` that `actor` (who may see it) gets."""
    if actor.role in ("operator", "system"):
        return record
    rejecter = _rejecter(entity, record)
    if rejecter is False or rejecter == actor.id:
        return record
    copy = {k: v for k, v in record.items() if k not in _REJECTION_FIELDS}
    if isinstance(record.get("rejection"), dict):
        copy["rejection"] = {k: v for k, v in record["rejection"].items()
                             if k in _REJECTION_KEPT}
    return copy


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
