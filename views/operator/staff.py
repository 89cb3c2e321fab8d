"""The operator's staff page: therapists, drivers and operators,
searchable, each with their duty (the operator can switch it), whether a
driver is out on a trip, and today's load (booked today, done, to go).

The operator takes people on (Add person), edits them, deactivates and
reactivates them and resets their password (views/operator/people.py: the
forms, checked field by field with the domain's words). A one-time password
is shown once, to copy and hand over.

Live: today's appointments and the ones on the road are kept as subsets
updated from the keys a change touched, and each person's line is redrawn
only when what it shows changed. Today's load rolls over at midnight even
when nothing changes (`clock.watch_day`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

import flet as ft

from domain.pickup import busy_drivers
from domain.records import Record, staff_name
from domain.status import DRIVER_BUSY, Status
from views.components import clock, style
from views.components.feedback import refused, snack
from views.components.section import Section
from views.operator.people import PeopleForms
from views.operator.stats import Load, Subset, load, on_day
from views.port import Changed, ClientPort

ROLES: tuple[tuple[str, str, str], ...] = (
    # role, heading, shown when nobody matches
    ("therapist", "Therapists", "No therapists"),
    ("driver", "Drivers", "No drivers"),
    ("operator", "Operators", "No operators"),
)


def on_duty(person: Record) -> bool:
    # a record without the flag counts as on duty, as domain.pickup reads it
    return bool(person.get("on_duty", True))


def matches(person: Record, search: str) -> bool:
    """Every word of `search` appears in the person's name, username, phone,
    specialization, license or plate."""
    fields = ("name", "username", "phone", "specialization", "license", "plate")
    haystack = " ".join(str(person.get(f) or "") for f in fields).lower()
    return all(word in haystack for word in search.lower().split())


def load_text(today: Load) -> str:
    if not today.total:
        return "Nothing booked today"
    noun = "appointment" if today.total == 1 else "appointments"
    return f"Today: {today.total} {noun} · {today.done} done · {today.remaining} to go"


def details_text(person: Record) -> str:
    if person.get("role") == "driver":
        parts = [f"Plate {person['plate']}" if person.get("plate") else ""]
    else:
        pressure = person.get("pressure_preference")
        parts = [
            str(person.get("specialization") or ""),
            f"{pressure} pressure" if pressure else "",
        ]
    parts.append(str(person.get("phone") or ""))
    return " · ".join(p for p in parts if p) or "No details yet"


@dataclass(frozen=True)
class Facts:
    """Everything one line shows: equal facts, nothing to redraw."""

    person: Record
    load: Load
    on_trip: bool
    syncing: bool


Toggle = Callable[[Record, bool], Any]


class Manage(Protocol):
    """What a line's buttons ask the page to do."""

    def edit(self, person: Record) -> Any: ...

    async def set_active(self, person: Record, active: bool) -> None: ...

    async def reset_password(self, person: Record) -> None: ...


