"""The detail panel beside the all-appointments table: the chosen
appointment's timeline — who did what, when — as the server's event log
tells it ("Ana Reyes accepted · 14:02").

The history isn't in the client's cache, so the panel asks the server
(`ClientPort.timeline`) when a row is chosen and again when that appointment
changes; it shows a spinner while asking and the port's friendly words when it
can't. Only the newest answer is drawn: a slow reply for a row chosen before
never overwrites the one chosen since.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime

import flet as ft

from domain.records import Record
from domain.status import Status, status_text
from domain.times import parse_instant
from views.components import clock, style
from views.components.card import when_text
from views.components.receipt import photo
from views.port import ClientPort, Key, ServerRefused, TimelineEntry, TimelineUnavailable

PANEL_WIDTH = 380

ROLE_ICONS: dict[str | None, ft.IconData] = {
    "operator": ft.Icons.HEADSET_MIC,
    "therapist": ft.Icons.SPA,
    "driver": ft.Icons.DIRECTIONS_CAR,
    "system": ft.Icons.SETTINGS,
}
STATUSES = frozenset(s.value for s in Status)


def local_time(at: str) -> datetime | None:
    try:
        return clock.local(parse_instant(at))
    except (ValueError, TypeError):
        return None


def line_text(entry: TimelineEntry, me: str | None) -> str:
    """ "Ana Reyes accepted · 14:02" (the business's clock)."""
    who = "You" if me and entry.actor_id == me else entry.actor_name
    when = local_time(entry.at)
    return f"{who} {entry.summary}" + (f" · {when.strftime('%H:%M')}" if when else "")


def status_line(entry: TimelineEntry) -> str | None:
    """Where the step left the appointment, when it moved it."""
    after = entry.status_after
    if after is None or after == entry.status_before or after not in STATUSES:
        return None
    return f"→ {status_text(after, 'operator')}"


class TimelinePanel:
    def __init__(self, client: ClientPort, on_close: Callable[[], None] = lambda: None) -> None:
        self.client = client
        self.on_close = on_close  # the table un-highlights its row
        self.appt_id: str | None = None
        self.asked = 0  # answers to older questions are dropped
        self.task: asyncio.Task[None] | None = None  # a live reload in flight
        self.title = ft.Text(size=16, weight=ft.FontWeight.BOLD, expand=True)
        self.subtitle = ft.Text(color=style.MUTED, size=13)
        self.waiting = ft.Text(
            "Changes waiting to sync join the history once the server has them.",
            color=style.WARN,
            size=12,
            visible=False,
        )
        self.body = ft.Column(spacing=6)
        close = ft.Semantics(
            button=True,
            label="Close history",
            content=ft.IconButton(ft.Icons.CLOSE, tooltip="Close", on_click=self._close),
        )
        self.root = ft.Semantics(
            identifier="timeline-panel",
            container=True,
            content=ft.Container(
                ft.Column(
                    [
                        ft.Row([self.title, close]),
                        self.subtitle,
                        self.waiting,
                        ft.Divider(height=1),
                        self.body,
                    ],
                    spacing=8,
                    tight=True,
                ),
                width=PANEL_WIDTH,
                padding=16,
                border_radius=8,
                bgcolor=ft.Colors.SURFACE_CONTAINER_LOW,
            ),
        )
        self.root.visible = False

    # ---- intents
    async def open(self, appt_id: str) -> None:
        """Show `appt_id`'s history: a spinner at once, the entries when the
        server answers."""
        self.appt_id = appt_id
        self.root.visible = True
        await self.load()

    def close(self) -> None:
        self.appt_id = None
        self.asked += 1  # an answer still on its way is for nobody now
        self.root.visible = False
        self._update()

    async def load(self) -> None:
        if self.appt_id is None:
            return
        self.asked += 1
        question, appt_id = self.asked, self.appt_id
        self._header()
        self.body.controls = [loading()]
        self._update()
        try:
            entries = await self.client.timeline(appt_id)
        except TimelineUnavailable as exc:
            if question == self.asked:
                self.body.controls = [self._problem(str(exc))]
                self._update()
            return
        if question == self.asked:
            self.body.controls = self._entries(entries)
            self._update()
        shown = await self._receipts(appt_id)
        if shown and question == self.asked:
            self.body.controls = [*self.body.controls, *shown]
            self._update()

    async def _receipts(self, appt_id: str) -> list[ft.Control]:
        """The receipt photos the payment steps name (the therapist's at the
        door, the operator's when verifying), asked of the server."""
        appt: Record = self.client.view().get("appointment", appt_id) or {}
        named = [(appt.get("payment_claim") or {}).get("receipt_id"),
                 (appt.get("payment") or {}).get("receipt_id")]
        out: list[ft.Control] = []
        for rid in dict.fromkeys(r for r in named if r):
            try:
                data = await self.client.receipt(appt_id, rid)
            except ServerRefused as exc:
                out.append(ft.Text(f"A receipt photo can't be shown: {exc.message}",
                                   color=style.BAD, size=12))
                continue
            out.append(photo(data, f"timeline-receipt-{rid[:12]}", size=220))
        if out:
            out.insert(0, ft.Text("Receipt", size=12, weight=ft.FontWeight.BOLD,
                                  color=style.MUTED))
        return out

    def changed(self, keys: frozenset[Key]) -> None:
        """The shown appointment changed: ask again (its newest step may be
        in the log now)."""
        if self.appt_id is not None and ("appointment", self.appt_id) in keys:
            self.reload()

    def reload(self) -> None:
        if self.appt_id is None:
            return
        # changes arrive inside the session's task (views.shell): ask from there
        self.task = asyncio.get_running_loop().create_task(self.load())

    # ---- drawing
    def _header(self) -> None:
        appt: Record | None = self.client.view().get("appointment", self.appt_id or "")
        if appt is None:
            self.title.value, self.subtitle.value = "Appointment", ""
            self.waiting.visible = False
            return
        self.title.value = str(appt.get("client_name") or "Appointment")
        self.subtitle.value = (
            f"{when_text(appt)} · {status_text(str(appt['status']), 'operator')}"
        )
        self.waiting.visible = self.client.is_pending("appointment", appt["id"])

    def _entries(self, entries: list[TimelineEntry]) -> list[ft.Control]:
        if not entries:
            return [
                ft.Text(
                    "No steps of this appointment are in the server's log any more.",
                    color=style.MUTED,
                )
            ]
        me = str(self.client.user.get("id") or "") or None
        out: list[ft.Control] = []
        day = None
        for entry in entries:
            when = local_time(entry.at)
            if when is not None and when.date() != day:
                day = when.date()
                out.append(
                    ft.Text(
                        when.strftime("%A %d %B"),
                        size=12,
                        weight=ft.FontWeight.BOLD,
                        color=style.MUTED,
                    )
                )
            out.append(entry_line(entry, me))
        return out

    def _problem(self, message: str) -> ft.Control:
        async def retry(_: ft.Event[ft.TextButton]) -> None:
            await self.load()

        return ft.Semantics(
            identifier="timeline-problem",
            live_region=True,
            content=ft.Column(
                [
                    ft.Text(message, color=style.BAD),
                    ft.TextButton("Try again", icon=ft.Icons.REFRESH, on_click=retry),
                ],
                tight=True,
            ),
        )

    def _close(self, _: ft.Event[ft.IconButton]) -> None:
        self.close()
        self.on_close()

    def _update(self) -> None:
        with contextlib.suppress(RuntimeError):  # not on the page yet
            self.root.update()


def loading() -> ft.Control:
    return ft.Semantics(
        identifier="timeline-loading",
        content=ft.Row(
            [
                ft.ProgressRing(width=16, height=16, stroke_width=2),
                ft.Text("Loading the history…", color=style.MUTED),
            ],
            spacing=8,
        ),
    )


def entry_line(entry: TimelineEntry, me: str | None) -> ft.Control:
    lines: list[ft.Control] = [ft.Text(line_text(entry, me))]
    moved = status_line(entry)
    if moved:
        lines.append(ft.Text(moved, size=12, color=style.MUTED))
    return ft.Semantics(
        identifier=f"timeline-entry-{entry.seq}",
        container=True,
        content=ft.Row(
            [
                ft.Icon(ROLE_ICONS.get(entry.actor_role, ft.Icons.HISTORY), size=18,
                        color=style.MUTED),
                ft.Column(lines, spacing=0, tight=True, expand=True),
            ],
            spacing=8,
            vertical_alignment=ft.CrossAxisAlignment.START,
        ),
    )
