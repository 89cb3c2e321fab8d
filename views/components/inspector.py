"""The sync page: whether everything is saved, the changes waiting to be
sent and the ones that didn't go through, in people's words ("Accept —
Carlo Bautista, Tomorrow · 09:00–10:00"). A failed change (the server
refused it for good) stays listed with the server's reason until the user
dismisses it. For support, a "Details" switch shows the technical side: the
event cursor, the last event, each command's name and target."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable

import flet as ft

from views.components import style
from views.port import Link, QueuedCommand, SyncInfo

Dismiss = Callable[[int], Awaitable[None]]
Describe = Callable[[QueuedCommand], str]


def _technical(c: QueuedCommand) -> str:
    target = f" {c.target[:8]}" if c.target else ""
    return f"#{c.seq} {c.name}{target}"


def _plain(c: QueuedCommand) -> str:
    return c.name


def changes(n: int) -> str:
    return "1 change" if n == 1 else f"{n} changes"


def standing(info: SyncInfo) -> str:
    """One line: is everything saved, and if not, why and what happens next."""
    waiting = len(info.queued)
    if info.link == Link.ONLINE:
        return f"Online — sending {changes(waiting)}…" if waiting else (
            "Online — everything is saved")
    if info.link == Link.RECONNECTING:
        return "Reconnecting…" + (f" {changes(waiting)} waiting" if waiting else "")
    if waiting:
        return f"Offline — {changes(waiting)} waiting; they go out once you're back online"
    return "Offline — changes you make are kept and sent once you're back online"


class SyncInspector:
    def __init__(
        self, info: SyncInfo, dismiss: Dismiss | None = None, describe: Describe = _plain
    ) -> None:
        self.dismiss = dismiss
        self.describe = describe
        self.dismissing: set[int] = set()  # seqs whose Dismiss was clicked
        self.info = info
        self.details = ft.Switch(label="Details", value=False, on_change=self._toggle)
        self.body = ft.Column(spacing=6)
        self.root = ft.Semantics(
            identifier="sync-inspector",
            container=True,
            content=ft.Column(
                [
                    ft.Row(
                        [ft.Text("Sync", size=20, weight=ft.FontWeight.BOLD), self.details],
                        alignment=ft.MainAxisAlignment.SPACE_BETWEEN,
                    ),
                    self.body,
                ],
                spacing=8,
            ),
        )
        self.show(info, send=False)

    def show(self, info: SyncInfo, send: bool = True) -> None:
        self.info = info
        self.dismissing &= {c.seq for c in info.failed}
        technical = bool(self.details.value)
        rows: list[ft.Control] = [ft.Text(standing(info), weight=ft.FontWeight.W_500)]
        if technical:
            mono = "monospace"
            rows += [
                ft.Text(f"Link: {info.link.value}", font_family=mono, size=12),
                ft.Text(
                    f"Cursor: {info.cursor if info.cursor is not None else '—'}",
                    font_family=mono,
                    size=12,
                ),
                ft.Text(f"Last event: {info.last_event or '—'}", font_family=mono, size=12),
            ]
        rows.append(ft.Text(f"Waiting to send ({len(info.queued)})", weight=ft.FontWeight.BOLD))
        rows += [self._waiting(c, technical) for c in info.queued[:50]]
        rows.append(
            ft.Text(f"Didn't go through ({len(info.failed)})", weight=ft.FontWeight.BOLD)
        )
        rows += [self._failed(c) for c in info.failed[:50]]
        self.body.controls = rows
        if send:
            with contextlib.suppress(RuntimeError):
                self.root.update()

    async def _toggle(self, _: ft.Event[ft.Switch]) -> None:
        self.show(self.info)

    def _waiting(self, c: QueuedCommand, technical: bool) -> ft.Control:
        words = self.describe(c)
        if technical:
            return ft.Column(
                [ft.Text(words), ft.Text(_technical(c), font_family="monospace", size=11)],
                spacing=0,
            )
        return ft.Text(words)

    def _failed(self, c: QueuedCommand) -> ft.Control:
        """One refused command: what it was and why, and a way to let it go."""
        lines: list[ft.Control] = [
            ft.Text(self.describe(c), weight=ft.FontWeight.W_500),
            ft.Text(c.error or "The server refused it.", color=style.BAD),
        ]
        if self.details.value:
            lines.append(ft.Text(_technical(c), font_family="monospace", size=11))
        text = ft.Column(lines, spacing=2, expand=True)
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
