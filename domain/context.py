"""What every command handler gets: the snapshot, the actor, the command,
the time and the settings, plus the lookups they all need."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.commands import Actor, Change, Command, Settings, Snapshot
from domain.errors import InvalidArgs, NotFound
from domain.policy import can_see
from domain.records import Entity, Record

_WORDS: dict[Entity, str] = {
    "appointment": "appointment",
    "availability": "availability slot",
    "staff": "staff member",
    "client": "client",
    "service": "service",
    "notification": "notification",
    "material": "material",
    "stock_move": "stock move",
    "shift": "shift",
}


@dataclass(frozen=True)
class Ctx:
    snap: Snapshot
    actor: Actor
    cmd: Command
    now: datetime
    settings: Settings

    def target(self, entity: Entity) -> Record:
        """The command's target, if it exists and the actor may see it."""
        tid = self.cmd.target
        record = self.snap.get(entity, tid) if isinstance(tid, str) and tid else None
        if record is None or not can_see(self.actor, entity, record):
            raise NotFound(f"That {_WORDS[entity]} doesn't exist or isn't yours.")
        return record

    def new_id(self, entity: Entity) -> str:
        """The client-generated id of a record being created."""
        tid = self.cmd.target
        if not isinstance(tid, str) or not tid.strip() or len(tid) > 64:
            raise InvalidArgs(f"A new {_WORDS[entity]} needs an id (up to 64 characters).")
        if self.snap.get(entity, tid) is not None:
            raise InvalidArgs(f"That {_WORDS[entity]} already exists.", code="already_exists")
        return tid


def upsert(entity: Entity, record: Record, previous: Record | None) -> Change:
    return Change(entity, record["id"], "upsert", record, previous)
