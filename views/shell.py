"""The app shell every role shares: navigation that fits the device (bottom
bar on a phone, rail on a tablet, sidebar on a wide screen), the connection
indicator, snackbars, the notifications panel and the sync inspector.

The shell subscribes to the client once and hands each change to the
sections, which refresh only what it touched."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable

import flet as ft

from views.components import style
from views.components.feedback import snack
from views.components.indicator import ConnectionIndicator
from views.components.inspector import SyncInspector
from views.components.notifications import NotificationsPanel
from views.components.section import Section
from views.port import Changed, ClientPort

Logout = Callable[[], Awaitable[None]]


class Shell:
    def __init__(
        self, page: ft.Page, client: ClientPort, sections: list[Section], on_logout: Logout
    ) -> None:
        self.page = page
        self.client = client
        self.on_logout = on_logout
        self.indicator = ConnectionIndicator(client.sync_info())
        self.notifications = NotificationsPanel(page, client)
        self.inspector = SyncInspector(client.sync_info())
        self.sections = [
            *sections,
            Section(
                "notifications",
                "Notifications",
                ft.Icons.NOTIFICATIONS_OUTLINED,
                self.notifications.root,
                lambda ch: None,
            ),
            Section("sync", "Sync", ft.Icons.SYNC, self.inspector.root, lambda ch: None),
        ]
        self.selected = 0
        self.bodies: list[ft.Control] = [
            ft.Container(
                ft.Column([s.root], scroll=ft.ScrollMode.AUTO, expand=True),
                visible=i == 0,
                expand=True,
                padding=16,
            )
            for i, s in enumerate(self.sections)
        ]
        self.layout = ""
        self.nav: ft.NavigationBar | ft.NavigationRail | None = None
        self.unsubscribe = client.subscribe(self._listener)

    # ---- mounting and layout
    def mount(self) -> None:
        self.layout = style.layout_for(self.page.width)
        self.page.on_resize = self._resized
        self._place()
        self.page.update()

    def _place(self) -> None:
        user = self.client.user
        logout = ft.Semantics(
            button=True,
            label="Log out",
            content=ft.IconButton(ft.Icons.LOGOUT, on_click=self._logout, tooltip="Log out"),
        )
        phone = self.layout == "phone"
        top = ft.Container(
            ft.Row(
                [
                    ft.Text("Tandem", size=20, weight=ft.FontWeight.BOLD),
                    ft.Text(
                        f"{user.get('name') or user.get('username')}",
                        color=style.MUTED,
                        visible=not phone,
                        expand=True,
                    ),
                    *([ft.Container(expand=True)] if phone else []),
                    self.indicator.root,
                    logout,
                ],
                spacing=12,
            ),
            padding=ft.Padding.only(left=16, right=8, top=8, bottom=8),
            bgcolor=ft.Colors.SURFACE_CONTAINER_LOW,
        )
        content = ft.Column(self.bodies, expand=True, spacing=0)
        badge = self._badge()
        if phone:
            self.nav = ft.NavigationBar(
                destinations=[
                    ft.NavigationBarDestination(icon=self._icon(s, badge), label=s.title)
                    for s in self.sections
                ],
                selected_index=self.selected,
                on_change=self._navigate,
            )
            self.page.navigation_bar = self.nav
            self.page.controls = [ft.Column([top, content], expand=True, spacing=0)]
        else:
            self.nav = ft.NavigationRail(
                destinations=[
                    ft.NavigationRailDestination(icon=self._icon(s, badge), label=s.title)
                    for s in self.sections
                ],
                selected_index=self.selected,
                extended=self.layout == "wide",
                label_type=None if self.layout == "wide" else ft.NavigationRailLabelType.ALL,
                on_change=self._navigate,
            )
            self.page.navigation_bar = None
            self.page.controls = [
                ft.Column(
                    [
                        top,
                        ft.Row(
                            [self.nav, ft.VerticalDivider(width=1), content], expand=True, spacing=0
                        ),
                    ],
                    expand=True,
                    spacing=0,
                )
            ]
        self.page.padding = 0

    def _badge(self) -> str | None:
        n = self.notifications.unread()
        return str(n) if n else None

    def _icon(self, section: Section, badge: str | None) -> ft.Control:
        if section.key == "notifications" and badge:
            return ft.Icon(section.icon, badge=badge)
        return ft.Icon(section.icon)

    def _refresh_badge(self) -> None:
        if self.nav is None:
            return
        badge = self._badge()
        for dest, section in zip(self.nav.destinations, self.sections, strict=True):
            if section.key == "notifications":
                dest.icon = self._icon(section, badge)  # type: ignore[attr-defined]
        with contextlib.suppress(RuntimeError):
            self.nav.update()

    async def _resized(self, e: ft.PageResizeEvent) -> None:
        layout = style.layout_for(e.width)
        if layout != self.layout:
            self.layout = layout
            self._place()
            self.page.update()

    def _navigate(self, e: ft.Event[ft.NavigationBar] | ft.Event[ft.NavigationRail]) -> None:
        self.select(int(e.control.selected_index or 0))

    def select(self, index: int) -> None:
        self.selected = index
        for i, body in enumerate(self.bodies):
            body.visible = i == index
        self.page.update()

    # ---- client changes
    def _listener(self, changed: Changed) -> None:
        # The client may call from its own task: render inside this session.
        with contextlib.suppress(RuntimeError):  # the session is gone
            self.page.run_task(self.apply, changed)

    async def apply(self, changed: Changed) -> None:
        for section in self.sections:
            section.changed(changed)
        if self.notifications.changed(changed.keys) or changed.reset:
            self._refresh_badge()
        if changed.sync or changed.reset:
            info = self.client.sync_info()
            self.indicator.show(info)
            self.inspector.show(info)
            for section in self.sections:
                section.sync_changed()
        elif self.sections[self.selected].key == "sync":
            self.inspector.show(self.client.sync_info())  # cursor / last event moved
        for notice in changed.notices:
            snack(self.page, notice.text, notice.ok)
        if changed.signed_out:
            # nothing more can sync: back to the sign-in screen (the
            # snackbar above says why)
            self.close()
            await self.on_logout()

    async def _logout(self, _: ft.Event[ft.IconButton]) -> None:
        self.close()
        await self.on_logout()

    def close(self) -> None:
        """Stop listening (idempotent: logout paths may call it twice)."""
        unsubscribe, self.unsubscribe = self.unsubscribe, lambda: None
        unsubscribe()
        self.page.on_resize = None
        self.page.navigation_bar = None