class StaffLine:
    def __init__(
        self, person_id: str, toggle: Toggle, manage: Manage | None = None, me: str = ""
    ) -> None:
        self.id = person_id
        self.toggle = toggle
        self.manage = manage
        self.me = me  # nobody deactivates themselves
        self.facts: Facts | None = None
        self.root = ft.Semantics(identifier=f"staff-{person_id}", container=True)

    def show(self, facts: Facts) -> bool:
        """Rebuild for `facts`; whether anything changed."""
        if facts == self.facts:
            return False
        self.facts = facts
        p = facts.person
        duty = on_duty(p)
        worker = p.get("role") != "operator"  # operators have no duty or load
        tags = (
            [_tag("On duty", style.OK) if duty else _tag("Off duty", style.MUTED)] if worker else []
        )
        if facts.on_trip:
            tags.append(_tag("On a trip", style.WARN))
        if not p.get("active", True):
            tags.append(_tag("Not active", style.BAD))
        if facts.syncing:
            tags.append(_tag("Saving…", style.MUTED))

        async def switched(e: ft.Event[ft.Switch]) -> None:
            await self.toggle(p, bool(e.control.value))

        icons = {"driver": ft.Icons.DIRECTIONS_CAR, "operator": ft.Icons.HEADSET_MIC}
        icon = icons.get(str(p.get("role")), ft.Icons.SPA)
        self.root.content = ft.Card(
            content=ft.Container(
                ft.Column(
                    [
                        ft.Row(
                            [
                                ft.Icon(icon, color=style.MUTED),
                                ft.Column(
                                    [
                                        ft.Row(
                                            [
                                                ft.Text(staff_name(p), weight=ft.FontWeight.BOLD),
                                                *tags,
                                            ],
                                            wrap=True,
                                            spacing=8,
                                        ),
                                        ft.Text(details_text(p), color=style.MUTED, size=13),
                                        *([ft.Text(load_text(facts.load))] if worker else []),
                                    ],
                                    spacing=4,
                                    expand=True,
                                ),
                                *(
                                    [ft.Switch(label="On duty", value=duty, on_change=switched)]
                                    if worker
                                    else []
                                ),
                            ],
                            spacing=12,
                        ),
                        *self._buttons(p),
                    ],
                    spacing=4,
                ),
                padding=12,
            )
        )
        return True

    def _buttons(self, p: Record) -> list[ft.Control]:
        manage = self.manage
        if manage is None:
            return []
        active = p.get("active", True) is not False

        def edit(_: ft.Event[ft.TextButton]) -> None:
            manage.edit(p)

        async def switch(_: ft.Event[ft.TextButton]) -> None:
            await manage.set_active(p, not active)

        async def reset(_: ft.Event[ft.TextButton]) -> None:
            await manage.reset_password(p)

        return [
            ft.Row(
                [
                    ft.TextButton("Edit", icon=ft.Icons.EDIT, on_click=edit),
                    ft.TextButton("Reset password", icon=ft.Icons.KEY, on_click=reset),
                    *(
                        [
                            ft.TextButton(
                                "Deactivate" if active else "Reactivate",
                                icon=ft.Icons.PERSON_OFF if active else ft.Icons.PERSON_ADD,
                                on_click=switch,
                            )
                        ]
                        if p["id"] != self.me
                        else []
                    ),
                ],
                wrap=True,
                spacing=4,
                alignment=ft.MainAxisAlignment.END,
            )
        ]


def _tag(text: str, color: str) -> ft.Control:
    return ft.Container(
        ft.Text(text, size=12, color=color, weight=ft.FontWeight.W_500),
        border=ft.Border.all(1, color),
        border_radius=12,
        padding=ft.Padding.symmetric(horizontal=8, vertical=2),
    )


