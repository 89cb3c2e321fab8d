"""The app shell every role shares: navigation that fits the device (bottom
bar on a phone, rail on a tablet, sidebar on a wide screen), the connection
indicator, snackbars, the notifications panel and the sync inspector.

A phone's bottom bar holds at most `BAR_MAX` destinations: with more
sections (the operator's console has ten) it shows the first ones and a
"More" destination that lists the rest in a bottom sheet. The rail and the
sidebar show every section and scroll when the window is too short.

The shell subscribes to the client once and hands each change to the
sections, which refresh only what it touched."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from functools import partial

import flet as ft

from views.components import style
from views.components.describe import describe
from views.components.dialogs import close
from views.components.feedback import snack
from views.components.indicator import ConnectionIndicator
from views.components.inspector import SyncInspector
from views.components.notifications import NotificationsPanel
from views.components.section import Section
from views.port import Changed, ClientPort, Notice

Logout = Callable[[], Awaitable[None]]
# The server no longer accepts the sign-in; with its words for why, if it said
SignedOut = Callable[[str | None], Awaitable[None]]

BAR_MAX = 5  # destinations a phone's bottom bar holds (Material: 3 to 5)
# Sections not on screen render what they missed when shown, or once they
# have missed this many changes (their backlog stays small): a change costs
# each open screen only the section on it (bench ui: the operator's ten
# sections made every change cost each operator's screen ~50 ms of CPU).
BACKLOG_MAX = 200


def away(missed: Changed | None, changed: Changed) -> Changed:
    """What a tab that is away has missed: everything may have changed, and
    the notices and a sign-out still need telling when it is back."""
    notices = (missed.notices if missed else ()) + changed.notices
    signed_out = changed.signed_out or (missed is not None and missed.signed_out)
    return Changed(sync=True, reset=True, notices=notices, signed_out=signed_out)


class Shell:
    def __init__(
        self,
        page: ft.Page,
        client: ClientPort,
        sections: list[Section],
        on_logout: Logout,
        on_signed_out: SignedOut | None = None,
    ) -> None:
        self.page = page
        self.client = client
        self.on_logout = on_logout
        # the server refused our sign-in (expired): by default, as a logout
        self.on_signed_out: SignedOut = on_signed_out or (lambda _why: on_logout())
        self.indicator = ConnectionIndicator(client.sync_info())
        self.notifications = NotificationsPanel(page, client)
        self.inspector = SyncInspector(
            client.sync_info(), client.dismiss, partial(describe, client)
        )
        self.sections = [
            *sections,
            Section(
                "notifications",
                "Notifications",
                ft.Icons.NOTIFICATIONS_OUTLINED,
                self.notifications.root,
                self._notifications_changed,
                short="Alerts",  # five labels share a 360 px phone's bar
            ),
            Section("sync", "Sync", ft.Icons.SYNC, self.inspector.root, self._sync_page_changed),
        ]
        self.selected = 0
        # What hidden sections have yet to hear (merged): they catch up when
        # shown, so a change renders only the section on screen.
        self.behind: dict[int, Changed] = {}
        self.lazy = True  # False: hidden sections render every change too (tests)
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
        self.more: ft.BottomSheet | None = None  # the open "More" sheet
        self.shown_badge: str | None = None  # what the navigation's badge says now
        self.missed: Changed | None = None  # while the tab is away
        self.unsubscribe = client.subscribe(self._listener)

    # ---- mounting and layout
    def mount(self) -> None:
        self.layout = style.layout_for(self.page.width)
        self.page.on_resize = self._resized
        self.page.on_connect = self._reconnected
        self._place()
        self.page.update()

    def _place(self) -> None:
        if self.more is not None:  # laid out again (resized): the sheet's list is stale
            close(self.more)
            self.more = None
        user = self.client.user
        logout = ft.Semantics(
            button=True,
            label="Log out",
            content=ft.IconButton(ft.Icons.LOGOUT, on_click=self._logout, tooltip="Log out"),
        )
        phone = self.layout == "phone"
        self.indicator.fit(phone)
        name = str(user.get("name") or user.get("username") or "")
        # a phone has room for one title: whose phone it is beats the brand
        # (the launcher shows the app's name)
        title = ft.Text(
            name if phone else "Tandem",
            size=20,
            weight=ft.FontWeight.BOLD,
            max_lines=1,
            overflow=ft.TextOverflow.ELLIPSIS,
            expand=phone,
        )
        top = ft.Container(
            ft.Row(
                [
                    title,
                    *(
                        []
                        if phone
                        else [ft.Text(name, color=style.MUTED, expand=True)]
                    ),
                    self.indicator.root,
                    logout,
                ],
                spacing=12,
                alignment=ft.MainAxisAlignment.SPACE_BETWEEN,
            ),
            padding=ft.Padding.only(left=16, right=8, top=8, bottom=8),
            bgcolor=ft.Colors.SURFACE_CONTAINER_LOW,
        )
        content = ft.Column(self.bodies, expand=True, spacing=0)
        if phone:
            self.nav = ft.NavigationBar(
                destinations=self._bar_destinations(),
                selected_index=self._nav_index(),
                on_change=self._navigate,
            )
            self.page.navigation_bar = self.nav
            self.page.controls = [ft.Column([top, content], expand=True, spacing=0)]
        else:
            badge = self._badge()
            self.nav = ft.NavigationRail(
                destinations=[
                    ft.NavigationRailDestination(icon=self._icon(s, badge), label=s.title)
                    for s in self.sections
                ],
                selected_index=self.selected,
                extended=self.layout == "wide",
                label_type=None if self.layout == "wide" else ft.NavigationRailLabelType.ALL,
                # ten destinations don't fit a short window (a tablet on its side)
                scrollable=True,
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

    # ---- destinations
    def _in_bar(self) -> tuple[list[Section], list[Section]]:
        """(the sections the navigation shows, the ones under "More")."""
        if self.layout == "phone" and len(self.sections) > BAR_MAX:
            return self.sections[: BAR_MAX - 1], self.sections[BAR_MAX - 1 :]
        return self.sections, []

    def _nav_index(self) -> int:
        """The destination to highlight: the section's own, or "More"."""
        shown, _ = self._in_bar()
        return min(self.selected, len(shown))

    def _bar_destinations(self) -> list[ft.NavigationBarDestination]:
        badge = self._badge()
        shown, rest = self._in_bar()
        destinations = [
            ft.NavigationBarDestination(icon=self._icon(s, badge), label=s.bar_label)
            for s in shown
        ]
        if rest:
            # the unread count shows on "More" while notifications are in it
            more_badge = badge if any(s.key == "notifications" for s in rest) else None
            destinations.append(
                ft.NavigationBarDestination(
                    icon=ft.Icon(ft.Icons.MORE_HORIZ, badge=more_badge), label="More"
                )
            )
        return destinations

    def _badge(self) -> str | None:
        n = self.notifications.unread()
        self.shown_badge = str(n) if n else None
        return self.shown_badge

    def _icon(self, section: Section, badge: str | None) -> ft.Control:
        if section.key == "notifications" and badge:
            return ft.Icon(section.icon, badge=badge)
        return ft.Icon(section.icon)

    def _refresh_badge(self) -> None:
        """Show the unread count again, when it changed (an update of the
        navigation is a diff of every destination: bench ui)."""
        before = self.shown_badge
        if self.nav is None or self._badge() == before:
            return
        if isinstance(self.nav, ft.NavigationBar):
            self.nav.destinations = self._bar_destinations()
        else:
            badge = self._badge()
            for dest, section in zip(self.nav.destinations, self.sections, strict=True):
                if section.key == "notifications":
                    dest.icon = self._icon(section, badge)
        with contextlib.suppress(RuntimeError):
            self.nav.update()
        if self.more is not None and self.more.open:
            self._fill_more(self.more)
            with contextlib.suppress(RuntimeError):
                self.more.update()

    # ---- "More" on a phone
    def _open_more(self) -> None:
        sheet = ft.BottomSheet(
            ft.Container(),
            show_drag_handle=True,
            # not `scrollable` (that makes the sheet full height) and a list that
            # doesn't scroll: the sheet is as tall as its six lines
            on_dismiss=self._more_dismissed,
        )
        self._fill_more(sheet)
        self.more = sheet
        self.page.show_dialog(sheet)

    def _fill_more(self, sheet: ft.BottomSheet) -> None:
        _, rest = self._in_bar()
        badge = self._badge()
        first = len(self.sections) - len(rest)

        def tile(index: int, section: Section) -> ft.Control:
            async def chosen(_: ft.Event[ft.ListTile]) -> None:
                close(sheet)
                self.more = None
                self.select(index)

            return ft.Semantics(
                identifier=f"more-{section.key}",
                content=ft.ListTile(
                    leading=self._icon(section, badge),
                    title=ft.Text(section.title),
                    selected=index == self.selected,
                    on_click=chosen,
                ),
            )

        sheet.content = ft.Semantics(
            identifier="more-sheet",
            container=True,
            content=ft.Container(
                ft.Column(
                    [tile(first + i, s) for i, s in enumerate(rest)],
                    tight=True,
                    spacing=0,
                ),
                padding=ft.Padding.only(bottom=16),
            ),
        )

    def _more_dismissed(self, _: ft.Event[ft.DialogControl]) -> None:
        # dismissed without a choice: the bar highlights where the user is again
        self.more = None
        if isinstance(self.nav, ft.NavigationBar) and self.nav.selected_index != self._nav_index():
            self.nav.selected_index = self._nav_index()
            with contextlib.suppress(RuntimeError):
                self.nav.update()

    async def _resized(self, e: ft.PageResizeEvent) -> None:
        layout = style.layout_for(e.width)
        if layout != self.layout:
            self.layout = layout
            self._place()
            self.page.update()

    def _navigate(self, e: ft.Event[ft.NavigationBar] | ft.Event[ft.NavigationRail]) -> None:
        index = int(e.control.selected_index or 0)
        shown, rest = self._in_bar()
        if rest and index == len(shown):
            self._open_more()
        else:
            self.select(index)

    def select(self, index: int) -> None:
        """Show section `index` (and highlight its destination)."""
        self.selected = index
        self._catch_up(index)
        for i, body in enumerate(self.bodies):
            body.visible = i == index
        if self.nav is not None:
            self.nav.selected_index = self._nav_index()
        self.page.update()

    # ---- client changes
    def _listener(self, changed: Changed) -> None:
        # The client may call from its own task: render inside this session.
        # A tab that is away (closed, or its link dropped; Flet keeps the
        # session a while) has nowhere to render: what it missed is drawn
        # afresh if it comes back (`_reconnected`).
        if self.page.session.connection is None:
            self.missed = away(self.missed, changed)
            return
        with contextlib.suppress(RuntimeError):  # the session is gone
            self.page.run_task(self.apply, changed)

    def _tell(self, notice: Notice) -> None:
        """A snackbar; a refused change whose form a section can reopen
        offers "Edit and retry"."""
        failed = notice.failed
        retry = next(
            (s.retry[failed.name] for s in self.sections if failed and failed.name in s.retry),
            None,
        )
        if failed is None or retry is None:
            snack(self.page, notice.text, notice.ok)
            return

        async def again() -> None:
            retry(failed)

        snack(self.page, notice.text, notice.ok, action="Edit and retry", on_action=again)

    async def _reconnected(self, _: ft.Event[ft.Page]) -> None:
        missed, self.missed = self.missed, None
        if missed is not None:
            await self.apply(missed)

    async def apply(self, changed: Changed) -> None:
        self.sections[self.selected].changed(changed)
        for i in range(len(self.sections)):
            if i != self.selected:
                missed = self.behind[i] = merged(self.behind.get(i), changed)
                if not self.lazy or len(missed.keys) + len(missed.events) >= BACKLOG_MAX:
                    self._catch_up(i)
        # the badge follows every change; the list itself is a section (lazy)
        if changed.reset or any(entity == "notification" for entity, _ in changed.keys):
            self._refresh_badge()
        if changed.sync or changed.reset:
            self.indicator.show(self.client.sync_info())
            self.sections[self.selected].sync_changed()
        for notice in changed.notices:
            if not notice.signs_out:  # those words stay on the sign-in screen
                self._tell(notice)
        if changed.signed_out:
            # nothing more can sync: back to the sign-in screen, saying why
            self.close()
            await self.on_signed_out(next((n.text for n in changed.notices if n.signs_out), None))

    def _sync_page_changed(self, changed: Changed) -> None:
        # on screen it follows every change (the cursor moves); hidden, it
        # catches up when shown, like any section (it was redrawn for every
        # change before: ~20% of a change's render on each screen, bench ui)
        if changed.sync or changed.reset or self.sections[self.selected].key == "sync":
            self.inspector.show(self.client.sync_info())

    def _notifications_changed(self, changed: Changed) -> None:
        self.notifications.changed(changed.keys)

    def _catch_up(self, index: int) -> None:
        """Give a section about to show what it missed while hidden."""
        missed = self.behind.pop(index, None)
        if missed is not None:
            section = self.sections[index]
            section.changed(missed)
            if missed.sync or missed.reset:
                section.sync_changed()

    async def _logout(self, _: ft.Event[ft.IconButton]) -> None:
        self.close()
        await self.on_logout()

    def close(self) -> None:
        """Stop listening (idempotent: logout paths may call it twice)."""
        unsubscribe, self.unsubscribe = self.unsubscribe, lambda: None
        unsubscribe()
        self.page.on_resize = None
        self.page.on_connect = None
        self.page.navigation_bar = None


def merged(earlier: Changed | None, later: Changed) -> Changed:
    """One Changed that tells a section what both did (the views' keys,
    events in order; what the shell itself handles is left out)."""
    if earlier is None:
        return Changed(keys=later.keys, sync=later.sync, reset=later.reset, events=later.events)
    return Changed(
        keys=earlier.keys | later.keys,
        sync=earlier.sync or later.sync,
        reset=earlier.reset or later.reset,
        events=earlier.events + later.events,
    )
