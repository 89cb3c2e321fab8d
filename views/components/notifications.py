"""The notifications panel: newest first, unread marked; tap to mark read."""

from __future__ import annotations

import contextlib

import flet as ft

from domain.records import Record
from views.components import style
from views.components.feedback import snack
from views.port import ClientPort, Key


class NotificationsPanel:
    def __init__(self, page: ft.Page, client: ClientPort) -> None:
        self.page = page
        self.client = client
        self.list = ft.Column(spacing=4)
        self.root = ft.Semantics(
            identifier="notifications",
            container=True,
            content=ft.Column(
                [
                    ft.Row(
                        [
                            ft.Text(
                                "Notifications", size=20, weight=ft.FontWeight.BOLD, expand=True
                            ),
                            ft.TextButton("Mark all read", on_click=self._all_read),
                        ]
                    ),
                    self.list,
                ],
                spacing=8,
            ),
        )
        self._render()

    def mine(self) -> list[Record]:
        uid = self.client.actor.id
        rows = [n for n in self.client.view().all("notification") if n.get("user_id") == uid]
        return sorted(rows, key=lambda n: str(n.get("created_at") or ""), reverse=True)

    def unread(self) -> int:
        return sum(1 for n in self.mine() if not n.get("read"))

    def _render(self) -> None:
        rows = [self._tile(n) for n in self.mine()[:100]]
        self.list.controls = rows or [
            ft.Text("You're all caught up.", italic=True, color=style.MUTED)
        ]

    def changed(self, keys: frozenset[Key]) -> bool:
        """Re-render when a notification changed; True if it did."""
        if not any(entity == "notification" for entity, _ in keys):
            return False
        self._render()
        with contextlib.suppress(RuntimeError):
            self.root.update()
        return True

    def _tile(self, n: Record) -> ft.Control:
        unread = not n.get("read")

        async def read(_: ft.Event[ft.ListTile]) -> None:
            if unread:
                await self._send("notification.mark_read", n["id"])

        return ft.ListTile(
            leading=ft.Icon(
                ft.Icons.CIRCLE if unread else ft.Icons.CIRCLE_OUTLINED,
                size=12,
                color=ft.Colors.PRIMARY if unread else style.MUTED,
            ),
            title=ft.Text(str(n.get("text") or ""), weight=ft.FontWeight.BOLD if unread else None),
            subtitle=ft.Text(str(n.get("created_at") or "")[:16].replace("T", " "), size=12),
            on_click=read,
        )

    async def _all_read(self, _: ft.Event[ft.TextButton]) -> None:
        await self._send("notification.mark_all_read", None)

    async def _send(self, name: str, target: str | None) -> None:
        result = await self.client.dispatch(name, target, {})
        if not result.ok:
            snack(self.page, result.message, ok=False)
        self._render()
        self.root.update()
