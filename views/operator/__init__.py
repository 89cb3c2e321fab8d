"""The operator's console: the work queues first, then every appointment."""

from __future__ import annotations

from functools import partial
from typing import Any

import flet as ft

from domain.overdue import overdue
from domain.records import Record
from domain.status import TERMINAL, Status
from views.components.board import Board, Group
from views.components.feedback import snack
from views.components.runner import ActionRunner
from views.components.section import Section
from views.operator import dialogs
from views.operator.activity import activity_section
from views.operator.attendance import attendance_section
from views.operator.booking import open_booking, retry_booking
from views.operator.calendar import calendar_section
from views.operator.charts import charts_section
from views.operator.clients import clients_section
from views.operator.inventory import inventory_section
from views.operator.queues import QueueBoard
from views.operator.reports import reports_section
from views.operator.runner import OperatorRunner
from views.operator.staff import staff_section
from views.operator.table import AppointmentTable
from views.port import Changed, ClientPort, Result


def classify(appt: Record) -> str | None:
    return "closed" if Status(appt["status"]) in TERMINAL else "open"


def queues_section(page: ft.Page, client: ClientPort) -> Section:
    async def cancel_overdue(_: ft.Event[ft.Button]) -> None:
        count = len(overdue(client.view().all("appointment"), queues.now()))
        if not count:
            snack(page, "Nothing is overdue any more.")
            return

        async def send(_: dict[str, Any]) -> Result:
            result = await client.dispatch("appointments.auto_cancel_overdue", None, {})
            if result.ok:
                snack(page, f"Cancelling {count} overdue — saved when the server confirms")
            return result

        dialogs.confirm_overdue(page, count, send)

    overdue_button = ft.FilledTonalButton(
        "Cancel overdue", icon=ft.Icons.EVENT_BUSY, on_click=cancel_overdue
    )
    queues = QueueBoard(client, OperatorRunner(page, client), extra={"overdue": overdue_button})

    def book(_: ft.Event[ft.Button]) -> None:
        open_booking(page, client)

    queues.root.controls.insert(
        0, ft.Row([ft.FilledButton("New appointment", icon=ft.Icons.ADD, on_click=book)])
    )

    def changed(ch: Changed) -> None:
        if ch.reset:
            queues.reset()
            queues.changed(frozenset())
        else:
            queues.changed(ch.keys)

    page.run_task(queues.run_ticks)
    return Section(
        "queues", "Queues", ft.Icons.INBOX, queues.root, changed, queues.sync_marks,
        retry={"appointment.create": partial(retry_booking, page, client)},
    )


def sections(page: ft.Page, client: ClientPort) -> list[Section]:
    board = Board(
        client,
        [
            Group("open", "Open appointments", "No open appointments."),
            Group("closed", "Closed", "Nothing closed yet."),
        ],
        classify,
        ActionRunner(page, client),
    )

    def changed(ch: Changed) -> None:
        if ch.reset:
            board.reset()
        else:
            board.changed(ch.keys)

    table = AppointmentTable(client)

    def table_changed(ch: Changed) -> None:
        if ch.reset:
            table.reset()
        else:
            table.changed(ch.keys)

    return [
        queues_section(page, client),
        calendar_section(page, client),
        Section(
            "table", "All appointments", ft.Icons.TABLE_ROWS, table.root, table_changed,
            short="Table",
        ),
        # Open and closed appointments as cards: the one place to start or
        # cancel any open appointment (the queues offer cancel on pending ones only)
        Section(
            "board", "Appointments", ft.Icons.DASHBOARD, board.root, changed, board.sync_marks,
            short="Board",
        ),
        staff_section(page, client),
        clients_section(client),
        activity_section(client),
        charts_section(page, client),
        inventory_section(page, client),
        attendance_section(page, client),
        reports_section(page, client),
    ]
