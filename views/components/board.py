"""Appointment cards in groups ("Needs your answer", "Current trip", ...)
with live counts, refreshed per appointment.

`changed(keys)` touches only what a change affects: the card itself when it
stays in its group and place; the two groups (and their counts) when it
moves; one group when a card appears or goes. Nothing else is rebuilt.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

import flet as ft

from domain.records import Record
from views.components import style
from views.components.card import AppointmentCard, RunAction
from views.port import ClientPort, Key

# Where a record goes: a group key, or None to leave it out.
Classify = Callable[[Record], str | None]


@dataclass
class Group:
    key: str
    title: str
    empty: str  # the empty state's words
    big: bool = False
    cards: list[AppointmentCard] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.count = ft.Text(weight=ft.FontWeight.BOLD, color=style.MUTED)
        self.grid = ft.ResponsiveRow(spacing=12, run_spacing=12)
        self.empty_text = ft.Text(self.empty, italic=True, color=style.MUTED)
        self.root = ft.Semantics(
            identifier=f"group-{self.key}",
            container=True,
            content=ft.Column(
                [
                    ft.Row([ft.Text(self.title, size=18, weight=ft.FontWeight.BOLD), self.count]),
                    self.empty_text,
                    self.grid,
                ],
                spacing=8,
            ),
        )
        self.render()

    def render(self) -> None:
        self.count.value = f"({len(self.cards)})"
        self.empty_text.visible = not self.cards
        self.grid.controls = [c.root for c in self.cards]

    def update(self) -> None:
        with contextlib.suppress(RuntimeError):
            self.root.update()


def sort_key(appt: Record) -> tuple[str, str, str]:
    return (str(appt.get("date") or ""), str(appt.get("start_time") or ""), str(appt["id"]))


class Board:
    def __init__(
        self,
        client: ClientPort,
        groups: list[Group],
        classify: Classify,
        run: RunAction,
        columns: ft.ResponsiveNumber | None = None,
    ) -> None:
        self.client = client
        self.groups = {g.key: g for g in groups}
        self.classify = classify
        self.run = run
        self.columns = columns or {"xs": 12, "md": 6, "xl": 4}
        self.where: dict[str, str] = {}  # appointment id -> group key
        self.shown_waiting: dict[str, bool] = {}
        self.moved: list[AppointmentCard] = []  # re-placed in their group by `changed`
        self.root = ft.Column([g.root for g in groups], spacing=24)
        self.load()

    def settle(self, card: AppointmentCard) -> None:
        """After a card's own dispatch (`AppointmentCard.settle`): when its
        new state belongs on none of this board's groups (the operator's
        Start, a cancel), it goes at once. The embedded app's tabs hear their
        own change only with the server's answer (services/with_answer.py),
        and the tapper would see the card wait for the commit (bench ui, tenth
        pass). Only a card that goes: one moving to another group is made
        afresh, too long a render to put before the command leaves."""
        if card.id in self.where and self._group_of(card.id) is None:
            self.changed(frozenset({("appointment", card.id)}))

    def _group_of(self, id: str) -> str | None:
        """Where the appointment belongs now (None: on no group, or gone)."""
        appt = self.client.view().get("appointment", id)
        return self.classify(appt) if appt is not None else None

    def load(self) -> None:
        for g in self.groups.values():
            g.cards = []
        self.where.clear()
        # classify first, sort what shows: a phone's cache holds months of
        # history that no group shows (device cold start, bench device)
        placed = [
            (appt, key)
            for appt in self.client.view().all("appointment")
            if (key := self.classify(appt)) is not None
        ]
        placed.sort(key=lambda pair: sort_key(pair[0]))
        for appt, group in placed:
            self.groups[group].cards.append(self._card(appt, group))
            self.where[appt["id"]] = group
        for g in self.groups.values():
            g.render()

    def reset(self) -> None:
        self.load()
        with contextlib.suppress(RuntimeError):
            self.root.update()

    def card(self, appt_id: str) -> AppointmentCard | None:
        return self.card_in(self.where.get(appt_id), appt_id)

    def card_in(self, group: str | None, appt_id: str) -> AppointmentCard | None:
        if group is None:
            return None
        return next((c for c in self.groups[group].cards if c.id == appt_id), None)

    def changed(self, keys: frozenset[Key]) -> None:
        dirty: set[str] = set()
        self.moved = []
        for entity, id in keys:
            if entity == "appointment":
                dirty |= self._one(id)
        people = {id for entity, id in keys if entity == "staff"}
        if people:
            self._people_changed(people)
        for key in dirty:
            self.groups[key].render()
            self.groups[key].update()
        for card in self.moved:  # a group's update leaves its cards' insides alone
            card.show(card.record)

    def _people_changed(self, people: set[str]) -> None:
        """Someone changed (deactivated, renamed): the cards naming them show it."""
        for group in self.groups.values():
            for c in group.cards:
                r = c.record
                named = {*(r.get("therapist_ids") or ()), r.get("driver_id"),
                         r.get("pickup_driver_id")}
                if named & people:
                    c.show(self.client.view().get("appointment", c.id) or r)

    def sync_marks(self) -> None:
        """Refresh the cards whose waiting-to-sync mark changed."""
        for group in self.groups.values():
            for c in group.cards:
                waiting = self.client.is_pending("appointment", c.id)
                if self.shown_waiting.get(c.id) != waiting:
                    self.shown_waiting[c.id] = waiting
                    c.show(self.client.view().get("appointment", c.id) or c.record)

    def _card(self, appt: Record, group: str) -> AppointmentCard:
        card = self._new_card(appt, group)
        card.root.col = self.columns
        card.settle = lambda: self.settle(card)
        self.shown_waiting[appt["id"]] = self.client.is_pending("appointment", appt["id"])
        return card

    def _new_card(self, appt: Record, group: str) -> AppointmentCard:
        return AppointmentCard(self.client, appt, self.run, big=self.groups[group].big)

    def _one(self, id: str) -> set[str]:
        """Place or refresh one appointment; the groups that need re-rendering."""
        appt = self.client.view().get("appointment", id)
        old = self.where.pop(id, None)
        new = self._group_of(id)
        card = self.card_in(old, id)
        old_index = -1
        if card is not None and old is not None:
            old_index = self.groups[old].cards.index(card)
            self.groups[old].cards.remove(card)
        if appt is None or new is None:
            return {old} if old is not None else set()
        self.shown_waiting[id] = self.client.is_pending("appointment", id)
        target = self.groups[new]
        position = next(
            (i for i, c in enumerate(target.cards) if sort_key(appt) < sort_key(c.record)),
            len(target.cards),
        )
        self.where[id] = new
        if card is not None and new == old:
            target.cards.insert(position, card)
            if position == old_index:
                card.show(appt)  # same group, same place: only this card changes
                return set()
            card.record = appt
            self.moved.append(card)
            return {new}
        # a new card, or one moving between groups: render it fresh there
        target.cards.insert(position, self._card(appt, new))
        return {new} | ({old} if old is not None else set())
