"""Runs a card's action: ask for what it needs, mark the card busy, dispatch
the intent, and say so when the local check refuses it.

The client answers a dispatch at once (its optimistic apply); the server's
later verdict arrives as a notice through the subscription."""

from __future__ import annotations

from typing import Any

import flet as ft

from domain.acceptance import has_accepted
from domain.stock import below_zero, is_active
from views.components import dialogs
from views.components.card import AppointmentCard
from views.components.feedback import refused, snack
from views.port import ClientPort


class ActionRunner:
    def __init__(self, page: ft.Page, client: ClientPort) -> None:
        self.page = page
        self.client = client

    async def __call__(self, card: AppointmentCard, action: str) -> None:
        async def send(args: dict[str, Any]) -> None:
            await self.send(card, action, args)

        if action == "reject" and has_accepted(card.record, self.client.actor):
            dialogs.ask_reason(
                self.page,
                "Withdraw your acceptance? The operator will review it.",
                "Withdraw",
                send,
            )
        elif action == "reject":
            dialogs.ask_reason(self.page, "Reject this appointment?", "Reject", send)
        elif action == "cancel":
            dialogs.ask_reason(
                self.page, "Cancel this appointment?", "Cancel appointment", send, required=False
            )
        elif action == "complete":
            in_use = [m for m in self.client.view().all("material") if is_active(m)]
            dialogs.ask_materials(self.page, send, in_use)
        elif action == "request_payment":
            dialogs.ask_payment(self.page, self.client, card.record, send)
        elif action == "request_pickup":
            dialogs.ask_pickup(self.page, send)
        else:
            await send({})

    async def send(self, card: AppointmentCard, action: str, args: dict[str, Any]) -> None:
        card.set_busy(action)
        try:
            result = await self.client.dispatch(f"appointment.{action}", card.id, args)
        finally:
            card.busy = None
        current = self.client.view().get("appointment", card.id)
        card.show(current or card.record)
        card.settle()
        refused(self.page, result)
        if result.ok and action == "complete":
            self._below_zero(args)

    def _below_zero(self, args: dict[str, Any]) -> None:
        """Never silently: what the session took below zero, in the domain's
        words (the server's answer says the same)."""
        snap = self.client.view()
        warnings = []
        for mid in dict.fromkeys(
            str(i.get("material_id") or "") for i in args.get("materials") or []
        ):
            material = snap.get("material", mid)
            if material is not None and float(material.get("on_hand") or 0) < 0:
                warnings.append(below_zero(material))
        if warnings:
            snack(self.page, " ".join(warnings), ok=False)
