"""The operator's live activity feed: what everyone does, as it happens,
newest first, the last `LIMIT` things.

It is built here, in the client, from the server events the store has
applied (`Changed.events`), worded by `views.activity_text`. A new event
adds one line at the top (and drops the oldest past the limit): nothing
else is redrawn.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import date, datetime

import flet as ft

from domain.times import parse_instant
from views.activity_text import Activity, describe
from views.components import clock, style
from views.components.section import Section
from views.port import Changed, ClientPort

LIMIT = 200
Now = Callable[[], datetime]

ICONS: dict[str, ft.IconData] = {
    "appointment": ft.Icons.EVENT_NOTE,
    "staff": ft.Icons.BADGE_OUTLINED,
    "client": ft.Icons.PERSON_OUTLINE,
    "availability": ft.Icons.SCHEDULE,
}
EMPTY = (
    "Nothing has happened yet. Bookings, acceptances, trips and payments "
    "show up here as they happen."
)


def time_label(activity: Activity, received: datetime) -> str:
    """'14:05' on the business's clock: when the record says it happened,
    else when it reached us."""
    when = received
    if activity.at:
        with contextlib.suppress(ValueError):
            when = parse_instant(activity.at)
    return clock.local(when).strftime("%H:%M")


class ActivityFeed:
    def __init__(
        self,
        client: ClientPort,
        limit: int = LIMIT,
        today: Callable[[], date] = clock.today,
        now: Now | None = None,
    ) -> None:
        self.client = client
        self.limit = limit
        self.today = today
        self.now: Now = now or (lambda: datetime.now().astimezone())
        self.last_seq = 0
        self.empty = ft.Text(EMPTY, italic=True, color=style.MUTED)
        self.list = ft.Column([self.empty], spacing=0)
        self.root = ft.Semantics(
            identifier="activity-feed",
            container=True,
            content=ft.Column(
                [
                    ft.Text("Live activity", size=20, weight=ft.FontWeight.BOLD),
                    ft.Text(f"The latest {limit}, newest first.", color=style.MUTED),
                    self.list,
                ],
                spacing=8,
            ),
        )

    def changed(self, ch: Changed) -> None:
        if not ch.events:
            return
        snap = self.client.view()
        me = self.client.actor.id
        today = self.today()
        received = self.now()
        lines: list[ft.Control] = []
        for event in ch.events:
            if event.seq and event.seq <= self.last_seq:
                continue  # seen already (a replay after a reconnect)
            self.last_seq = max(self.last_seq, event.seq)
            activity = describe(event, snap, me, today)
            if activity is not None:
                lines.append(self._line(activity, received))
        if not lines:
            return
        shown = [c for c in self.list.controls if c is not self.empty]
        self.list.controls = (lines[::-1] + shown)[: self.limit]
        with contextlib.suppress(RuntimeError):  # not on the page yet
            self.list.update()

    def _line(self, activity: Activity, received: datetime) -> ft.Control:
        texts: list[ft.Control] = [ft.Text(activity.text)]
        if activity.detail:
            texts.append(ft.Text(activity.detail, size=12, color=style.MUTED))
        return ft.Semantics(
            identifier=f"activity-{activity.seq}",
            container=True,
            content=ft.Container(
                ft.Row(
                    [
                        ft.Icon(ICONS.get(activity.kind, ft.Icons.BOLT), color=style.MUTED),
                        ft.Column(texts, spacing=2, expand=True),
                        ft.Text(time_label(activity, received), color=style.MUTED, size=12),
                    ],
                    spacing=12,
                    vertical_alignment=ft.CrossAxisAlignment.START,
                ),
                padding=ft.Padding.symmetric(vertical=8),
                border=ft.Border.only(bottom=ft.BorderSide(1, ft.Colors.OUTLINE_VARIANT)),
            ),
        )


def activity_section(client: ClientPort) -> Section:
    feed = ActivityFeed(client)
    return Section("activity", "Activity", ft.Icons.BOLT, feed.root, feed.changed)
