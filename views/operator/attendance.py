"""The operator's Attendance page: who is in right now, each person's hours
by day for a week (late days marked) and the week's total, one person's
shifts, and a date range downloaded as CSV.

Everything comes from the operator's own copy (they see every shift), with
the domain's arithmetic (hours split at local midnight) and the domain's
export lines — the same the server's GET /api/attendance.csv answers with.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta

import flet as ft

from domain.attendance import (
    clock_text,
    export_csv,
    export_range,
    export_rows,
    hours_by_day,
    hours_text,
    seconds_in,
    seconds_total,
    week_of,
)
from domain.errors import DomainError
from domain.records import Record, staff_name
from views.components import clock, style
from views.components.attendance import day_text, late_text, shift_row, tick, week_shifts
from views.components.feedback import snack
from views.components.section import Section
from views.port import Changed, ClientPort

Now = Callable[[], datetime]
Save = Callable[[str, bytes], Awaitable[object]]  # (file name, contents)
NAME_WIDTH, DAY_WIDTH = 170, 112


def _cell(text: str, width: int, *, bold: bool = False, color: str | None = None) -> ft.Text:
    return ft.Text(text, width=width, weight=ft.FontWeight.BOLD if bold else None, color=color)


def _icon_button(icon: ft.IconData, label: str,
                 on_click: Callable[[ft.Event[ft.IconButton]], None]) -> ft.Control:
    # An IconButton only gets an accessible name through Semantics.
    return ft.Semantics(button=True, label=label,
                        content=ft.IconButton(icon, tooltip=label, on_click=on_click))


class AttendancePage:
    def __init__(self, page: ft.Page, client: ClientPort, now: Now | None = None,
                 save: Save | None = None) -> None:
        self.page = page
        self.client = client
        self.now: Now = now or (lambda: datetime.now(UTC))
        self.save: Save = save or self._save_file
        self.picker: ft.FilePicker | None = None
        self.monday = week_of(clock.local(self.now()).date())[0]
        self.selected: str | None = None
        self.in_now = ft.Column(spacing=4)
        self.week_label = ft.Text(size=18, weight=ft.FontWeight.BOLD)
        self.grid = ft.Column(spacing=2)
        self.detail_title = ft.Text(weight=ft.FontWeight.BOLD)
        self.detail = ft.Column(spacing=6)
        self.first = ft.TextField(label="First day", hint_text="YYYY-MM-DD", width=160)
        self.last = ft.TextField(label="Last day", hint_text="YYYY-MM-DD", width=160)
        self.export_error = ft.Text(color=style.BAD, visible=False)
        self._set_range()
        self.root = ft.Semantics(
            identifier="attendance-page",
            container=True,
            content=ft.Column(
                [
                    ft.Text("In right now", size=20, weight=ft.FontWeight.BOLD),
                    ft.Semantics(identifier="in-now", container=True, content=self.in_now),
                    ft.Divider(),
                    ft.Row([
                        _icon_button(ft.Icons.CHEVRON_LEFT, "Previous week", self._previous),
                        self.week_label,
                        _icon_button(ft.Icons.CHEVRON_RIGHT, "Next week", self._next),
                    ]),
                    ft.Row([ft.Semantics(identifier="attendance-week", container=True,
                                         content=self.grid)], scroll=ft.ScrollMode.AUTO),
                    ft.Semantics(identifier="attendance-shifts", container=True,
                                 content=ft.Column([self.detail_title, self.detail], spacing=6)),
                    ft.Divider(),
                    ft.Text("Export", size=20, weight=ft.FontWeight.BOLD),
                    ft.Row([
                        self.first, self.last,
                        ft.FilledTonalButton("Download CSV", icon=ft.Icons.DOWNLOAD,
                                             on_click=self._download),
                    ], wrap=True),
                    self.export_error,
                ],
                spacing=12,
                scroll=ft.ScrollMode.AUTO,
                expand=True,
            ),
        )
        self.render()

    # ---- reading
    def shifts(self) -> list[Record]:
        return list(self.client.view().all("shift"))

    def people(self, shifts: list[Record]) -> list[Record]:
        """Therapists and drivers, and anyone else with a shift, by name."""
        snap = self.client.view()
        ids = {s["id"] for s in snap.all("staff")
               if s.get("role") in ("therapist", "driver") and s.get("active", True)}
        ids |= {str(s.get("user_id")) for s in shifts}
        found = [snap.get("staff", i) or {"id": i} for i in ids]
        return sorted(found, key=lambda p: (staff_name(p).lower(), p["id"]))

    # ---- rendering
    def render(self) -> None:
        now = self.now()
        shifts = self.shifts()
        snap = self.client.view()
        zone = clock.zone()
        current = sorted((s for s in shifts if not s.get("clock_out_at")),
                         key=lambda s: str(s.get("clock_in_at")))
        self.in_now.controls = [self._in_row(s, now) for s in current] or [
            ft.Text("Nobody is clocked in right now.", italic=True, color=style.MUTED)]

        week = week_of(self.monday)
        self.week_label.value = f"Week of {day_text(self.monday)}"
        by_day = hours_by_day(shifts, zone, now)
        late_days = {(str(s["user_id"]), str(s["date"])) for s in shifts if s.get("late")}
        worked = {(str(s["user_id"]), str(s["date"])) for s in shifts}
        header = ft.Row([_cell("Person", NAME_WIDTH, bold=True),
                         *[_cell(day_text(d), DAY_WIDTH, bold=True) for d in week],
                         _cell("Week", DAY_WIDTH, bold=True)], spacing=4)
        rows: list[ft.Control] = [header]
        for person in self.people(shifts):
            pid = person["id"]
            days = by_day.get(pid, {})
            cells: list[ft.Control] = [ft.Container(ft.TextButton(
                staff_name(person), on_click=lambda _, pid=pid: self.select(pid)),
                width=NAME_WIDTH)]
            for d in week:
                seconds = days.get(d.isoformat(), 0)
                late = (pid, d.isoformat()) in late_days
                shown = seconds or (pid, d.isoformat()) in worked  # a shift just begun: 0 min
                text = (hours_text(seconds) if shown else "—") + (" · late" if late else "")
                cells.append(_cell(text, DAY_WIDTH, color=style.WARN if late else None))
            cells.append(_cell(hours_text(seconds_in(days, week)), DAY_WIDTH, bold=True))
            rows.append(ft.Semantics(identifier=f"week-{pid}", container=True,
                                     content=ft.Row(cells, spacing=4)))
        self.grid.controls = rows

        if self.selected is None:
            self.detail_title.value = "Choose a person to see their shifts."
            self.detail.controls = []
        else:
            chosen = snap.get("staff", self.selected)
            theirs = week_shifts((s for s in shifts if s.get("user_id") == self.selected), week)
            self.detail_title.value = f"{staff_name(chosen)}'s shifts this week"
            self.detail.controls = [shift_row(s, now) for s in theirs] or [
                ft.Text("No shifts in this week.", italic=True, color=style.MUTED)]

    def _in_row(self, shift: Record, now: datetime) -> ft.Control:
        """'Ana Reyes  in since 09:05  12 min late  2 h 50 min so far'."""
        parts: list[ft.Control] = [
            ft.Icon(ft.Icons.CIRCLE, color=style.OK, size=12),
            ft.Text(staff_name(self.client.view().get("staff", str(shift["user_id"]))),
                    weight=ft.FontWeight.BOLD),
            ft.Text(f"in since {clock_text(shift['clock_in_at'], clock.zone())}"),
        ]
        if shift.get("late"):
            parts.append(ft.Text(late_text(shift), color=style.WARN))
        parts.append(ft.Text(f"{hours_text(seconds_total(shift, now))} so far",
                             color=style.MUTED))
        return ft.Semantics(identifier=f"in-{shift['user_id']}", container=True,
                            content=ft.Row(parts, wrap=True))

    def refresh(self) -> None:
        self.render()
        with contextlib.suppress(RuntimeError):  # not on the page (yet)
            self.root.update()

    def changed(self, ch: Changed) -> None:
        if ch.reset or any(entity in ("shift", "staff") for entity, _ in ch.keys):
            self.refresh()

    # ---- intents
    def select(self, person_id: str) -> None:
        self.selected = person_id
        self.refresh()

    def show_week(self, monday: date) -> None:
        self.monday = monday
        self._set_range()
        self.refresh()

    def _set_range(self) -> None:
        self.first.value = self.monday.isoformat()
        self.last.value = (self.monday + timedelta(days=6)).isoformat()

    def _previous(self, _: ft.Event[ft.IconButton]) -> None:
        self.show_week(self.monday - timedelta(days=7))

    def _next(self, _: ft.Event[ft.IconButton]) -> None:
        self.show_week(self.monday + timedelta(days=7))

    async def _download(self, _: ft.Event[ft.Button]) -> None:
        try:
            first, last = export_range((self.first.value or "").strip(),
                                       (self.last.value or "").strip())
        except DomainError as exc:
            self.export_error.value, self.export_error.visible = exc.message, True
            self.refresh()
            return
        self.export_error.visible = False
        snap = self.client.view()
        people = {s["id"]: s for s in snap.all("staff")}
        rows = export_rows(self.shifts(), people, clock.zone(), self.now(), first, last)
        self.refresh()
        await self.save(f"attendance-{first}-to-{last}.csv", export_csv(rows).encode("utf-8"))
        snack(self.page, f"Attendance {first} to {last}: {len(rows)} shifts")

    async def _save_file(self, name: str, data: bytes) -> None:
        """The browser downloads it (the web build); elsewhere a save dialog."""
        if self.picker is None:
            self.picker = ft.FilePicker()
        await self.picker.save_file(file_name=name, src_bytes=data)


def attendance_section(page: ft.Page, client: ClientPort) -> Section:
    attendance = AttendancePage(page, client)
    page.run_task(tick, attendance.root, attendance.refresh)
    return Section("attendance", "Attendance", ft.Icons.PUNCH_CLOCK, attendance.root,
                   attendance.changed, short="Hours")


__all__ = ["AttendancePage", "attendance_section"]
