"""All appointments as a table: filter by date range, status, therapist and
driver, search by client, sort by a column. Filtering is only about what
to show; the status words come from `domain.status`. Choosing a row opens
its timeline beside the table (views.operator.timeline)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import flet as ft

from domain.records import Record, staff_name
from domain.status import Status, status_text
from views.operator.timeline import TimelinePanel
from views.port import ClientPort, Key

ANY = "any"


@dataclass
class Filters:
    date_from: str = ""
    date_to: str = ""
    status: str = ANY
    therapist: str = ANY
    driver: str = ANY
    search: str = ""

    def keep(self, appt: Record) -> bool:
        day = str(appt.get("date") or "")
        if self.date_from and day < self.date_from:
            return False
        if self.date_to and day > self.date_to:
            return False
        if self.status != ANY and appt.get("status") != self.status:
            return False
        if self.therapist != ANY and self.therapist not in (appt.get("therapist_ids") or []):
            return False
        if self.driver != ANY and self.driver not in (
            appt.get("driver_id"),
            appt.get("pickup_driver_id"),
        ):
            return False
        words = self.search.strip().lower()
        return not words or words in str(appt.get("client_name") or "").lower()


# column title -> sort key
COLUMNS: tuple[tuple[str, Callable[[Record], Any]], ...] = (
    ("Date", lambda a: (str(a.get("date") or ""), str(a.get("start_time") or ""))),
    ("Time", lambda a: str(a.get("start_time") or "")),
    ("Client", lambda a: str(a.get("client_name") or "").lower()),
    ("Status", lambda a: str(a.get("status") or "")),
    ("Therapists", lambda a: ",".join(a.get("therapist_ids") or [])),
    ("Driver", lambda a: str(a.get("driver_id") or "")),
)


class AppointmentTable:
    def __init__(self, client: ClientPort) -> None:
        self.client = client
        self.filters = Filters()
        self.sort_column = 0
        self.ascending = True
        snap = client.view()
        staff = sorted(snap.all("staff"), key=staff_name)

        def people(role: str) -> list[ft.DropdownOption]:
            return [ft.DropdownOption(key=ANY, text="Anyone")] + [
                ft.DropdownOption(key=s["id"], text=staff_name(s))
                for s in staff
                if s.get("role") == role
            ]

        self.search = ft.TextField(
            label="Search client", prefix_icon=ft.Icons.SEARCH, width=220, on_change=self._filter
        )
        self.date_from = ft.TextField(
            label="From", hint_text="YYYY-MM-DD", width=140, on_change=self._filter
        )
        self.date_to = ft.TextField(
            label="To", hint_text="YYYY-MM-DD", width=140, on_change=self._filter
        )
        self.status = ft.Dropdown(
            label="Status",
            value=ANY,
            width=220,
            options=[ft.DropdownOption(key=ANY, text="Any status")]
            + [ft.DropdownOption(key=s.value, text=status_text(s.value)) for s in Status],
            on_select=self._filter,
        )
        self.therapist = ft.Dropdown(
            label="Therapist",
            value=ANY,
            width=180,
            options=people("therapist"),
            on_select=self._filter,
        )
        self.driver = ft.Dropdown(
            label="Driver", value=ANY, width=180, options=people("driver"), on_select=self._filter
        )
        self.shown = ft.Text()
        self.selected: str | None = None  # the row whose timeline is open
        self.timeline = TimelinePanel(client, on_close=self._unselect)
        self.table = ft.DataTable(
            columns=[
                ft.DataColumn(label=ft.Text(title), on_sort=self._sort) for title, _ in COLUMNS
            ],
            rows=[],
        )
        self.root = ft.Semantics(
            identifier="appointment-table",
            container=True,
            content=ft.Column(
                [
                    ft.Row(
                        [
                            self.search,
                            self.date_from,
                            self.date_to,
                            self.status,
                            self.therapist,
                            self.driver,
                        ],
                        wrap=True,
                        spacing=12,
                        run_spacing=12,
                    ),
                    self.shown,
                    ft.Row(
                        [
                            ft.Row([self.table], scroll=ft.ScrollMode.AUTO, expand=True),
                            self.timeline.root,
                        ],
                        vertical_alignment=ft.CrossAxisAlignment.START,
                        spacing=16,
                    ),
                ],
                spacing=12,
            ),
        )
        self.render()

    def rows(self) -> list[Record]:
        key = COLUMNS[self.sort_column][1]
        kept = [a for a in self.client.view().all("appointment") if self.filters.keep(a)]
        return sorted(kept, key=key, reverse=not self.ascending)

    def render(self) -> None:
        snap = self.client.view()

        def name(uid: str | None) -> str:
            return staff_name(snap.get("staff", uid)) if uid else "—"

        rows = self.rows()
        self.shown.value = f"{len(rows)} appointments"
        self.table.sort_column_index = self.sort_column
        self.table.sort_ascending = self.ascending
        self.table.rows = [
            ft.DataRow(
                cells=[
                    ft.DataCell(ft.Text(str(a.get("date") or ""))),
                    ft.DataCell(ft.Text(f"{a.get('start_time', '')}–{a.get('end_time', '')}")),
                    ft.DataCell(ft.Text(str(a.get("client_name") or ""))),
                    ft.DataCell(ft.Text(status_text(str(a["status"]), "operator"))),
                    ft.DataCell(ft.Text(", ".join(name(t) for t in a.get("therapist_ids") or []))),
                    ft.DataCell(ft.Text(name(a.get("driver_id")))),
                ],
                selected=a["id"] == self.selected,
                on_select_change=self._row_chosen,
                data=a["id"],
            )
            for a in rows
        ]

    def changed(self, keys: frozenset[Key]) -> None:
        if any(entity == "appointment" for entity, _ in keys):
            self.refresh()
        self.timeline.changed(keys)

    def reset(self) -> None:
        """Everything may have changed (a re-bootstrap)."""
        self.refresh()
        self.timeline.reload()

    def refresh(self) -> None:
        self.render()
        with contextlib.suppress(RuntimeError):
            self.root.update()

    def _filter(self, _: ft.Event[Any]) -> None:
        self.filters = Filters(
            date_from=(self.date_from.value or "").strip(),
            date_to=(self.date_to.value or "").strip(),
            status=self.status.value or ANY,
            therapist=self.therapist.value or ANY,
            driver=self.driver.value or ANY,
            search=self.search.value or "",
        )
        self.refresh()

    async def _row_chosen(self, e: ft.Event[ft.DataRow]) -> None:
        # a click on the open row closes it, on another row switches to it
        appt_id = str(e.control.data)
        if appt_id == self.selected:
            self.timeline.close()
            self._unselect()
            return
        self.selected = appt_id
        self._mark_selected()
        await self.timeline.open(appt_id)

    def _unselect(self) -> None:
        self.selected = None
        self._mark_selected()

    def _mark_selected(self) -> None:
        for row in self.table.rows or []:
            row.selected = row.data == self.selected
        with contextlib.suppress(RuntimeError):
            self.table.update()

    def _sort(self, e: ft.DataColumnSortEvent) -> None:
        self.sort_column = int(e.column_index)
        self.ascending = bool(e.ascending)
        self.refresh()
