"""The therapist's screen (tablet first): appointments grouped by what needs
doing, and the availability manager."""

from __future__ import annotations

from collections.abc import Callable

import flet as ft

from domain.records import Record
from domain.status import TERMINAL, Status
from views.components import clock
from views.components.actions import actions_for
from views.components.attendance import attendance_section
from views.components.availability import AvailabilityManager
from views.components.board import Board, Group
from views.components.runner import ActionRunner
from views.components.section import Section
from views.port import Changed, ClientPort


def classify_for(client: ClientPort) -> Callable[[Record], str | None]:
    def classify(appt: Record) -> str | None:
        status = Status(appt["status"])
        actions = set(actions_for(appt, client.actor))
        if "accept" in actions:
            return "answer"
        if actions - {"reject"}:
            return "turn"
        if status in TERMINAL or status == Status.REJECTED:
            # finished ones only while they are today's news
            return "done" if str(appt.get("date")) >= clock.today().isoformat() else None
        return "waiting"

    return classify


def sections(page: ft.Page, client: ClientPort) -> list[Section]:
    board = Board(
        client,
        [
            Group("answer", "Needs your answer", "No new requests."),
            Group("turn", "Your turn", "Nothing for you to do right now."),
            Group("waiting", "Waiting on others", "Nothing in motion."),
            Group("done", "Done", "Nothing finished yet today."),
        ],
        classify_for(client),
        ActionRunner(page, client),
    )
    availability = AvailabilityManager(page, client)

    def appointments_changed(changed: Changed) -> None:
        if changed.reset:
            board.reset()
        else:
            board.changed(changed.keys)

    def availability_changed(changed: Changed) -> None:
        if changed.reset:
            availability.refresh()
        else:
            availability.changed(changed.keys)

    return [
        Section(
            "appointments",
            "Appointments",
            ft.Icons.EVENT_NOTE,
            board.root,
            appointments_changed,
            board.sync_marks,
            short="Bookings",
        ),
        Section(
            "availability",
            "Availability",
            ft.Icons.SCHEDULE,
            availability.root,
            availability_changed,
            availability.refresh,
        ),
        attendance_section(page, client),
    ]
