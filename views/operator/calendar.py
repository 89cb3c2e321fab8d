"""The operator's calendar: therapists' availability and bookings side by side.

Day view: one column per therapist, the day cut into half-hour cells; a
booking is a block as tall as it lasts, an empty cell is green where the
therapist is available and grey where not. Clicking an empty cell opens the
booking dialog for that therapist, date and start time (the dialog then says
why a slot isn't possible, in the domain's words); clicking a booking opens
the edit dialog for it (unless it is over: transport completed). Week view:
a compact therapist × day table with each day's hours, bookings (click to
edit) and a Book button.

The layout is computed by `views.operator.calendar_grid` (pure); this module only
draws it and re-draws when appointments, availability or staff change.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import date
from typing import Any

import flet as ft

from domain.records import Record, staff_name
from domain.status import TERMINAL, Status, status_text
from views.components import clock, style
from views.components.section import Section
from views.operator.booking import open_booking
from views.operator.calendar_grid import (
    STEP,
    Booked,
    DayGrid,
    Free,
    WeekCell,
    WeekGrid,
    day_grid,
    hhmm,
    reach,
    shift,
    week_grid,
)
from views.port import Changed, ClientPort, Key

DAY, WEEK = "day", "week"
PX_PER_MINUTE = 1.1  # a half-hour cell is 33 px: tall enough to click and read
COLUMN_WIDTH = 210
GUTTER_WIDTH = 56
HEADER_HEIGHT = 36
WEEK_CELL_WIDTH = 150
WATCHED = frozenset({"appointment", "availability", "staff"})

FREE_COLOR = ft.Colors.GREEN_50
OFF_COLOR = ft.Colors.GREY_200
LINE_COLOR = ft.Colors.OUTLINE_VARIANT

# Where an appointment stands, as a block colour: the operator scans for
# what needs them (pending, rejected) before what is under way or done.
WAITING = frozenset({Status.PENDING, Status.REJECTED})
DONE = frozenset({Status.TRANSPORT_COMPLETED, Status.COMPLETED, Status.PICKUP_REQUESTED,
                  Status.DRIVER_ASSIGNED_PICKUP, Status.RETURN_JOURNEY})


def block_color(appt: Record) -> str:
    status = Status(appt["status"])
    if status == Status.REJECTED:
        return ft.Colors.RED_100
    if status in WAITING:
        return ft.Colors.AMBER_100
    if status in DONE:
        return ft.Colors.BLUE_GREY_100
    return ft.Colors.TEAL_100


# (therapist id, date, start "HH:MM") -> open the booking dialog
BookAt = Callable[[str, str, str | None], None]
# appointment id -> open the edit dialog
Edit = Callable[[str], None]


def editable(appt: Record) -> bool:
    """Whether a click on the booking opens the edit dialog: not once it is
    over (the domain refuses any edit then)."""
    return Status(appt["status"]) not in TERMINAL


def edit_handler(appt: Record, edit: Edit) -> Callable[[ft.Event[ft.Container]], None] | None:
    if not editable(appt):
        return None

    def clicked(_: ft.Event[ft.Container]) -> None:
        edit(appt["id"])

    return clicked


class Calendar:
    def __init__(self, page: ft.Page, client: ClientPort) -> None:
        self.page = page
        self.client = client
        self.mode = DAY
        self.day = clock.today().isoformat()
        self.title = ft.Text(size=18, weight=ft.FontWeight.W_500)
        self.mode_picker = ft.SegmentedButton(
            segments=[
                ft.Segment(value=DAY, label="Day", icon=ft.Icons.VIEW_DAY),
                ft.Segment(value=WEEK, label="Week", icon=ft.Icons.VIEW_WEEK),
            ],
            selected=[DAY],
            on_change=self._mode_chosen,
        )
        self.previous = ft.IconButton(ft.Icons.CHEVRON_LEFT, on_click=self._previous)
        self.next = ft.IconButton(ft.Icons.CHEVRON_RIGHT, on_click=self._next)
        self.body = ft.Column(spacing=0)
        self.shown: DayGrid | WeekGrid | None = None  # what the body draws now
        # the appointments it draws, and the dates whose appointments could join them
        self.drawn: frozenset[str] = frozenset()
        self.dates: set[str] = set()
        self.root = ft.Semantics(
            identifier="calendar",
            container=True,
            content=ft.Column(
                [
                    ft.Row(
                        [
                            ft.OutlinedButton("Today", on_click=self._today),
                            ft.Semantics(button=True, label="Previous", content=self.previous),
                            ft.Semantics(button=True, label="Next", content=self.next),
                            self.title,
                            self.mode_picker,
                        ],
                        # (no `expand` spacer: it breaks a wrapping Row's layout)
                        wrap=True,
                        spacing=8,
                    ),
                    legend(),
                    ft.Row([self.body], scroll=ft.ScrollMode.AUTO),
                ],
                spacing=12,
            ),
        )
        self.render()

    # ---- drawing
    def render(self) -> bool:
        """Compute the grid and redraw it; False when nothing shown changed
        (an edit on another day costs no patch)."""
        snap = self.client.view()
        grid = day_grid(snap, self.day) if self.mode == DAY else week_grid(snap, self.day)
        if grid == self.shown:
            return False
        self.shown = grid
        self.drawn, self.dates = grid.appointment_ids(), reach(grid.days)
        self.mode_picker.selected = [self.mode]
        unit = "day" if self.mode == DAY else "week"
        self.previous.tooltip = f"Previous {unit}"
        self.next.tooltip = f"Next {unit}"
        if isinstance(grid, DayGrid):
            self.title.value = date.fromisoformat(self.day).strftime("%A %d %B %Y")
            self.body.controls = [day_view(grid, self.book, self.edit)]
        else:
            first, last = date.fromisoformat(grid.days[0]), date.fromisoformat(grid.days[-1])
            self.title.value = f"{first.strftime('%d %b')} – {last.strftime('%d %b %Y')}"
            self.body.controls = [week_view(grid, self.book, self._show_day, self.edit)]
        return True

    def refresh(self) -> None:
        if self.render():
            with contextlib.suppress(RuntimeError):  # not on the page yet
                self.root.update()

    def changed(self, keys: frozenset[Key]) -> None:
        if any(self._concerns(entity, id) for entity, id in keys):
            self.refresh()

    def _concerns(self, entity: str, id: str) -> bool:
        """Whether a change to this record may alter the grid: staff and
        availability do; an appointment when it is drawn now or is dated
        where the grid reaches (an edit on another day costs no pass over
        the whole cache)."""
        if entity != "appointment":
            return entity in WATCHED
        if id in self.drawn:
            return True
        appt = self.client.view().get("appointment", id)
        return appt is not None and appt.get("date") in self.dates

    # ---- intents
    def book(self, therapist_id: str, day: str, start: str | None) -> None:
        open_booking(self.page, self.client, therapist_id=therapist_id, day=day, start_time=start)

    def edit(self, appointment_id: str) -> None:
        # the record as it is now, not as it was drawn
        appt = self.client.view().get("appointment", appointment_id)
        if appt is not None and editable(appt):
            open_booking(self.page, self.client, appt)

    def _show_day(self, day: str) -> None:
        self.mode, self.day = DAY, day
        self.refresh()

    def _mode_chosen(self, e: ft.Event[ft.SegmentedButton]) -> None:
        chosen = list(e.control.selected or [])
        self.mode = WEEK if chosen == [WEEK] else DAY
        self.refresh()

    def _step(self) -> int:
        return 1 if self.mode == DAY else 7

    def _previous(self, _: ft.Event[ft.IconButton]) -> None:
        self.day = shift(self.day, -self._step())
        self.refresh()

    def _next(self, _: ft.Event[ft.IconButton]) -> None:
        self.day = shift(self.day, self._step())
        self.refresh()

    def _today(self, _: ft.Event[ft.OutlinedButton]) -> None:
        self.day = clock.today().isoformat()
        self.refresh()


def legend() -> ft.Row:
    def swatch(color: str, text: str) -> ft.Row:
        return ft.Row(
            [
                ft.Container(width=14, height=14, bgcolor=color, border_radius=3),
                ft.Text(text, size=12, color=style.MUTED),
            ],
            spacing=4,
            tight=True,  # as wide as its words: the legend wraps, not one per line
        )

    return ft.Row(
        [
            swatch(FREE_COLOR, "Available — click to book"),
            swatch(OFF_COLOR, "Not available"),
            swatch(ft.Colors.AMBER_100, "Waiting for the therapist"),
            swatch(ft.Colors.TEAL_100, "Confirmed / under way"),
            swatch(ft.Colors.BLUE_GREY_100, "Session done"),
            swatch(ft.Colors.RED_100, "Rejected — to review"),
        ],
        wrap=True,
        spacing=16,
    )


# ---- the day view ---------------------------------------------------------------------


def height_of(minutes: int) -> float:
    return round(minutes * PX_PER_MINUTE, 1)


def day_view(grid: DayGrid, book: BookAt, edit: Edit) -> ft.Control:
    if not grid.columns:
        return ft.Text("No active therapists yet.", color=style.MUTED)
    marks: list[ft.Control] = [ft.Container(height=HEADER_HEIGHT)]
    gutter = ft.Column(
        marks
        + [
            ft.Container(
                ft.Text(hhmm(t), size=11, color=style.MUTED),
                height=height_of(STEP),
                alignment=ft.Alignment.TOP_RIGHT,
                padding=ft.Padding.only(right=6),
            )
            for t in range(grid.first, grid.last, STEP)
        ],
        spacing=0,
        width=GUTTER_WIDTH,
    )
    columns: list[ft.Control] = [gutter]
    for col in grid.columns:
        tid, name = col.therapist["id"], staff_name(col.therapist)
        cells: list[ft.Control] = [
            ft.Container(
                ft.Text(name, weight=ft.FontWeight.W_500, no_wrap=True),
                height=HEADER_HEIGHT,
                alignment=ft.Alignment.CENTER_LEFT,
                padding=ft.Padding.only(left=6),
            )
        ]
        for block in col.blocks:
            if isinstance(block, Booked):
                cells.append(booked_block(block, edit))
            else:
                cells.append(free_cell(block, tid, name, grid.day, book))
        columns.append(
            ft.Semantics(
                identifier=f"calendar-column-{tid}",
                container=True,
                # stretched: a booking block is as wide as its column
                content=ft.Column(
                    cells,
                    spacing=0,
                    width=COLUMN_WIDTH,
                    horizontal_alignment=ft.CrossAxisAlignment.STRETCH,
                ),
            )
        )
    return ft.Row(columns, spacing=4, vertical_alignment=ft.CrossAxisAlignment.START)


def free_cell(cell: Free, tid: str, name: str, day: str, book: BookAt) -> ft.Container:
    start = hhmm(cell.start)

    def clicked(_: ft.Event[ft.Container]) -> None:
        book(tid, day, start)

    on_hour = cell.start % 60 == 0
    return ft.Container(
        height=height_of(cell.end - cell.start),
        bgcolor=FREE_COLOR if cell.available else OFF_COLOR,
        border=ft.Border.only(top=ft.BorderSide(1 if on_hour else 0.5, LINE_COLOR)),
        tooltip=f"Book {name} at {start}" if cell.available
        else f"{name} isn't available at {start}",
        on_click=clicked,
        ink=True,
        data=(tid, day, start),  # what a click books: tests find cells by it
    )


def booked_block(block: Booked, edit: Edit) -> ft.Control:
    lines: list[ft.Control] = []
    for appt in block.appointments:
        lines.append(
            ft.Semantics(
                identifier=f"calendar-appt-{appt['id']}",
                container=True,
                content=ft.Container(
                    ft.Column(
                        [
                            ft.Text(
                                f"{appt.get('start_time', '')}–{appt.get('end_time', '')}",
                                size=11,
                                weight=ft.FontWeight.W_500,
                            ),
                            ft.Text(
                                str(appt.get("client_name") or "Client"),
                                size=13,
                                weight=ft.FontWeight.BOLD,
                                max_lines=1,
                                overflow=ft.TextOverflow.ELLIPSIS,
                            ),
                            # one line: an hour's block has room for three
                            # (the tooltip has the rest)
                            ft.Text(
                                status_text(str(appt["status"]), "operator"),
                                size=11,
                                color=style.MUTED,
                                max_lines=1,
                                overflow=ft.TextOverflow.ELLIPSIS,
                            ),
                        ],
                        spacing=0,
                        tight=True,
                    ),
                    on_click=edit_handler(appt, edit),
                    ink=editable(appt),
                    border_radius=4,
                    data=appt["id"],  # what a click edits: tests find lines by it
                ),
            )
        )
    first = block.appointments[0]
    return ft.Container(
        ft.Column(
            lines,
            spacing=4,
            scroll=ft.ScrollMode.HIDDEN,
            horizontal_alignment=ft.CrossAxisAlignment.STRETCH,  # the whole width clicks
        ),
        height=height_of(block.end - block.start),
        bgcolor=block_color(first),
        border_radius=6,
        border=ft.Border.all(1, LINE_COLOR),
        padding=ft.Padding.symmetric(horizontal=6, vertical=2),
        tooltip="\n".join(
            f"{a.get('client_name') or 'Client'} · {a.get('start_time')}–{a.get('end_time')} · "
            f"{a.get('location') or ''}\n{status_text(str(a['status']), 'operator')}"
            for a in block.appointments
        )
        + ("\nClick to edit" if any(editable(a) for a in block.appointments) else ""),
        data=tuple(a["id"] for a in block.appointments),
    )


# ---- the week view --------------------------------------------------------------------


def week_view(
    grid: WeekGrid, book: BookAt, show_day: Callable[[str], None], edit: Edit
) -> ft.Control:
    if not grid.rows:
        return ft.Text("No active therapists yet.", color=style.MUTED)
    today = clock.today().isoformat()

    def day_header(day: str) -> ft.Control:
        d = date.fromisoformat(day)

        def clicked(_: ft.Event[ft.TextButton]) -> None:
            show_day(day)

        return ft.Container(
            ft.TextButton(
                d.strftime("%a %d"),
                on_click=clicked,
                tooltip=f"Open {d.strftime('%A %d %B')}",
                style=ft.ButtonStyle(
                    text_style=ft.TextStyle(
                        weight=ft.FontWeight.BOLD if day == today else ft.FontWeight.NORMAL
                    )
                ),
            ),
            width=WEEK_CELL_WIDTH,
        )

    header = ft.Row(
        [ft.Container(width=COLUMN_WIDTH - 40), *[day_header(d) for d in grid.days]], spacing=4
    )
    rows: list[ft.Control] = [header]
    for row in grid.rows:
        tid, name = row.therapist["id"], staff_name(row.therapist)
        rows.append(
            ft.Row(
                [
                    ft.Container(
                        ft.Text(name, weight=ft.FontWeight.W_500),
                        width=COLUMN_WIDTH - 40,
                        padding=ft.Padding.only(top=6),
                    ),
                    *[week_cell(cell, tid, name, book, edit) for cell in row.cells],
                ],
                spacing=4,
                vertical_alignment=ft.CrossAxisAlignment.START,
            )
        )
    return ft.Column(rows, spacing=4)


def week_cell(cell: WeekCell, tid: str, name: str, book: BookAt, edit: Edit) -> ft.Control:
    hours = ", ".join(f"{hhmm(s)}–{hhmm(e)}" for s, e in cell.available)
    lines: list[ft.Control] = [
        ft.Text(hours or "Not available", size=11, color=style.MUTED),
    ]
    for appt in cell.bookings:
        lines.append(
            ft.Container(
                ft.Text(
                    f"{appt.get('start_time', '')} {appt.get('client_name') or 'Client'}",
                    size=12,
                    no_wrap=True,
                ),
                bgcolor=block_color(appt),
                border_radius=4,
                padding=ft.Padding.symmetric(horizontal=4, vertical=1),
                tooltip=status_text(str(appt["status"]), "operator")
                + (" — click to edit" if editable(appt) else ""),
                on_click=edit_handler(appt, edit),
                ink=editable(appt),
                data=appt["id"],
            )
        )
    if cell.first_free is not None:
        start = hhmm(cell.first_free)

        def clicked(_: ft.Event[Any]) -> None:
            book(tid, cell.day, start)

        lines.append(
            ft.TextButton(
                "Book",
                icon=ft.Icons.ADD,
                on_click=clicked,
                tooltip=f"Book {name} on {cell.day} from {start}",
                data=(tid, cell.day, start),
            )
        )
    return ft.Semantics(
        identifier=f"calendar-week-{tid}-{cell.day}",
        container=True,
        content=ft.Container(
            ft.Column(lines, spacing=3, tight=True),
            width=WEEK_CELL_WIDTH,
            padding=6,
            border_radius=6,
            bgcolor=FREE_COLOR if cell.available else OFF_COLOR,
        ),
    )


def calendar_section(page: ft.Page, client: ClientPort) -> Section:
    calendar = Calendar(page, client)

    def changed(ch: Changed) -> None:
        if ch.reset:
            calendar.refresh()
        else:
            calendar.changed(ch.keys)

    return Section("calendar", "Calendar", ft.Icons.CALENDAR_MONTH, calendar.root, changed)
