"""A small sync inspector for support: queued and failed commands, the
event cursor, the last event seen. A failed command (the server refused it
for good) stays listed with the server's reason until the user dismisses it."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable

import flet as ft

from views.components import style
from views.port import QueuedCommand, SyncInfo

Dismiss = Callable[[int], Awaitable[None]]


def _cmd(c: QueuedCommand) -> str:
    target = f" {c.target[:8]}" if c.target else ""
    return f"{c.name}{target}" + (f" — {c.error}" if c.error else "")


class SyncInspector:
    def __init__(self, info: SyncInfo, dismiss: Dismiss | None = None) -> None:
        self.dismiss = dismiss
        self.dismissing: set[int] = set()  # seqs whose Dismiss was clicked
        self.body = ft.Column(spacing=6)
        self.root = ft.Semantics(
            identifier="sync-inspector",
            container=True,
            content=ft.Column(
                [ft.Text("Sync", size=20, weight=ft.FontWeight.BOLD), self.body], spacing=8
            ),
        )
        self.show(info, send=False)

    def show(self, info: SyncInfo, send: bool = True) -> None:
        mono = "monospace"
        self.dismissing &= {c.seq for c in info.failed}
        self.body.controls = [
            ft.Text(f"Connection: {info.link.value}"),
            ft.Text(f"Cursor: {info.cursor if info.cursor is not None else '—'}", font_family=mono),
            ft.Text(f"Last event: {info.last_event or '—'}", font_family=mono),
            ft.Text(f"Queued ({len(info.queued)})", weight=ft.FontWeight.BOLD),
            *[ft.Text(_cmd(c), font_family=mono, size=12) for c in info.queued[:50]],
            ft.Text(f"Failed ({len(info.failed)})", weight=ft.FontWeight.BOLD),
            *[self._failed(c) for c in info.failed[:50]],
        ]
        if send:
            with contextlib.suppress(RuntimeError):
                self.root.update()

    def _failed(self, c: QueuedCommand) -> ft.Control:
        """One refused command: what it was and why, and a way to let it go."""
        text = ft.Text(_cmd(c), font_family="monospace", size=12, color=style.BAD, expand=True)
        if self.dismiss is None:
            return text

        async def clicked(_: ft.Event[ft.Button]) -> None:
            if c.seq in self.dismissing or self.dismiss is None:
                return  # one click is enough
            self.dismissing.add(c.seq)
            button.disabled = True
            with contextlib.suppress(RuntimeError):
                button.update()
            await self.dismiss(c.seq)  # the client then tells us (Changed(sync=True))

        button = ft.FilledTonalButton(
            "Dismiss",
            on_click=clicked,
            disabled=c.seq in self.dismissing,
            height=style.BUTTON_HEIGHT,
            tooltip="Remove this failed change from the list",
        )
        return ft.Semantics(
            identifier=f"failed-{c.seq}",
            container=True,
            content=ft.Row(
                [text, button], spacing=8, vertical_alignment=ft.CrossAxisAlignment.CENTER
            ),
        )
