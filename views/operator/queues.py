"""The operator's work queues: pending acceptance (counting down), rejections
to review, ready to start, awaiting payment, pickup requests and overdue.

Each queue is a `Board` group, so a change about one appointment repaints
that card, or the one or two queues it left and joined, and nothing else.
Which actions a card offers is `domain.lifecycle.allowed`; which queue an
appointment is in follows its status and, for pending ones, the clock.
A per-second tick rewrites only the countdown texts; when a deadline passes
it moves that one card to "Overdue".
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import UTC, datetime

import flet as ft

from domain.edits import PLANNING
from domain.lifecycle import allowed
from domain.overdue import overdue
from domain.records import Record
from domain.status import Status
from domain.times import parse_instant
from views.components import style
from views.components.board import Board, Group
from views.components.card import AppointmentCard, RunAction, set_children
from views.port import ClientPort, Key

Now = Callable[[], datetime]
TICK_SECONDS = 1.0

QUEUES: tuple[tuple[str, str, str], ...] = (
    ("pending", "Pending acceptance", "Nobody is waiting to accept."),
    ("rejected", "Rejections to review", "No rejections to review."),
    ("ready", "Ready to start", "Nothing ready to start."),
    ("payment", "Awaiting payment", "No payments to verify."),
    ("pickup", "Pickup requests", "No pickups waiting for a driver."),
    ("overdue", "Overdue", "Nothing overdue."),
)

BY_STATUS: dict[Status, str] = {
    Status.REJECTED: "rejected",
    Status.DRIVER_CONFIRMED: "ready",
    Status.AWAITING_PAYMENT: "payment",
    Status.PICKUP_REQUESTED: "pickup",
}

# queue -> (action as the runner knows it, button label, lifecycle action it needs)
ACTIONS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "pending": (("cancel", "Cancel", "cancel"),),
    "rejected": (
        ("deny", "Deny", "review_rejection"),
        ("accept_rejection", "Accept rejection", "review_rejection"),
        ("reassign", "Reassign", "review_rejection"),
    ),
    "ready": (("start", "Start", "start"),),
    "payment": (("verify_payment", "Verify payment", "verify_payment"),),
    "pickup": (("assign_pickup", "Assign driver", "assign_pickup_driver"),),
    "overdue": (("cancel", "Cancel", "cancel"),),
}
SECONDARY = frozenset({"cancel", "deny", "accept_rejection", "edit"})


def classify_at(now: Now) -> Callable[[Record], str | None]:
    def classify(appt: Record) -> str | None:
        status = Status(appt["status"])
        if status == Status.PENDING:
            return "overdue" if overdue([appt], now()) else "pending"
        return BY_STATUS.get(status)

    return classify


def time_left(appt: Record, now: datetime) -> str:
    """'12:34 left' until the response deadline (h:mm:ss past an hour)."""
    raw = appt.get("response_deadline")
    if not raw:
        return ""
    seconds = int((parse_instant(str(raw)) - now).total_seconds())
    if seconds <= 0:
        return "Deadline passed"
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d} left" if h else f"{m:02d}:{s:02d} left"


class QueueCard(AppointmentCard):
    """An appointment card with its queue's actions (and a countdown while
    pending) in place of the generic ones. Like the card, its controls are
    made once and changed in place: a new address or status sends what
    differs, not a new countdown row and new buttons (bench ui: ~650 bytes
    to every operator screen for a moved booking)."""

    def __init__(
        self, client: ClientPort, appt: Record, run: RunAction, queue: str, now: Now
    ) -> None:
        self.queue = queue
        self.now = now
        self.countdown = ft.Text(color=style.WARN, weight=ft.FontWeight.W_500)
        self.countdown_row: ft.Control | None = None  # made when first pending
        self.reason: ft.Text | None = None  # made when first rejected
        self.queue_buttons: dict[str, ft.Button] = {}  # one per action, kept
        self.queue_row = ft.Row(wrap=True, spacing=8, run_spacing=8)
        super().__init__(client, appt, run)
        # the "Appointments" board shows the same appointment as appt-<id>
        self.root.identifier = f"queue-{self.id}"

    def _parts(self) -> list[ft.Control]:
        # keep header, details and status; the queue's buttons replace the rest
        appt = self.record
        extra: list[ft.Control] = []
        if self.queue == "pending":
            self.countdown.value = time_left(appt, self.now())
            if self.countdown_row is None:
                self.countdown_row = ft.Semantics(
                    identifier=f"countdown-{self.id}",
                    content=ft.Row(
                        [
                            ft.Icon(ft.Icons.TIMER_OUTLINED, size=18, color=style.WARN),
                            self.countdown,
                        ],
                        spacing=6,
                    ),
                )
            extra.append(self.countdown_row)
        elif self.queue == "rejected":
            if self.reason is None:
                self.reason = ft.Text(italic=True)
            rejection = appt.get("rejection") or {}
            self.reason.value = f"Reason: {rejection.get('reason') or '—'}"
            extra.append(self.reason)
        buttons: list[ft.Control] = [
            self._queue_button(key, label)
            for key, label, action in ACTIONS.get(self.queue, ())
            if allowed(appt, self.client.actor, action)
        ]
        if Status(appt["status"]) in PLANNING:
            buttons.append(self._queue_button("edit", "Edit"))
        set_children(self.queue_row, buttons)
        return [self.header, self.info, *extra, self.status_box,
                *([self.queue_row] if buttons else [])]

    def tick(self) -> None:
        """Rewrite the countdown only (one small patch)."""
        text = time_left(self.record, self.now())
        if text != self.countdown.value:
            self.countdown.value = text
            with contextlib.suppress(RuntimeError):
                self.countdown.update()

    def _queue_button(self, key: str, label: str) -> ft.Button:
        button = self.queue_buttons.get(key)
        if button is None:
            async def clicked(_: ft.Event[ft.Button]) -> None:
                if self.busy is None:
                    await self.run(self, key)

            kind = ft.FilledTonalButton if key in SECONDARY else ft.FilledButton
            button = self.queue_buttons[key] = kind(
                label, on_click=clicked, height=style.BUTTON_HEIGHT
            )
        busy = self.busy == key
        if busy != isinstance(button.icon, ft.ProgressRing):
            button.icon = ft.ProgressRing(width=16, height=16, stroke_width=2) if busy else None
        button.disabled = self.busy is not None
        return button


class QueueBoard(Board):
    """The queues as board groups whose cards are `QueueCard`s."""

    def __init__(
        self,
        client: ClientPort,
        run: RunAction,
        now: Now | None = None,
        extra: dict[str, ft.Control] | None = None,
    ) -> None:
        self.now: Now = now or (lambda: datetime.now(UTC))
        self.extra = extra or {}
        groups = [Group(key, title, empty) for key, title, empty in QUEUES]
        for g in groups:
            if extra and g.key in extra:
                # a queue-wide action (cancel overdue) beside the title and count
                header = g.root.content.controls[0]  # type: ignore[union-attr]
                header.controls.append(extra[g.key])
        # cards fill their queue; the queues sit side by side on wide screens
        super().__init__(client, groups, classify_at(self.now), run, columns={"xs": 12})
        for g in groups:
            g.root.col = {"xs": 12, "md": 6, "xl": 4}
        self.root.controls = [
            ft.ResponsiveRow([g.root for g in groups], spacing=24, run_spacing=24)
        ]
        self.summary = ft.Row(wrap=True, spacing=8, run_spacing=8)
        self.chips: dict[str, ft.Text] = {}
        for key, title, _ in QUEUES:
            count = ft.Text(weight=ft.FontWeight.BOLD)
            self.chips[key] = count
            self.summary.controls.append(
                ft.Semantics(
                    identifier=f"count-{key}",
                    content=ft.Container(
                        ft.Row([ft.Text(title), count], spacing=6, tight=True),
                        bgcolor=ft.Colors.SURFACE_CONTAINER_HIGH,
                        border_radius=16,
                        padding=ft.Padding.symmetric(horizontal=12, vertical=6),
                    ),
                )
            )
        self.root.controls.insert(0, self.summary)
        self._counts()

    def _new_card(self, appt: Record, group: str) -> AppointmentCard:
        return QueueCard(self.client, appt, self.run, group, self.now)

    def count(self, queue: str) -> int:
        return len(self.groups[queue].cards)

    def _counts(self) -> bool:
        """Refresh the summary counts; whether any changed."""
        moved = False
        for key, text in self.chips.items():
            value = str(self.count(key))
            if text.value != value:
                text.value = value
                moved = True
        for key, control in self.extra.items():
            # a queue-wide action shows only while its queue has something
            if control.visible != bool(self.count(key)):
                control.visible = bool(self.count(key))
                with contextlib.suppress(RuntimeError):
                    control.update()
        return moved

    def load(self) -> None:
        super().load()
        if hasattr(self, "chips"):
            self._counts()

    def changed(self, keys: frozenset[Key]) -> None:
        super().changed(keys)
        if self._counts():
            with contextlib.suppress(RuntimeError):
                self.summary.update()

    def tick(self) -> None:
        """Once a second: countdowns, and pending cards whose deadline passed."""
        late: set[Key] = set()
        for card in self.groups["pending"].cards:
            if overdue([card.record], self.now()):
                late.add(("appointment", card.id))
            elif isinstance(card, QueueCard):
                card.tick()
        if late:
            self.changed(frozenset(late))

    async def run_ticks(self) -> None:
        """The per-second loop, until the board leaves the page."""
        while True:
            await asyncio.sleep(TICK_SECONDS)
            try:
                _ = self.root.page
            except RuntimeError:
                return
            self.tick()
