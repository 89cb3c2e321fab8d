"""A section of a role's screen: one navigation destination."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import flet as ft

from views.port import Changed, QueuedCommand

Retry = Callable[[QueuedCommand], object]  # opens a form; what it returns is unused


@dataclass
class Section:
    key: str
    title: str
    icon: ft.IconData
    root: ft.Control
    changed: Callable[[Changed], None]
    sync_changed: Callable[[], None] = lambda: None  # a pending mark may have flipped
    short: str | None = None  # a shorter title where room is tight: a phone's bottom bar
    # per command name: reopen a refused change's form, as it was typed
    # (the refusal's snackbar offers "Edit and retry")
    retry: Mapping[str, Retry] = field(default_factory=dict)

    @property
    def bar_label(self) -> str:
        return self.short or self.title
