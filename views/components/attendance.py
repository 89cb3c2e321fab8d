"""Clocking in and out, for the therapist's tablet and the driver's phone:
the Clock in / Clock out button (keys "clock-in" / "clock-out", the same
Semantics identifiers for the browser), an optional note, and one's own
shifts and hours this week.

The clock-in shows at once with this device's time (the optimistic apply);
until the server answers, the card says so, and the server's time replaces
it when the answer comes (the server's clock decides)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime

import flet as ft

from domain.attendance import (
    clock_text,
    hours_by_day,
    hours_text,
    is_open,
    local,
    open_shift,
    seconds_in,
    seconds_total,
    week_of,
)
from domain.records import Record
from views.components import clock, style
from views.components.feedback import refused
from views.components.section import Section
from views.port import Changed, ClientPort

Now = Callable[[], datetime]
TICK_SECONDS = 60.0  # an open shift's hours move on by the minute


def on_screen(control: ft.BaseControl) -> bool:
    """On the page and not inside a hidden section (a tick renders only what
    is seen; a section catches up when shown)."""
    node: ft.BaseControl | None = control
    while node is not None:
        if getattr(node, "visible", True) is False:
            return False
        node = node.parent
    return True


async def tick(control: ft.BaseControl, refresh: Callable[[], None]) -> None:
    """Every TICK_SECONDS while `control` is on the page: `refresh` when it is
    in view (an open shift's hours move on by the minute)."""
    while True:
        await asyncio.sleep(TICK_SECONDS)
        try:
            _ = control.page
        except RuntimeError:  # the page is gone
            return
        if on_screen(control):
            refresh()


def day_text(day: date) -> str:
    """'Mon 23 Nov'."""
    return day.strftime("%a %d %b")


def late_text(shift: Record) -> str:
    return f"{int(shift.get('late_minutes') or 0)} min late" if shift.get("late") else ""


def span_text(shift: Record) -> str:
    """'09:12–17:00', '22:00–02:00 next day', '09:12–now'."""
    zone = clock.zone()
    start = clock_text(shift.get("clock_in_at"), zone)
    if is_open(shift):
        return f"{start}–now"
    end = clock_text(shift.get("clock_out_at"), zone)
    ends = local(shift["clock_out_at"], zone).date().isoformat()
    return f"{start}–{end}" + (" next day" if ends != shift.get("date") else "")


def week_shifts(shifts: Iterable[Record], days: list[date]) -> list[Record]:
    """The shifts clocked in on `days`, newest first."""
    wanted = {d.isoformat() for d in days}
    return sorted((s for s in shifts if s.get("date") in wanted),
                  key=lambda s: str(s.get("clock_in_at")), reverse=True)


def shift_row(shift: Record, now: datetime) -> ft.Control:
    """One shift: day, times, hours, late, notes."""
    parts: list[ft.Control] = [
        ft.Text(day_text(date.fromisoformat(str(shift["date"]))), width=100,
                weight=ft.FontWeight.BOLD),
        ft.Text(span_text(shift), width=150),
        ft.Text(hours_text(seconds_total(shift, now)), width=90),
    ]
    if shift.get("late"):
        parts.append(ft.Text(late_text(shift), color=style.WARN, weight=ft.FontWeight.BOLD))
    notes = " · ".join(str(n) for n in (shift.get("note"), shift.get("out_note")) if n)
    if notes:
        parts.append(ft.Text(notes, color=style.MUTED, italic=True))
    return ft.Semantics(identifier=f"shift-{shift['id']}", container=True,
                        content=ft.Row(parts, wrap=True, spacing=8))


class ClockCard:
    def __init__(self, page: ft.Page, client: ClientPort, now: Now | None = None) -> None:
        self.page = page
        self.client = client
        self.now: Now = now or (lambda: datetime.now(UTC))
        self.busy = False
        self.status = ft.Text(size=20, weight=ft.FontWeight.BOLD)
        self.detail = ft.Text(color=style.MUTED)
        self.note = ft.TextField(label="Note (optional)", hint_text="Traffic on EDSA",
                                 width=320, max_length=200)
        self.clock_in = ft.FilledButton(
            "Clock in", icon=ft.Icons.LOGIN, key="clock-in", data="clock-in",
            height=style.BIG_BUTTON_HEIGHT, on_click=self._clock_in)
        self.clock_out = ft.FilledTonalButton(
            "Clock out", icon=ft.Icons.LOGOUT, key="clock-out", data="clock-out",
            height=style.BIG_BUTTON_HEIGHT, on_click=self._clock_out)
        self.in_box = ft.Semantics(identifier="clock-in", content=self.clock_in)
        self.out_box = ft.Semantics(identifier="clock-out", content=self.clock_out)
        self.week_total = ft.Text(size=16, weight=ft.FontWeight.BOLD)
        self.days = ft.Row(wrap=True, spacing=12)
        self.shifts = ft.Column(spacing=6)
        self.empty = ft.Text("No shifts this week yet.", italic=True, color=style.MUTED)
        self.root = ft.Semantics(
            identifier="attendance",
            container=True,
            content=ft.Column(
                [
                    ft.Card(ft.Container(ft.Column([
                        self.status, self.detail,
                        ft.Row([self.note, self.in_box, self.out_box], wrap=True,
                               vertical_alignment=ft.CrossAxisAlignment.CENTER),
                    ], spacing=8), padding=16)),
                    self.week_total,
                    self.days,
                    ft.Text("Your shifts this week", weight=ft.FontWeight.BOLD),
                    self.empty,
                    self.shifts,
                ],
                spacing=12,
                scroll=ft.ScrollMode.AUTO,
                expand=True,
            ),
        )
        self.render()

    def mine(self) -> list[Record]:
        me = self.client.actor.id
        return [s for s in self.client.view().all("shift") if s.get("user_id") == me]

    def render(self) -> None:
        now = self.now()
        mine = self.mine()
        current = open_shift(mine, self.client.actor.id)
        zone = clock.zone()
        if current is None:
            self.status.value = "Not clocked in"
            self.detail.value = "Clock in when you start work."
        else:
            late = late_text(current)
            self.status.value = (f"Clocked in since {clock_text(current['clock_in_at'], zone)}"
                                 + (f" · {late}" if late else ""))
            if self.client.is_pending("shift", current["id"]):
                self.detail.value = ("Saving… this device's time shows until the server "
                                     "confirms its own.")
            else:
                self.detail.value = f"{hours_text(seconds_total(current, now))} so far."
        self.in_box.visible = current is None
        self.out_box.visible = current is not None
        self.clock_in.disabled = self.clock_out.disabled = self.busy
        today = clock.local(now).date()
        week = week_of(today)
        by_day = hours_by_day(mine, zone, now).get(self.client.actor.id, {})
        self.week_total.value = f"This week: {hours_text(seconds_in(by_day, week))}"
        self.days.controls = [
            ft.Text(f"{day_text(d)}: {hours_text(by_day.get(d.isoformat(), 0))}",
                    weight=ft.FontWeight.BOLD if d == today else None)
            for d in week if d <= today
        ]
        shown = week_shifts(mine, week)
        self.empty.visible = not shown
        self.shifts.controls = [shift_row(s, now) for s in shown]

    def changed(self, ch: Changed) -> None:
        if ch.reset or ch.sync or any(entity == "shift" for entity, _ in ch.keys):
            self.refresh()

    def refresh(self) -> None:
        self.render()
        with contextlib.suppress(RuntimeError):  # not on the page (yet)
            self.root.update()

    async def _clock_in(self, _: ft.Event[ft.Button]) -> None:
        await self._send("attendance.clock_in", str(uuid.uuid4()))

    async def _clock_out(self, _: ft.Event[ft.Button]) -> None:
        current = open_shift(self.mine(), self.client.actor.id)
        if current is None:
            self.refresh()
            return
        await self._send("attendance.clock_out", str(current["id"]))

    async def _send(self, name: str, target: str) -> None:
        if self.busy:
            return
        note = (self.note.value or "").strip()
        self.busy = True
        self.refresh()
        try:
            result = await self.client.dispatch(name, target, {"note": note} if note else {})
        finally:
            self.busy = False
        refused(self.page, result)
        if result.ok:
            self.note.value = ""
        self.refresh()


def attendance_section(page: ft.Page, client: ClientPort) -> Section:
    """Staff's own attendance: a page of its own ("Hours" where room is tight)."""
    card = ClockCard(page, client)
    page.run_task(tick, card.root, card.refresh)
    return Section("attendance", "Attendance", ft.Icons.PUNCH_CLOCK, card.root, card.changed,
                   card.refresh, short="Hours")
