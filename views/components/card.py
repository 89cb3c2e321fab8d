"""One appointment as a card: who, where, what, when, the status words, a
syncing mark while changes wait, and only the actions valid now.

A card owns its subtree: `show(record)` rebuilds the inside and updates only
this card, which is how a server event about one appointment refreshes one
card and not the page.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from datetime import date, timedelta

import flet as ft

from domain.acceptance import names, status_line
from domain.records import Record, staff_name
from domain.staff import needs_new_person
from domain.status import Role
from views.components import clock, style
from views.components.actions import OFFERED, SECONDARY, actions_for, label_for
from views.port import ClientPort

RunAction = Callable[["AppointmentCard", str], Awaitable[None]]


class CardRoot(ft.Semantics):
    """A card's outermost control, isolated: a group's update (a card moving
    in or out) sends the group's own changes and leaves the cards inside to
    their own updates, so it no longer diffs every card's subtree (bench ui:
    a card moving between groups of twenty cost 60-180 ms on the loop)."""

    def is_isolated(self) -> bool:
        return True


def when_text(appt: Record, today: date | None = None) -> str:
    day = str(appt.get("date") or "")
    now = today or clock.today()
    try:
        d = date.fromisoformat(day)
    except ValueError:
        label = day
    else:
        names = {
            now: "Today",
            now + timedelta(days=1): "Tomorrow",
            now - timedelta(days=1): "Yesterday",
        }
        label = names.get(d) or d.strftime("%a %d %b")
    return f"{label} · {appt.get('start_time', '')}–{appt.get('end_time', '')}"


def service_names(client: ClientPort, appt: Record) -> str:
    names = []
    for sid in appt.get("service_ids") or []:
        rec = client.view().get("service", sid)
        names.append(str(rec.get("name")) if rec else "Service")
    return ", ".join(names) or "—"


def name_of(client: ClientPort) -> Callable[[str], str]:
    """A staff id -> their name, from what the client holds."""
    return lambda staff_id: staff_name(client.view().get("staff", staff_id))


def team_text(client: ClientPort, appt: Record) -> str:
    """'Therapist: Ana' / 'Therapists: Ana and Bea' (who is asked or booked)."""
    team = list(appt.get("therapist_ids") or [])
    noun = "Therapist" if len(team) == 1 else "Therapists"
    return f"{noun}: {names(team, name_of(client)) or '—'}"


class AppointmentCard:
    """A card bound to one appointment id.

    Its controls are made once and changed in place: a change sends the
    properties that moved (a status line, a button), not a new subtree that
    Flet must walk, register and serialize whole (bench ui: a card rebuilt
    from scratch cost ~15 new controls and ~1.3 kB per update)."""

    def __init__(self, client: ClientPort, appt: Record, run: RunAction, big: bool = False) -> None:
        self.client = client
        self.id: str = appt["id"]
        self.record = appt
        self.run = run
        self.big = big  # the driver's big touch targets
        self.busy: str | None = None  # the action being submitted, if any
        # its board's part once the card's own dispatch is shown (Board.settle)
        self.settle: Callable[[], None] = lambda: None
        self.name = ft.Text(weight=ft.FontWeight.BOLD, size=20 if big else 18, expand=True)
        # "Waiting to sync", made when first needed (most cards never show it)
        self.waiting: ft.Control | None = None
        self.when, self.place, self.services, self.team = (_line(i) for i in (
            ft.Icons.SCHEDULE, ft.Icons.PLACE, ft.Icons.SPA, ft.Icons.PERSON))
        self.status = ft.Text(weight=ft.FontWeight.W_500)
        # "Needs a new person" (the operator's), made when first needed
        self.gone: list[str] = []
        self.gone_mark: ft.Control | None = None
        # A button for every action the role is ever offered, made with the
        # card and hidden while not allowed: a new status shows and hides
        # buttons (and may change a word), not new buttons for Flutter to
        # build (bench ui, the minimal app's page of our size, load 10-19:
        # own / other screen p50 81 / 77 ms with new buttons, 59 / 49 kept
        # and changed, 65 / 48 for the status words alone). Each button stays
        # its action's: a tap on one just hidden is that action, refused in
        # words when it no longer applies.
        self.buttons: dict[str, ft.Button] = {}
        self.actions = (
            # big touch targets: full-width buttons stacked
            ft.Column(spacing=8, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
            if big
            # (an `expand` on a child of a wrapping Row breaks Flutter's layout)
            else ft.Row(wrap=True, spacing=8, run_spacing=8)
        )
        self.header = ft.Row([self.name])
        self.info = ft.Column([self.when, self.place, self.services], spacing=4)
        self.status_box = ft.Container(
            self.status,
            bgcolor=ft.Colors.SECONDARY_CONTAINER,
            border_radius=8,
            padding=ft.Padding.symmetric(horizontal=10, vertical=6),
        )
        self.body = ft.Column([self.header, self.info, self.status_box, self.actions], spacing=8)
        self.root = CardRoot(
            identifier=f"appt-{self.id}",
            container=True,
            content=ft.Card(content=ft.Container(self.body, padding=16)),
        )
        self._build()

    @property
    def role(self) -> Role:
        return self.client.actor.role

    def show(self, appt: Record) -> None:
        """Re-render with a newer record (or the same one, to refresh marks)."""
        self.record = appt
        self._build()
        self._update()

    def rebuild(self) -> None:
        """Re-render without sending: the parent's update carries it."""
        self._build()

    def set_busy(self, action: str | None) -> None:
        """Mark the card busy with `action` (no second tap until it is
        answered). Not sent: the dispatch is local and answers at once, and
        the card's next update carries the outcome; a spinner sent first was
        a patch more for the page to take in before the change (bench ui)."""
        self.busy = action
        self._build()

    def _update(self) -> None:
        # not on the page (yet): it renders when added
        with contextlib.suppress(RuntimeError):
            self.root.update()

    def _build(self) -> None:
        """Set every part from the record (Flet sends only what differs)."""
        appt = self.record
        self.name.value = str(appt.get("client_name") or "Client")
        marks: list[ft.Control] = []
        if self.client.is_pending("appointment", self.id):
            if self.waiting is None:
                self.waiting = _syncing_mark()
            marks.append(self.waiting)
        set_children(self.header, [self.name, *marks])
        _set_line(self.when, when_text(appt))
        _set_line(self.place, str(appt.get("location") or "—"))
        _set_line(self.services, service_names(self.client, appt))
        # the operator and the driver need to know who; a therapist, only
        # when she shares the booking
        team = appt.get("therapist_ids") or []
        with_team = not (self.role == "therapist" and len(team) < 2)
        if with_team:
            _set_line(self.team, team_text(self.client, appt))
        set_children(self.info, [self.when, self.place, self.services,
                           *([self.team] if with_team else []), *self._needs_new_person()])
        self.status.value = status_line(appt, self.client.actor, name_of(self.client))
        set_children(self.body, self._parts())

    def _parts(self) -> list[ft.Control]:
        """The body's controls below the details (a queue card has its own)."""
        offered = set(actions_for(self.record, self.client.actor))
        buttons: list[ft.Control] = [self._button(a, a in offered) for a in OFFERED[self.role]]
        set_children(self.actions, buttons)
        return [self.header, self.info, self.status_box, *([self.actions] if offered else [])]

    def _needs_new_person(self) -> list[ft.Control]:
        """For the operator: someone on this booking was deactivated."""
        if self.role != "operator":
            return []
        view = self.client.view()
        gone = needs_new_person(self.record, lambda sid: view.get("staff", sid))
        if not gone:
            return []
        if self.gone_mark is not None and self.gone == gone:
            return [self.gone_mark]  # unchanged: keep the control (see the class)
        who = " and ".join(gone)
        verb = "is" if len(gone) == 1 else "are"
        self.gone = gone
        self.gone_mark = ft.Semantics(
            identifier=f"needs-person-{self.id}",
            content=ft.Container(
                ft.Row(
                    [
                        ft.Icon(ft.Icons.PERSON_OFF, size=18, color=style.BAD),
                        ft.Text(
                            f"Needs a new person: {who} {verb} no longer active.",
                            color=style.BAD,
                            weight=ft.FontWeight.W_500,
                            expand=True,
                        ),
                    ],
                    spacing=6,
                ),
                border=ft.Border.all(1, style.BAD),
                border_radius=8,
                padding=ft.Padding.symmetric(horizontal=8, vertical=4),
            ),
        )
        return [self.gone_mark]

    def _button(self, action: str, shown: bool) -> ft.Button:
        button = self.buttons.get(action)
        if button is None:
            async def clicked(_: ft.Event[ft.Button]) -> None:
                if self.busy is not None:
                    return  # one submission at a time
                await self.run(self, action)

            kind = ft.FilledTonalButton if action in SECONDARY else ft.FilledButton
            height = style.BIG_BUTTON_HEIGHT if self.big else style.BUTTON_HEIGHT
            button = self.buttons[action] = kind(on_click=clicked, height=height)
        button.visible = shown
        label = label_for(self.record, self.client.actor, action)
        if button.content != label:
            button.content = label
        busy = self.busy == action
        if busy != isinstance(button.icon, ft.ProgressRing):
            button.icon = ft.ProgressRing(width=16, height=16, stroke_width=2) if busy else None
        button.disabled = self.busy is not None
        return button


def appt_title(appt: Record) -> str:
    return f"{appt.get('client_name') or 'client'} at {appt.get('start_time', '')}"


def _line(icon: ft.IconData, text: str = "") -> ft.Row:
    return ft.Row(
        [ft.Icon(icon, size=18, color=style.MUTED), ft.Text(text, expand=True)], spacing=6
    )


def set_children(parent: ft.Row | ft.Column, children: list[ft.Control]) -> None:
    """Set a parent's children when they are not the same controls already
    (the same list sends nothing; kept controls are not sent again)."""
    if [id(c) for c in parent.controls] != [id(c) for c in children]:
        parent.controls = children


def _set_line(line: ft.Row, text: str) -> None:
    words = line.controls[1]
    assert isinstance(words, ft.Text)
    words.value = text


def _syncing_mark() -> ft.Control:
    return ft.Semantics(
        label="Waiting to sync",
        content=ft.Row(
            [
                ft.Icon(ft.Icons.CLOUD_UPLOAD_OUTLINED, size=18, color=style.WARN),
                ft.Text("Waiting to sync", color=style.WARN, size=13),
            ],
            spacing=4,
        ),
    )
