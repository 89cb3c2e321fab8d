"""What the user is told about their actions, in words."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from domain.words import label as label  # a command's name for a person, from the words table

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
