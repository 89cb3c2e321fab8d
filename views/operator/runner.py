"""Runs a queue card's action: open the dialog it needs, then dispatch.

Dialog sends return the client's immediate answer, so a dialog stays open
with the domain's message when the local check refuses."""

from __future__ import annotations

from typing import Any

import flet as ft

from views.components import dialogs as common
from views.components.card import AppointmentCard
from views.components.feedback import refused
from views.operator import dialogs
from views.operator.booking import open_booking
from views.port import ClientPort, Result

# runner action -> (command, fixed args)
DIRECT: dict[str, tuple[str, dict[str, Any]]] = {
    "start": ("appointment.start", {}),
    "deny": ("appointment.review_rejection", {"decision": "deny"}),
    "accept_rejection": ("appointment.review_rejection", {"decision": "accept"}),
}

COMMANDS = {
    "verify_payment": "appointment.verify_payment",
    "reassign": "appointment.review_rejection",
    "assign_pickup": "appointment.assign_pickup_driver",
    "cancel": "appointment.cancel",
}


class OperatorRunner:
    def __init__(self, page: ft.Page, client: ClientPort) -> None:
        self.page = page
        self.client = client

    async def __call__(self, card: AppointmentCard, action: str) -> None:
        appt = self.client.view().get("appointment", card.id) or card.record

        async def send(args: dict[str, Any]) -> Result:
            return await self.send(card, COMMANDS[action], args)

        if action in DIRECT:
            name, args = DIRECT[action]
            refused(self.page, await self.send(card, name, args))
        elif action == "edit":
            open_booking(self.page, self.client, appt)
        elif action == "verify_payment":
            dialogs.verify_payment(self.page, self.client, appt, send)
        elif action == "reassign":
            dialogs.reassign(self.page, self.client, appt, send)
        elif action == "assign_pickup":
            dialogs.assign_pickup(self.page, self.client, appt, send)
        elif action == "cancel":

            async def cancel(args: dict[str, Any]) -> None:
                refused(self.page, await send(args))

            common.ask_reason(
                self.page, "Cancel this appointment?", "Cancel appointment", cancel, required=False
            )

    async def send(self, card: AppointmentCard, name: str, args: dict[str, Any]) -> Result:
        card.set_busy(name)
        try:
            result = await self.client.dispatch(name, card.id, args)
        finally:
            card.busy = None
        current = self.client.view().get("appointment", card.id)
        if current is not None or not result.ok:
            card.show(current or card.record)
        card.settle()
        return result
