"""A section of a role's screen: one navigation destination."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import flet as ft

from views.port import Changed


@dataclass
class Section:
    key: str
    title: str
    icon: ft.IconData
    root: ft.Control
    changed: Callable[[Changed], None]
    sync_changed: Callable[[], None] = lambda: None  # a pending mark may have flipped
    short: str | None = None  # a shorter title where room is tight: a phone's bottom bar

    @property
    def bar_label(self) -> str:
        return self.short or self.title
