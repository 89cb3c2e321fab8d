"""The operator's live activity feed: what everyone did today and does
now, newest first, the last `LIMIT` things.

At sign-in (and after every reset) it is filled with today's history as the
appointments themselves tell it (`domain.history.steps`: each step's stamp
says who and when), once, not per event. Then it goes on from the server
events the store applies (`Changed.events`). Both are worded by
`views.operator.activity_text`, the same sentence either way. A new event adds one
line at the top (and drops the oldest past the limit): nothing else is
redrawn. An event that is already there from the history (same appointment,
same step, same instant: a replay around the bootstrap's cursor) is not
shown twice. Only today's history: yesterday's is not shown (a stamp keeps
only a step's latest time, and the bound is for today's work).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import flet as ft

from domain.history import Step, actor_field, instant, steps
from domain.records import Record
from views.components import clock, style
from views.components.section import Section
from views.operator.activity_text import Activity, describe, describe_step
from views.port import Changed, ClientPort, ServerEvent

LIMIT = 200
Now = Callable[[], datetime]
StepKey = tuple[str, str]  # (appointment id, stamp): one step of one appointment

ICONS: dict[str, ft.IconData] = {
    "appointment": ft.Icons.EVENT_NOTE,
    "staff": ft.Icons.BADGE_OUTLINED,
    "client": ft.Icons.PERSON_OUTLINE,
    "availability": ft.Icons.SCHEDULE,
    "shift": ft.Icons.ACCESS_TIME,
}
EMPTY = (
    "Nothing has happened yet today. Bookings, acceptances, trips and payments "
    "show up here as they happen."
)


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    """The instants `day` on the business's clock starts and ends at."""
    zone = clock.local(datetime.now(UTC)).tzinfo
    return (
        datetime.combine(day, time(), zone),
        datetime.combine(day + timedelta(days=1), time(), zone),
    )


def when_of(activity: Activity, received: datetime) -> datetime:
    """When the record says it happened, else when it reached us."""
    return instant(activity.at) or received


def time_label(activity: Activity, received: datetime) -> str:
    """'14:05' on the business's clock: when the record says it happened,
    else when it reached us."""
    return clock.local(when_of(activity, received)).strftime("%H:%M")


def step_key(event: ServerEvent) -> StepKey | None:
    """The appointment step an event is (what a backfilled line is keyed by)."""
    field = actor_field(event.cause) if event.entity == "appointment" else None
    return (event.id, field.removesuffix("_by")) if field else None


@dataclass(eq=False)
class Line:
    control: ft.Control
    when: datetime  # for the order when rebuilt
    live: bool  # from an event (else read back from a record)
    step: StepKey | None = None
    at: datetime | None = None  # the step's instant, as its record says
    guess: bool = False  # read from changes still waiting to sync: their time is ours


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
        self.lines: list[Line] = []
        # the steps read back from the records and shown: a live event that
        # is one of them (same instant) is not shown again
        self.backfilled: dict[StepKey, Line] = {}
        self.empty = ft.Text(EMPTY, italic=True, color=style.MUTED)
        self.list = ft.Column([self.empty], spacing=0)
        self.root = ft.Semantics(
            identifier="activity-feed",
            container=True,
            content=ft.Column(
                [
                    ft.Text("Live activity", size=20, weight=ft.FontWeight.BOLD),
                    ft.Text(f"Today's, newest first (the latest {limit}).", color=style.MUTED),
                    self.list,
                ],
                spacing=8,
            ),
        )
        self.rebuild()

    # ---- today's history, from the records

    def rebuild(self) -> None:
        """Today's history read back from the appointments, with the live
        lines only an event could tell (staff, clients, availability, an
        earlier time of a step taken again) kept in; yesterday's dropped."""
        today = self.today()
        history = self._history(today)
        self.backfilled = {line.step: line for line in history if line.step}

        def known(line: Line) -> bool:
            old = self.backfilled.get(line.step) if line.step else None
            return old is not None and old.at == line.at

        kept = [
            line
            for line in self.lines
            if line.live and not known(line) and clock.local(line.when).date() == today
        ]
        lines = history + kept
        lines.sort(key=lambda line: line.when, reverse=True)  # stable: ties keep their order
        self.lines = lines[: self.limit]
        self._show()

    def _history(self, today: date) -> list[Line]:
        """Today's steps of every appointment, newest first, at most `limit`
        of them worded (the rest are never drawn)."""
        found: list[tuple[datetime, int, Record, Step]] = []
        start, end = _day_bounds(today)
        for appt in self.client.view().all("appointment"):
            latest = instant(appt.get("updated_at"))  # every step stamps it
            if latest is not None and latest < start:
                continue
            for i, step in enumerate(steps(appt)):
                when = instant(step.at)
                if when is not None and start <= when < end:
                    found.append((when, i, appt, step))
        found.sort(key=lambda f: (f[0], f[1]), reverse=True)
        snap = self.client.view()
        me = self.client.actor.id
        lines: list[Line] = []
        for when, _, appt, step in found[: self.limit]:
            activity = describe_step(appt, step, snap, me, today)
            aid = str(appt.get("id") or "")
            lines.append(
                Line(
                    self._line(activity, when, f"activity-{aid}-{step.stamp}"),
                    when,
                    live=False,
                    step=(aid, step.stamp),
                    at=when,
                    guess=self.client.is_pending("appointment", aid),
                )
            )
        return lines

    # ---- live

    def changed(self, ch: Changed) -> None:
        if ch.reset:
            self.rebuild()
        if not ch.events:
            return
        snap = self.client.view()
        me = self.client.actor.id
        today = self.today()
        received = self.now()
        lines: list[Line] = []
        dropped: list[Line] = []
        for event in ch.events:
            if event.seq and event.seq <= self.last_seq:
                continue  # seen already (a replay after a reconnect)
            self.last_seq = max(self.last_seq, event.seq)
            activity = describe(event, snap, me, today)
            if activity is None:
                continue
            key = step_key(event)
            at = instant(activity.at)
            old = self.backfilled.pop(key, None) if key else None
            if old is not None and old.at == at:
                continue  # shown already, read back from the record
            if old is not None and old.guess:
                dropped.append(old)  # our guess at a change waiting to sync: this is it
            when = at or received
            control = self._line(activity, when, f"activity-{activity.seq}")
            lines.append(Line(control, when, live=True, step=key, at=at))
        if not lines and not dropped:
            return
        shown = [line for line in self.lines if line not in dropped]
        self.lines = (lines[::-1] + shown)[: self.limit]
        self._show()

    def _show(self) -> None:
        self.list.controls = [line.control for line in self.lines] or [self.empty]
        with contextlib.suppress(RuntimeError):  # not on the page yet
            self.list.update()

    def _line(self, activity: Activity, when: datetime, identifier: str) -> ft.Control:
        texts: list[ft.Control] = [ft.Text(activity.text)]
        if activity.detail:
            texts.append(ft.Text(activity.detail, size=12, color=style.MUTED))
        return ft.Semantics(
            identifier=identifier,
            container=True,
            content=ft.Container(
                ft.Row(
                    [
                        ft.Icon(ICONS.get(activity.kind, ft.Icons.BOLT), color=style.MUTED),
                        ft.Column(texts, spacing=2, expand=True),
                        ft.Text(time_label(activity, when), color=style.MUTED, size=12),
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
