"""Availability manager: one person's slots for a day; add, toggle, edit,
delete, bulk add. Overlaps and bad times are refused by the domain's own
check (the client's immediate local answer) and shown inline."""

from __future__ import annotations

import contextlib
import uuid
from datetime import timedelta
from typing import Any

import flet as ft

from domain.records import Record
from domain.times import parse_time
from views.components import clock, style
from views.components.dialogs import close, modal
from views.components.feedback import snack
from views.port import ClientPort, Key


def _icon_button(icon: ft.IconData, label: str, on_click: Any) -> ft.Control:
    # An IconButton only gets an accessible name through Semantics.
    return ft.Semantics(
        button=True, label=label, content=ft.IconButton(icon, on_click=on_click, tooltip=label)
    )


NEXT_DAY = "Ends the next day"


def ends_next_day(start: str, end: str) -> bool:
    """Whether a slot from `start` to `end` runs past midnight (the rules
    read an end at or before the start as the next day's)."""
    try:
        return parse_time(end) <= parse_time(start)
    except ValueError:
        return False


def span_text(slot: Record) -> str:
    """'09:00–12:00', or '22:00–02:00 next day'."""
    start, end = str(slot.get("start_time") or ""), str(slot.get("end_time") or "")
    return f"{start}–{end}" + (" next day" if ends_next_day(start, end) else "")


def next_day_problem(start: str, end: str, next_day: bool) -> str | None:
    """A slot past midnight must be asked for: an end before the start is
    far more often two times typed the wrong way round."""
    if ends_next_day(start, end) and not next_day:
        return (
            f"The end time {end} is before the start time {start}. "
            f"If the slot ends the next day, tick “{NEXT_DAY}”."
        )
    if next_day and not ends_next_day(start, end):
        try:
            parse_time(start), parse_time(end)
        except ValueError:
            return None  # the domain says what is wrong with the times
        return f"{start}–{end} ends the same day: untick “{NEXT_DAY}”."
    return None


def parse_slots(text: str) -> list[dict[str, str]] | None:
    """'09:00-12:00' per line (or comma separated) -> slots; None if unreadable."""
    slots = []
    for part in text.replace(",", "\n").splitlines():
        part = part.strip().replace("–", "-")
        if not part:
            continue
        bits = [b.strip() for b in part.split("-")]
        if len(bits) != 2:
            return None
        slots.append({"start_time": bits[0], "end_time": bits[1]})
    return slots or None


