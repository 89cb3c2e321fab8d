"""The driver's screen (phone first, big touch targets): the current trip
first, then the assigned list; on / off duty."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

import flet as ft

from domain.records import Record
from domain.status import DRIVER_BUSY, RETURN_BUSY, TERMINAL, Status
from views.components import clock
from views.components.attendance import attendance_section
from views.components.board import Board, Group
from views.components.feedback import snack
from views.components.runner import ActionRunner
from views.components.section import Section
from views.port import Changed, ClientPort


def classify_for(client: ClientPort) -> Callable[[Record], str | None]:
    me = client.actor.id
    # "today", read once a second: a phone's cache holds months of finished
    # trips, each asking (a board's load classifies them all)
    today: list[Any] = ["", -1.0]  # [iso date, monotonic time read]

    def today_iso() -> str:
        now = time.monotonic()
        if now - today[1] >= 1.0:
            today[:] = [clock.today().isoformat(), now]
        return str(today[0])

    def classify(appt: Record) -> str | None:
        status = appt["status"]  # a Status is its string: no enum lookup per record
        if status in TERMINAL or status == Status.REJECTED:
            return "done" if str(appt.get("date")) >= today_iso() else None
        if status in DRIVER_BUSY:
            # the outbound trip is the assigned driver's; the return trip the pickup driver's
            theirs = (
                appt.get("pickup_driver_id")
                if status in RETURN_BUSY
                else appt.get("driver_id")
            )
            return "current" if theirs == me else "assigned"
        return "assigned"

    return classify


class DutySwitch:
    def __init__(self, page: ft.Page, client: ClientPort) -> None:
        self.page = page
        self.client = client
        self.switch = ft.Switch(label="On duty", on_change=self._toggle)
        self.root = ft.Semantics(identifier="duty", content=self.switch)
        self.show(send=False)

    def show(self, send: bool = True) -> None:
        me = self.client.view().get("staff", self.client.actor.id) or {}
        self.switch.value = bool(me.get("on_duty"))
        self.switch.label = "On duty" if self.switch.value else "Off duty"
        if send:
            with contextlib.suppress(RuntimeError):
                self.root.update()

    async def _toggle(self, e: ft.Event[ft.Switch]) -> None:
        result = await self.client.dispatch(
            "staff.set_duty", self.client.actor.id, {"on_duty": bool(e.control.value)}
        )
        if not result.ok:
            snack(self.page, result.message, ok=False)
        self.show()


def sections(page: ft.Page, client: ClientPort) -> list[Section]:
    board = Board(
        client,
        [
            Group("current", "Current trip", "No trip under way.", big=True),
            Group("assigned", "Assigned to you", "Nothing assigned yet.", big=True),
            Group("done", "Done", "Nothing finished yet today.", big=True),
        ],
        classify_for(client),
        ActionRunner(page, client),
        columns={"xs": 12, "md": 6, "xl": 4},
    )
    duty = DutySwitch(page, client)
    root = ft.Column(
        [ft.Row([duty.root], alignment=ft.MainAxisAlignment.END), board.root], spacing=12
    )

    def changed(ch: Changed) -> None:
        if ch.reset:
            board.reset()
            duty.show()
            return
        board.changed(ch.keys)
        if ("staff", client.actor.id) in ch.keys:
            duty.show()

    return [
        Section("trips", "Trips", ft.Icons.DIRECTIONS_CAR, root, changed, board.sync_marks),
        attendance_section(page, client),
    ]
