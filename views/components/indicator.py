"""The connection indicator: online / reconnecting / offline, and how many
changes are waiting to reach the server."""

from __future__ import annotations

import contextlib

import flet as ft

from views.components import style
from views.port import Link, SyncInfo

_LOOK: dict[Link, tuple[ft.IconData, str, str]] = {
    Link.ONLINE: (ft.Icons.CLOUD_DONE, style.OK, "Online"),
    Link.RECONNECTING: (ft.Icons.CLOUD_SYNC, style.WARN, "Reconnecting…"),
    Link.OFFLINE: (ft.Icons.CLOUD_OFF, style.BAD, "Offline"),
}


def indicator_text(info: SyncInfo) -> str:
    _, _, word = _LOOK[info.link]
    waiting = len(info.queued)
    if waiting:
        noun = "change" if waiting == 1 else "changes"
        return f"{word} — {waiting} {noun} waiting"
    return word


class ConnectionIndicator:
    def __init__(self, info: SyncInfo) -> None:
        self.icon = ft.Icon(ft.Icons.CLOUD_DONE, size=18)
        self.text = ft.Text(size=13, weight=ft.FontWeight.W_500)
        self.root = ft.Semantics(
            identifier="connection",
            live_region=True,
            content=ft.Container(
                ft.Row([self.icon, self.text], spacing=6, tight=True),
                padding=ft.Padding.symmetric(horizontal=10, vertical=6),
                border_radius=16,
                bgcolor=ft.Colors.SURFACE_CONTAINER_HIGHEST,
            ),
        )
        self.show(info, send=False)

    def fit(self, phone: bool) -> None:
        """On a phone the indicator takes what the top bar has left and cuts
        its words short rather than push the bar past 360 px ("Reconnecting…
        — 12 changes waiting" is wider than what is left there otherwise).
        Only in a bar that gives it a bounded width: elsewhere a flexible
        child of an unbounded row is an error in Flutter."""
        self.root.expand_loose = phone
        self.text.expand_loose = phone
        self.text.max_lines = 1 if phone else None
        self.text.overflow = ft.TextOverflow.ELLIPSIS if phone else ft.TextOverflow.CLIP

    def show(self, info: SyncInfo, send: bool = True) -> None:
        icon, color, _ = _LOOK[info.link]
        label = indicator_text(info)
        if send and label == self.text.value and icon == self.icon.icon:
            return  # most changes leave it as it is: no update to send
        self.icon.icon = icon
        self.icon.color = color
        self.text.value = label
        self.root.label = f"Connection: {label}"
        if send:
            with contextlib.suppress(RuntimeError):
                self.root.update()
