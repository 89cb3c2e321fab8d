"""What the user is told about their actions, in words."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["success", "rollback", "conflict", "problem"]


@dataclass(frozen=True)
class Message:
    """`success`: the server applied it. `rollback`: the server refused it and
    it was undone (`text` carries the server's own words). `conflict`: a
    change that arrived meanwhile makes a waiting action look impossible; the
    server will decide. `problem`: local trouble (a damaged file)."""

    kind: Kind
    text: str
    code: str | None = None
    seq: int | None = None


def label(name: str) -> str:
    """'appointment.request_pickup' -> 'Request pickup (appointment)'."""
    entity, _, action = name.partition(".")
    words = action.replace("_", " ") or entity
    return f"{words[:1].upper()}{words[1:]} ({entity.rstrip('s')})"
