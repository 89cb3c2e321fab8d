"""A small sync inspector for support: queued and failed commands, the
event cursor, the last event seen."""

from __future__ import annotations

import contextlib

import flet as ft

from views.components import style
from views.port import QueuedCommand, SyncInfo


def _cmd(c: QueuedCommand) -> str:
    target = f" {c.target[:8]}" if c.target else ""
    return f"{c.name}{target}" + (f" — {c.error}" if c.error else "")


class SyncInspector:
    def __init__(self, info: SyncInfo) -> None:
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
        self.body.controls = [
            ft.Text(f"Connection: {info.link.value}"),
            ft.Text(f"Cursor: {info.cursor if info.cursor is not None else '—'}", font_family=mono),
            ft.Text(f"Last event: {info.last_event or '—'}", font_family=mono),
            ft.Text(f"Queued ({len(info.queued)})", weight=ft.FontWeight.BOLD),
            *[ft.Text(_cmd(c), font_family=mono, size=12) for c in info.queued[:50]],
            ft.Text(f"Failed ({len(info.failed)})", weight=ft.FontWeight.BOLD),
            *[
                ft.Text(_cmd(c), font_family=mono, size=12, color=style.BAD)
                for c in info.failed[:50]
            ],
        ]
        if send:
            with contextlib.suppress(RuntimeError):
                self.root.update()
