"""The create / edit appointment dialog.

Every check is the domain's: each field is validated with `domain.validate`
(the same words the server answers with), and the slot with
`domain.booking.slot_problem`, which says why it isn't possible (a therapist
not available then, or already booked) while the operator is still
choosing. A new booking is dispatched optimistically, so it shows at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import flet as ft

from domain import validate as v
from domain.booking import slot_problem
from domain.records import Record, client_name, staff_name
from domain.stock import is_active
from views.components import clock, style
from views.components.dialogs import close
from views.components.feedback import DIDNT_WORK, snack
from views.operator.dialogs import checked
from views.port import ClientPort, QueuedCommand

NO_DRIVER = "none"


class BookingDialog:
    """One open dialog; `appt` set means editing that appointment. A new
    booking may start from `prefill`, a partial appointment record (the
    calendar passes the therapist, date and start time of the slot clicked)."""

    def __init__(
        self,
        page: ft.Page,
        client: ClientPort,
        appt: Record | None = None,
        prefill: Mapping[str, Any] | None = None,
        on_saved: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.page = page
        self.client = client
        self.appt = appt
        self.on_saved = on_saved  # after the change is taken (e.g. drop the refused one)
        snap = client.view()
        a = appt or prefill or {}
        self.client_pick = ft.Dropdown(
            label="Client",
            value=a.get("client_id"),
            options=self._client_options(),
            enable_filter=True,
            editable=True,
            width=300,
            on_select=self._client_chosen,
        )
        self.new_client = ft.FilledTonalButton(
            "New client", icon=ft.Icons.PERSON_ADD, on_click=self._open_quick_add
        )
        self.quick = QuickAdd(client, self._client_added)
        self.services = [
            ft.Checkbox(
                label=str(s.get("name")),
                value=s["id"] in (a.get("service_ids") or []),
                data=s["id"],
            )
            for s in sorted(snap.all("service"), key=lambda s: str(s.get("name")))
            # on offer, or already on this booking (old bookings keep theirs)
            if is_active(s) or s["id"] in (a.get("service_ids") or [])
        ]
        therapists = [
            t
            for t in sorted(snap.all("staff"), key=staff_name)
            if t.get("role") == "therapist" and t.get("active", True)
        ]
        self.therapists = [
            ft.Checkbox(
                label=staff_name(t),
                value=t["id"] in (a.get("therapist_ids") or []),
                data=t["id"],
                on_change=self._recheck,
            )
            for t in therapists
        ]
        drivers = [
            d
            for d in sorted(snap.all("staff"), key=staff_name)
            if d.get("role") == "driver" and d.get("active", True)
        ]
        self.driver = ft.Dropdown(
            label="Driver",
            value=a.get("driver_id") or NO_DRIVER,
            options=[
                ft.DropdownOption(key=NO_DRIVER, text="No driver yet"),
                *[ft.DropdownOption(key=d["id"], text=staff_name(d)) for d in drivers],
            ],
            width=220,
        )
        self.date = ft.TextField(
            label="Date",
            value=str(a.get("date") or clock.today().isoformat()),
            hint_text="YYYY-MM-DD",
            width=150,
            on_change=self._recheck,
        )
        self.start = ft.TextField(
            label="Start",
            value=str(a.get("start_time") or ""),
            hint_text="HH:MM",
            width=100,
            on_change=self._recheck,
        )
        self.end = ft.TextField(
            label="End",
            value=str(a.get("end_time") or ""),
            hint_text="HH:MM",
            width=100,
            on_change=self._recheck,
        )
        self.location = ft.TextField(label="Location", value=str(a.get("location") or ""))
        self.notes = ft.TextField(
            label="Notes", value=str(a.get("notes") or ""), multiline=True, min_lines=2
        )
        self.services_error = ft.Text(color=style.BAD, visible=False)
        self.therapists_error = ft.Text(color=style.BAD, visible=False)
        # why the chosen slot is not possible, kept current while choosing
        self.problem = ft.Semantics(
            identifier="slot-problem", live_region=True, content=ft.Text(color=style.BAD)
        )
        self.problem.visible = False
        self.error = ft.Text(color=style.BAD, visible=False)
        title = "Edit appointment" if appt else "New appointment"
        self.dialog = ft.AlertDialog(
            modal=True,
            title=ft.Text(title),
            content=ft.Semantics(
                identifier="booking-dialog",
                container=True,
                content=ft.Column(
                    [
                        ft.Row([self.client_pick, self.new_client], wrap=True),
                        self.quick.root,
                        ft.Text("Services", weight=ft.FontWeight.W_500),
                        checkbox_grid(self.services),
                        self.services_error,
                        ft.Text(
                            "Therapists (several for a group booking)", weight=ft.FontWeight.W_500
                        ),
                        checkbox_grid(self.therapists),
                        self.therapists_error,
                        ft.Row([self.date, self.start, self.end, self.driver], wrap=True),
                        self.problem,
                        self.location,
                        self.notes,
                        self.error,
                    ],
                    tight=True,
                    width=560,
                    spacing=10,
                    # location and notes as wide as the dialog, like the rows above
                    horizontal_alignment=ft.CrossAxisAlignment.STRETCH,
                ),
            ),
            # the dialog scrolls, not a column in it: a scrolling column made
            # the dialog full height, with a gap above the buttons
            scrollable=True,
            actions=[
                ft.TextButton("Back", on_click=self._back),
                ft.FilledButton("Save changes" if appt else "Book", on_click=self._submit),
            ],
        )

    def open(self) -> ft.AlertDialog:
        self._check_slot()
        self.page.show_dialog(self.dialog)
        return self.dialog

    def _back(self, _: ft.Event[ft.TextButton]) -> None:
        close(self.dialog)

    # ---- choosing
    def _client_options(self) -> list[ft.DropdownOption]:
        clients = sorted(self.client.view().all("client"), key=client_name)
        return [ft.DropdownOption(key=c["id"], text=client_name(c)) for c in clients]

    def _client_chosen(self, _: ft.Event[ft.Dropdown]) -> None:
        record = self.client.view().get("client", self.client_pick.value or "")
        if record and not (self.location.value or "").strip():
            self.location.value = str(record.get("address") or "")
        self.dialog.update()

    def _open_quick_add(self, _: ft.Event[ft.Button]) -> None:
        self.quick.root.visible = not self.quick.root.visible
        self.dialog.update()

    def _client_added(self, record: Record) -> None:
        self.client_pick.options = self._client_options()
        self.client_pick.value = record["id"]
        self.client_pick.error_text = None
        self.location.value = str(record.get("address") or "")
        self.quick.root.visible = False
        self.dialog.update()

    def chosen(self, boxes: list[ft.Checkbox]) -> list[str]:
        return [str(b.data) for b in boxes if b.value]

    def _recheck(self, _: ft.Event[Any]) -> None:
        self._check_slot()
        self.dialog.update()

    def _check_slot(self) -> str | None:
        """Show (and return) why the slot isn't possible, when all parts of
        it are filled in."""
        therapists = self.chosen(self.therapists)
        day, start, end = ((f.value or "").strip() for f in (self.date, self.start, self.end))
        problem = None
        if therapists and day and start and end:
            ignore = self.appt["id"] if self.appt else None
            problem = slot_problem(self.client.view(), therapists, day, start, end, ignore)
        text = self.problem.content
        assert isinstance(text, ft.Text)
        text.value = problem or ""
        self.problem.visible = problem is not None
        return problem

    # ---- submitting
    def args(self) -> dict[str, Any]:
        args: dict[str, Any] = {
            "client_id": self.client_pick.value or None,
            "service_ids": self.chosen(self.services),
            "therapist_ids": self.chosen(self.therapists),
            "driver_id": None if self.driver.value in (None, NO_DRIVER) else self.driver.value,
            "date": (self.date.value or "").strip(),
            "start_time": (self.start.value or "").strip(),
            "end_time": (self.end.value or "").strip(),
            "location": (self.location.value or "").strip(),
        }
        notes = (self.notes.value or "").strip()
        if notes or (self.appt and self.appt.get("notes")):
            args["notes"] = notes or None
        return args

    def validate(self, args: dict[str, Any]) -> bool:
        """Mark every field the domain would refuse; whether all are fine."""
        ok = checked(
            [
                (self.client_pick, lambda: v.ident(args, "client_id", "a client")),
                (self.services_error, lambda: v.ids(args, "service_ids", "at least one service")),
                (
                    self.therapists_error,
                    lambda: v.ids(args, "therapist_ids", "at least one therapist"),
                ),
                (self.date, lambda: v.day(args)),
                (self.start, lambda: v.clock(args, "start_time", "a start time")),
                (self.end, lambda: v.clock(args, "end_time", "an end time")),
                (self.location, lambda: v.required_text(args, "location", "the address")),
            ]
        )
        return ok and self._check_slot() is None

    async def _submit(self, _: ft.Event[ft.Button]) -> None:
        args = self.args()
        self.error.visible = False
        if self.validate(args):
            if self.appt is None:
                result = await self.client.dispatch("appointment.create", str(uuid.uuid4()), args)
            else:
                # only what changed: re-sending the times would ask the
                # therapists to accept again
                changed = {k: val for k, val in args.items() if self.appt.get(k) != val}
                result = await self.client.dispatch("appointment.update", self.appt["id"], changed)
            if result.ok:
                close(self.dialog)
                if self.on_saved is not None:
                    await self.on_saved()
                snack(
                    self.page,
                    "Booked — waiting for the therapist" if self.appt is None else "Changes saved",
                )
                return
            self.error.value = result.message or DIDNT_WORK
            self.error.visible = True
        self.dialog.update()


class QuickAdd:
    """A small inline form for a new client (client.create)."""

    def __init__(self, client: ClientPort, added: Callable[[Record], None]) -> None:
        self.client = client
        self.added = added
        self.first = ft.TextField(label="First name", width=170)
        self.last = ft.TextField(label="Last name", width=170)
        self.phone = ft.TextField(label="Phone", width=170)
        self.address = ft.TextField(label="Client address")
        self.error = ft.Text(color=style.BAD, visible=False)
        self.root = ft.Container(
            ft.Column(
                [
                    ft.Row([self.first, self.last, self.phone], wrap=True),
                    self.address,
                    self.error,
                    ft.FilledTonalButton("Add client", on_click=self._add),
                ],
                tight=True,
                spacing=8,
            ),
            padding=12,
            border_radius=8,
            bgcolor=ft.Colors.SURFACE_CONTAINER_HIGH,
            visible=False,
        )

    async def _add(self, _: ft.Event[ft.Button]) -> None:
        args = {
            "first_name": self.first.value or "",
            "last_name": self.last.value or "",
            "phone": self.phone.value or "",
            "address": self.address.value or "",
        }
        result = await self.client.dispatch("client.create", str(uuid.uuid4()), args)
        if result.ok and result.record is not None:
            self.error.visible = False
            for f in (self.first, self.last, self.phone, self.address):
                f.value = ""
            self.added(result.record)
            return
        self.error.value = result.message or DIDNT_WORK
        self.error.visible = True
        self.root.update()


def checkbox_grid(boxes: list[ft.Checkbox]) -> ft.ResponsiveRow:
    # a wrapping Row gives each checkbox a line of its own; a grid keeps
    # three to a line on a wide dialog
    return ft.ResponsiveRow(
        [ft.Container(b, col={"xs": 12, "sm": 6, "md": 4}) for b in boxes], run_spacing=0
    )


def open_booking(
    page: ft.Page,
    client: ClientPort,
    appt: Record | None = None,
    *,
    therapist_id: str | None = None,
    day: str | None = None,
    start_time: str | None = None,
) -> BookingDialog:
    """Open the dialog: edit `appt`, or book a new appointment, optionally
    prefilled with a therapist, a date and a start time."""
    prefill: Record = {}
    if therapist_id:
        prefill["therapist_ids"] = [therapist_id]
    if day:
        prefill["date"] = day
    if start_time:
        prefill["start_time"] = start_time
    dialog = BookingDialog(page, client, appt, prefill if appt is None else None)
    dialog.open()
    return dialog


def retry_booking(page: ft.Page, client: ClientPort, failed: QueuedCommand) -> BookingDialog:
    """A booking the server refused, back in its dialog as it was typed; once
    booked again, the refused one leaves the failed list."""

    async def drop_refused() -> None:
        await client.dismiss(failed.seq)

    dialog = BookingDialog(page, client, prefill=failed.args, on_saved=drop_refused)
    dialog.open()
    return dialog
