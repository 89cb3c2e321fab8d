"""The operator's place in the shell. The console (queues, calendar,
payments, live activity) is its own piece of work; until it lands this lists
every appointment with the operator actions a card can run directly."""

from __future__ import annotations

import flet as ft

from domain.records import Record
from domain.status import TERMINAL, Status
from views.components.board import Board, Group
from views.components.runner import ActionRunner
from views.components.section import Section
from views.port import Changed, ClientPort


def classify(appt: Record) -> str | None:
    return "closed" if Status(appt["status"]) in TERMINAL else "open"


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

    return [
        Section("board", "Appointments", ft.Icons.DASHBOARD, board.root, changed, board.sync_marks)
    ]
