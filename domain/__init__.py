"""Pure rules shared by client and server: no I/O, no Flet, no SQL, no clock.

`apply(snapshot, actor, command, now)` is the one lifecycle, run twice.
"""

from domain.apply import COMMANDS, apply, touched_dates
from domain.commands import (
    SYSTEM,
    Actor,
    Change,
    Command,
    MemorySnapshot,
    Outcome,
    Settings,
    Snapshot,
)
from domain.errors import DomainError
from domain.records import ENTITIES, Entity, Record

__all__ = [
    "COMMANDS",
    "ENTITIES",
    "SYSTEM",
    "Actor",
    "Change",
    "Command",
    "DomainError",
    "Entity",
    "MemorySnapshot",
    "Outcome",
    "Record",
    "Settings",
    "Snapshot",
    "apply",
    "touched_dates",
]