class StaffPage:
    def __init__(
        self, page: ft.Page, client: ClientPort, today: Callable[[], date] | None = None
    ) -> None:
        self.page = page
        self.client = client
        self.today = today or clock.today
        self.day = self.today()
        self.todays = Subset(lambda a: a.get("date") == self.day.isoformat())
        self.moving = Subset(lambda a: Status(a["status"]) in DRIVER_BUSY)
        self.lines: dict[str, StaffLine] = {}
        self.search = ft.TextField(
            label="Search staff",
            hint_text="Name, phone, plate or specialty",
            prefix_icon=ft.Icons.SEARCH,
            width=320,
            on_change=self._searched,
        )
        self.summary = ft.Text(color=style.MUTED)
        self.people_forms = PeopleForms(page, client)
        self.add = ft.FilledTonalButton("Add person", icon=ft.Icons.PERSON_ADD, on_click=self._add)
        self.columns: dict[str, ft.Column] = {}
        self.empty: dict[str, ft.Text] = {}
        groups: list[ft.Control] = []
        for role, heading, _ in ROLES:
            self.columns[role] = ft.Column(spacing=4)
            self.empty[role] = ft.Text(italic=True, color=style.MUTED)
            groups.append(
                ft.Semantics(
                    identifier=f"staff-{role}s",
                    container=True,
                    content=ft.Column(
                        [ft.Text(heading, size=18, weight=ft.FontWeight.BOLD), self.columns[role]],
                        spacing=8,
                    ),
                    col={"xs": 12, "lg": 6},
                )
            )
        self.root = ft.Semantics(
            identifier="staff-page",
            container=True,
            content=ft.Column(
                [
                    ft.Row([self.search, self.add, self.summary], wrap=True, spacing=16),
                    ft.ResponsiveRow(groups, spacing=16, run_spacing=16),
                ],
                spacing=16,
            ),
        )
        self._fill()
        self.render()

    # ---- state
    def _fill(self) -> None:
        appointments = list(self.client.view().all("appointment"))
        self.todays.fill(on_day(appointments, self.day))
        self.moving.fill(appointments)

    def people(self, role: str) -> list[Record]:
        search = self.search.value or ""
        staff = [
            s
            for s in self.client.view().all("staff")
            if s.get("role") == role and matches(s, search)
        ]
        return sorted(staff, key=lambda s: (staff_name(s).lower(), s["id"]))

    # ---- rendering
    def render(self) -> list[ft.Control]:
        """Bring every line up to date; the controls that need sending."""
        todays = list(self.todays.rows.values())
        on_trip = busy_drivers(self.moving.rows.values())
        dirty: list[ft.Control] = []
        counts: list[str] = []
        search = (self.search.value or "").strip()
        for role, heading, nobody in ROLES:
            column = self.columns[role]
            roots: list[ft.Control] = []
            lines_changed: list[ft.Control] = []
            people = self.people(role)
            for person in people:
                line = self.lines.get(person["id"])
                if line is None:
                    line = self.lines[person["id"]] = StaffLine(
                        person["id"], self._toggle, self.people_forms, self.client.actor.id
                    )
                facts = Facts(
                    person,
                    load(person, todays),
                    person["id"] in on_trip,
                    self.client.is_pending("staff", person["id"]),
                )
                if line.show(facts):
                    lines_changed.append(line.root)
                roots.append(line.root)
            if not roots:
                self.empty[role].value = (
                    f"{nobody} match “{search}”." if search else f"{nobody} yet."
                )
                roots = [self.empty[role]]
            if [id(c) for c in roots] != [id(c) for c in column.controls]:
                column.controls = roots
                dirty.append(column)  # carries the changed lines with it
            else:
                dirty += lines_changed
            duty = sum(on_duty(p) for p in people)
            noun = heading.lower() if len(people) != 1 else role
            counts.append(
                f"{len(people)} {noun}" + (f" ({duty} on duty)" if role != "operator" else "")
            )
        summary = " · ".join(counts)
        if summary != self.summary.value:
            self.summary.value = summary
            dirty.append(self.summary)
        return dirty

    def refresh(self) -> None:
        for control in self.render():
            with contextlib.suppress(RuntimeError):  # not on the page yet
                control.update()

    # ---- events
    def changed(self, ch: Changed) -> None:
        if ch.reset:
            self.day = self.today()
            self._fill()
            self.refresh()
            return
        if self.new_day():
            return
        touched = {id for entity, id in ch.keys if entity == "appointment"}
        get = self._appointment
        moved = self.todays.update(touched, get) | self.moving.update(touched, get)
        if moved or any(entity == "staff" for entity, _ in ch.keys):
            self.refresh()

    def new_day(self) -> bool:
        """Start over on today's appointments if the day turned; whether it did."""
        day = self.today()
        if day == self.day:
            return False
        self.day = day
        self._fill()
        self.refresh()
        return True

    def sync_changed(self) -> None:
        self.refresh()  # a "Saving…" mark may have cleared

    def _appointment(self, id: str) -> Record | None:
        return self.client.view().get("appointment", id)

    def _add(self, _: ft.Event[ft.Button]) -> None:
        self.people_forms.edit(None)

    def _searched(self, _: ft.Event[ft.TextField]) -> None:
        self.refresh()

    async def _toggle(self, person: Record, on: bool) -> None:
        result = await self.client.dispatch("staff.set_duty", person["id"], {"on_duty": on})
        if result.ok:
            what = "on duty" if on else "off duty"
            snack(self.page, f"{staff_name(person)} is {what} — saved when the server confirms")
        else:
            refused(self.page, result)
            self.lines[person["id"]].facts = None  # the switch shows the old value again
            self.refresh()


def staff_section(page: ft.Page, client: ClientPort) -> Section:
    staff = StaffPage(page, client)
    page.run_task(clock.watch_day, staff.root, staff.new_day, staff.today)
    return Section("staff", "Staff", ft.Icons.BADGE, staff.root, staff.changed, staff.sync_changed)
