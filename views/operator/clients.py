"""The operator's clients page: a searchable list; choosing a client shows
their details and their appointments, newest first, from the local store.

Live: a change to a client redraws the list (and the details when it is the
chosen one); a change to an appointment redraws the details only when it is
the chosen client's.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import date

import flet as ft

from domain.records import Record, client_name, staff_name
from domain.status import status_text
from views.components import clock, style
from views.components.card import service_names, when_text
from views.components.section import Section
from views.operator.stats import revenue
from views.operator.words import money
from views.port import Changed, ClientPort

MAX_LISTED = 100  # a long list is for searching, not scrolling


def matches(record: Record, search: str) -> bool:
    """Every word of `search` appears in the client's name, phone, address or email."""
    fields = ("phone", "address", "email")
    haystack = " ".join([client_name(record), *(str(record.get(f) or "") for f in fields)]).lower()
    return all(word in haystack for word in search.lower().split())


def history(appointments: list[Record], client_id: str) -> list[Record]:
    """A client's appointments, newest first."""
    mine = [a for a in appointments if a.get("client_id") == client_id]
    return sorted(
        mine, key=lambda a: (str(a.get("date") or ""), str(a.get("start_time") or "")), reverse=True
    )


class ClientsPage:
    def __init__(self, client: ClientPort, today: Callable[[], date] = clock.today) -> None:
        self.client = client
        self.today = today
        self.selected: str | None = None
        self.shown_history: set[str] = set()  # appointment ids in the details now
        self.search = ft.TextField(
            label="Search clients",
            hint_text="Name, phone, address or email",
            prefix_icon=ft.Icons.SEARCH,
            on_change=self._searched,
        )
        self.count = ft.Text(color=style.MUTED)
        self.list = ft.Column(spacing=0)
        self.details = ft.Column(spacing=8)
        self.root = ft.Semantics(
            identifier="clients-page",
            container=True,
            content=ft.ResponsiveRow(
                [
                    ft.Semantics(
                        identifier="client-list",
                        container=True,
                        content=ft.Column([self.search, self.count, self.list], spacing=8),
                        col={"xs": 12, "md": 5, "xl": 4},
                    ),
                    ft.Semantics(
                        identifier="client-details",
                        container=True,
                        content=ft.Card(content=ft.Container(self.details, padding=16)),
                        col={"xs": 12, "md": 7, "xl": 8},
                    ),
                ],
                spacing=16,
                run_spacing=16,
            ),
        )
        self._render_list()
        self._render_details()

    # ---- the list
    def matching(self) -> list[Record]:
        search = self.search.value or ""
        found = [c for c in self.client.view().all("client") if matches(c, search)]
        return sorted(found, key=lambda c: (client_name(c).lower(), c["id"]))

    def _render_list(self) -> None:
        found = self.matching()
        total = sum(1 for _ in self.client.view().all("client"))
        search = (self.search.value or "").strip()
        if len(found) > MAX_LISTED:
            self.count.value = (
                f"Showing {MAX_LISTED} of {len(found)} clients — search to narrow it down"
            )
        elif search:
            self.count.value = f"{len(found)} of {total} clients"
        else:
            self.count.value = f"{total} clients" if total != 1 else "1 client"
        tiles: list[ft.Control] = [self._tile(c) for c in found[:MAX_LISTED]]
        if not tiles:
            text = (
                f"No clients match “{search}”."
                if search
                else "No clients yet: book one to add them."
            )
            tiles = [ft.Text(text, italic=True, color=style.MUTED)]
        self.list.controls = tiles

    def _tile(self, record: Record) -> ft.Control:
        cid = record["id"]

        def choose(_: ft.Event[ft.ListTile]) -> None:
            self.select(cid)

        subtitle = " · ".join(str(record.get(f)) for f in ("phone", "address") if record.get(f))
        return ft.Semantics(
            identifier=f"client-{cid}",
            container=True,
            content=ft.ListTile(
                title=ft.Text(client_name(record)),
                subtitle=ft.Text(subtitle or "No contact details", color=style.MUTED),
                leading=ft.Icon(ft.Icons.PERSON_OUTLINE),
                selected=cid == self.selected,
                on_click=choose,
            ),
        )

    # ---- the details
    def _render_details(self) -> None:
        snap = self.client.view()
        record = snap.get("client", self.selected) if self.selected else None
        if record is None:
            self.shown_history = set()
            self.details.controls = [
                ft.Text(
                    "Choose a client to see their details and appointments.",
                    italic=True,
                    color=style.MUTED,
                )
            ]
            return
        appts = history(list(snap.all("appointment")), record["id"])
        self.shown_history = {a["id"] for a in appts}
        facts = [
            (ft.Icons.PHONE, record.get("phone")),
            (ft.Icons.PLACE, record.get("address")),
            (ft.Icons.EMAIL_OUTLINED, record.get("email")),
            (ft.Icons.NOTES, record.get("notes")),
        ]
        paid = sum(revenue(a) for a in appts)
        summary = f"{len(appts)} appointment{'s' if len(appts) != 1 else ''}"
        if paid:
            summary += f" · {money(paid)} paid"
        rows: list[ft.Control] = [self._history_row(a) for a in appts]
        if not rows:
            rows = [
                ft.Text(
                    f"No appointments yet for {client_name(record)}.",
                    italic=True,
                    color=style.MUTED,
                )
            ]
        self.details.controls = [
            ft.Text(client_name(record), size=20, weight=ft.FontWeight.BOLD),
            *[
                ft.Row([ft.Icon(icon, size=18, color=style.MUTED), ft.Text(str(value))])
                for icon, value in facts
                if value
            ],
            ft.Divider(),
            ft.Row(
                [
                    ft.Text("Appointments", size=16, weight=ft.FontWeight.BOLD),
                    ft.Text(summary, color=style.MUTED),
                ],
                spacing=12,
            ),
            *rows,
        ]

    def _history_row(self, appt: Record) -> ft.Control:
        snap = self.client.view()
        therapists = ", ".join(
            staff_name(snap.get("staff", t)) for t in appt.get("therapist_ids") or []
        )
        lines: list[ft.Control] = [
            ft.Text(
                f"{when_text(appt, self.today())} · {service_names(self.client, appt)}",
                weight=ft.FontWeight.W_500,
            ),
            ft.Text(status_text(str(appt["status"]), "operator"), color=style.MUTED),
        ]
        extra = [f"With {therapists}" if therapists else ""]
        if revenue(appt):
            extra.append(f"Paid {money(revenue(appt))}")
        if any(extra):
            lines.append(ft.Text(" · ".join(e for e in extra if e), size=13))
        return ft.Semantics(
            identifier=f"client-appt-{appt['id']}",
            container=True,
            content=ft.Container(
                ft.Column(lines, spacing=2),
                padding=ft.Padding.symmetric(vertical=6),
            ),
        )

    # ---- events
    def select(self, client_id: str) -> None:
        self.selected = client_id
        self._render_list()
        self._render_details()
        self._update(self.list, self.details)

    def changed(self, ch: Changed) -> None:
        if ch.reset:
            self._render_list()
            self._render_details()
            self._update(self.list, self.details, self.count)
            return
        dirty: list[ft.Control] = []
        clients = {id for entity, id in ch.keys if entity == "client"}
        if clients:
            self._render_list()
            dirty += [self.list, self.count]
        if self.selected is not None and (self.selected in clients or self._concerns_chosen(ch)):
            self._render_details()
            dirty.append(self.details)
        self._update(*dirty)

    def _concerns_chosen(self, ch: Changed) -> bool:
        snap = self.client.view()
        for entity, id in ch.keys:
            if entity != "appointment":
                continue
            if id in self.shown_history:  # it was theirs (it may have moved away)
                return True
            appt = snap.get("appointment", id)
            if appt is not None and appt.get("client_id") == self.selected:
                return True
        return False

    def _searched(self, _: ft.Event[ft.TextField]) -> None:
        self._render_list()
        self._update(self.list, self.count)

    def _update(self, *controls: ft.Control) -> None:
        for control in controls:
            with contextlib.suppress(RuntimeError):  # not on the page yet
                control.update()


def clients_section(client: ClientPort) -> Section:
    page = ClientsPage(client)
    return Section("clients", "Clients", ft.Icons.PEOPLE_OUTLINE, page.root, page.changed)