class AvailabilityManager:
    def __init__(self, page: ft.Page, client: ClientPort, user_id: str | None = None) -> None:
        self.page = page
        self.client = client
        self.user_id = user_id or client.actor.id
        self.day = clock.today()
        self.day_text = ft.Text(size=18, weight=ft.FontWeight.BOLD)
        self.slots = ft.Column(spacing=4)
        # The empty state sits beside the card, not in it: Flutter's web
        # engine leaves the card's reused semantics node without the text
        # once its last slot row goes (painted, but gone for screen readers).
        self.empty = ft.Text("No slots for this day yet.", italic=True, color=style.MUTED)
        self.card = ft.Card(ft.Container(self.slots, padding=12))
        self.start = ft.TextField(label="Start", hint_text="09:00", width=120)
        self.end = ft.TextField(label="End", hint_text="12:00", width=120)
        self.next_day = ft.Checkbox(label=NEXT_DAY, value=False)
        self.error = ft.Text(color=style.BAD, visible=False)
        self.bulk = ft.TextField(
            label="Slots for the day",
            hint_text="09:00-12:00, 14:00-18:00",
            width=300,
        )
        self.bulk_error = ft.Text(color=style.BAD, visible=False)
        add = ft.FilledButton(
            "Add slot", icon=ft.Icons.ADD, on_click=self._add, height=style.BUTTON_HEIGHT
        )
        bulk_add = ft.FilledTonalButton(
            "Add all", on_click=self._bulk_add, height=style.BUTTON_HEIGHT
        )
        self.root = ft.Semantics(
            identifier="availability",
            container=True,
            content=ft.Column(
                [
                    ft.Row(
                        [
                            _icon_button(ft.Icons.CHEVRON_LEFT, "Previous day", self._prev),
                            self.day_text,
                            _icon_button(ft.Icons.CHEVRON_RIGHT, "Next day", self._next),
                        ]
                    ),
                    self.empty,
                    self.card,
                    ft.Text("Add a slot", weight=ft.FontWeight.BOLD),
                    ft.Row([self.start, self.end, self.next_day, add], wrap=True),
                    self.error,
                    ft.Text("Bulk add for this day", weight=ft.FontWeight.BOLD),
                    ft.Row([self.bulk, bulk_add], wrap=True),
                    self.bulk_error,
                ],
                spacing=12,
            ),
        )
        self._render()

    # ---- rendering
    def mine(self) -> list[Record]:
        day = self.day.isoformat()
        rows = [
            r
            for r in self.client.view().all("availability")
            if r.get("user_id") == self.user_id and r.get("date") == day
        ]
        return sorted(rows, key=lambda r: (str(r.get("start_time")), str(r["id"])))

    def _render(self) -> None:
        self.day_text.value = (
            "Today" if self.day == clock.today() else self.day.strftime("%a %d %b %Y")
        )
        rows = [self._row(r) for r in self.mine()]
        self.empty.visible = not rows
        self.card.visible = bool(rows)
        self.slots.controls = rows

    def refresh(self) -> None:
        self._render()
        with contextlib.suppress(RuntimeError):
            self.root.update()

    def changed(self, keys: frozenset[Key]) -> None:
        if any(entity == "availability" for entity, _ in keys):
            self.refresh()

    def _row(self, slot: Record) -> ft.Control:
        sid = slot["id"]
        waiting = self.client.is_pending("availability", sid)
        span = span_text(slot)

        async def toggle(e: ft.Event[ft.Switch]) -> None:
            await self._send("availability.update", sid, {"available": bool(e.control.value)})

        async def delete(_: ft.Event[ft.IconButton]) -> None:
            if await self._send("availability.delete", sid, {}):
                snack(self.page, f"Slot {span} deleted", action="Undo", on_action=undo)

        async def undo() -> None:
            # the slot comes back as a new one with the same times and switch
            args = {k: slot.get(k) for k in ("user_id", "date", "start_time", "end_time")}
            args["available"] = bool(slot.get("available"))
            await self._send("availability.create", str(uuid.uuid4()), args)

        def edit(_: ft.Event[ft.IconButton]) -> None:
            self._edit(slot)

        return ft.Semantics(
            identifier=f"slot-{sid}",
            container=True,
            label=f"Slot {span}, {'available' if slot.get('available') else 'off'}",
            # The switch goes under the time, not beside it: on a 360 px phone
            # a row of time, labelled switch and two buttons pushed the delete
            # button off the screen.
            content=ft.Row(
                [
                    ft.Column(
                        [
                            ft.Text(span, size=16, weight=ft.FontWeight.W_500),
                            ft.Switch(
                                label="Available",
                                value=bool(slot.get("available")),
                                on_change=toggle,
                            ),
                            *(
                                [ft.Text("Waiting to sync", color=style.WARN, size=12)]
                                if waiting
                                else []
                            ),
                        ],
                        spacing=2,
                        tight=True,
                        expand=True,
                    ),
                    _icon_button(ft.Icons.EDIT, f"Edit slot {span}", edit),
                    _icon_button(ft.Icons.DELETE_OUTLINE, f"Delete slot {span}", delete),
                ],
                wrap=False,
            ),
        )

    # ---- intents
    async def _send(
        self, name: str, target: str | None, args: dict[str, Any], error: ft.Text | None = None
    ) -> bool:
        result = await self.client.dispatch(name, target, args)
        self._render()
        if error is not None:
            error.value = "" if result.ok else result.message
            error.visible = not result.ok
        elif not result.ok:
            snack(self.page, result.message, ok=False)
        with contextlib.suppress(RuntimeError):
            self.root.update()
        return result.ok

    def _refuse(self, error: ft.Text, problem: str | None) -> bool:
        """Show `problem` under the form; whether there was one."""
        error.value = problem or ""
        error.visible = problem is not None
        return problem is not None

    async def _add(self, _: ft.Event[ft.Button]) -> None:
        start, end = (self.start.value or "").strip(), (self.end.value or "").strip()
        args = {
            "user_id": self.user_id,
            "date": self.day.isoformat(),
            "start_time": start,
            "end_time": end,
            "available": True,
        }
        if self._refuse(self.error, next_day_problem(start, end, bool(self.next_day.value))):
            self.root.update()
            return
        if await self._send("availability.create", str(uuid.uuid4()), args, self.error):
            self.start.value = ""
            self.end.value = ""
            self.next_day.value = False
            self.root.update()

    async def _bulk_add(self, _: ft.Event[ft.Button]) -> None:
        slots = parse_slots(self.bulk.value or "")
        if slots is None:
            self.bulk_error.value = "Write slots like 09:00-12:00, 14:00-18:00."
            self.bulk_error.visible = True
            self.root.update()
            return
        late = [s for s in slots if ends_next_day(s["start_time"], s["end_time"])]
        if late:
            first = late[0]
            self.bulk_error.value = (
                f"{first['start_time']}-{first['end_time']} ends before it starts. "
                f"Add a slot that ends the next day on its own, with “{NEXT_DAY}”."
            )
            self.bulk_error.visible = True
            self.root.update()
            return
        args = {"user_id": self.user_id, "date": self.day.isoformat(), "slots": slots}
        if await self._send("availability.bulk_create", None, args, self.bulk_error):
            self.bulk.value = ""
            self.root.update()

    def _edit(self, slot: Record) -> None:
        start = ft.TextField(label="Start", value=str(slot.get("start_time") or ""), width=120)
        end = ft.TextField(label="End", value=str(slot.get("end_time") or ""), width=120)
        next_day = ft.Checkbox(
            label=NEXT_DAY,
            value=ends_next_day(str(slot.get("start_time")), str(slot.get("end_time"))),
        )
        error = ft.Text(color=style.BAD, visible=False)

        async def save(_: ft.Event[ft.Button]) -> None:
            times = {
                "start_time": (start.value or "").strip(),
                "end_time": (end.value or "").strip(),
            }
            problem = next_day_problem(
                times["start_time"], times["end_time"], bool(next_day.value)
            )
            if self._refuse(error, problem):
                dlg.update()
                return
            result = await self.client.dispatch("availability.update", slot["id"], times)
            if not result.ok:
                error.value = result.message
                error.visible = True
                dlg.update()
                return
            close(dlg)
            self.refresh()

        dlg = modal(
            self.page,
            "Edit slot",
            ft.Column([ft.Row([start, end], wrap=True), next_day, error], tight=True),
            ft.FilledButton("Save", on_click=save),
        )

    async def _prev(self, _: ft.Event[ft.IconButton]) -> None:
        self.day -= timedelta(days=1)
        self.refresh()

    async def _next(self, _: ft.Event[ft.IconButton]) -> None:
        self.day += timedelta(days=1)
        self.refresh()
