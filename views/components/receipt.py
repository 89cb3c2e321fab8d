"""A payment receipt photo in a dialog: attach one (the operator verifying,
or the therapist at the door) and see it.

The photo is picked with Flet's FilePicker through a `PickFiles` client
action on the button, so the browser opens its file dialog inside the tap
(iOS Safari allows no other way), with the bytes read on the device
(`with_data`): they come to the session in the picker's result and go to
the server's receipt route from there (`ClientPort.upload_receipt`), never
through page upload URLs or an upload folder. What the server refuses (too
large, not an image) shows under the button in the server's words; the
domain's check runs first so nothing too large is sent at all."""

from __future__ import annotations

import contextlib

import flet as ft

from domain import receipts
from views.components import style
from views.port import ClientPort, ServerRefused

METHOD_LABELS = {"cash": "Cash", "gcash": "GCash", "bank_transfer": "Bank transfer", "card": "Card"}

THUMB = 160  # px: a receipt is readable enough to check the amount


def photo(data: bytes, identifier: str, size: int = THUMB) -> ft.Control:
    """A receipt photo as the dialog and the history show it."""
    return ft.Semantics(
        identifier=identifier,
        label="Receipt photo",
        content=ft.Image(src=data, width=size, height=size, fit=ft.BoxFit.CONTAIN,
                         border_radius=8),
    )


class ReceiptField:
    """The button, what happened, and the attached photo; `receipt_id` is
    what the payment command sends."""

    def __init__(self, client: ClientPort, appointment_id: str,
                 receipt_id: str | None = None) -> None:
        self.client = client
        self.appointment_id = appointment_id
        self.receipt_id = receipt_id
        self.picker = ft.FilePicker(on_result=self._on_result)
        self.button = ft.Button(
            "Attach receipt photo",
            icon=ft.Icons.RECEIPT_LONG,
            action=ft.PickFiles(self.picker, file_type=ft.FilePickerFileType.IMAGE,
                                with_data=True, cancel_upload_on_window_blur=False),
        )
        self.status = ft.Text(size=12, color=style.MUTED, visible=False)
        self.shown = ft.Container(visible=False)
        self.root = ft.Semantics(
            identifier=f"receipt-{appointment_id}",
            container=True,
            content=ft.Column([self.button, self.status, self.shown], spacing=6, tight=True),
        )
        if receipt_id:
            self.button.content = "Replace receipt photo"

    async def load(self) -> None:
        """Show the photo already attached (the therapist's, say)."""
        if not self.receipt_id:
            return
        try:
            data = await self.client.receipt(self.appointment_id, self.receipt_id)
        except ServerRefused as exc:
            self._say(f"The attached receipt can't be shown: {exc.message}", bad=True)
            return
        self._show(data, "Receipt photo attached.")

    async def _on_result(self, e: ft.FilePickerResultEvent) -> None:
        if not e.files:
            return  # the person closed the dialog
        chosen = e.files[0]
        data = chosen.bytes
        if isinstance(data, list):
            data = bytes(data)
        if data is None:
            self._say("That photo couldn't be read on this device. Please try another.",
                      bad=True)
            return
        await self.take(chosen.name, data)

    async def take(self, name: str, data: bytes) -> None:
        """A photo was picked: check it as the server would, send it, show it."""
        try:
            # the type here; the size is the server's setting, its refusal says it
            receipts.accepted(data, len(data))
        except receipts.ReceiptRefused as exc:
            self._say(exc.message, bad=True)
            return
        self._say(f"Sending {name}…")
        try:
            rid = await self.client.upload_receipt(self.appointment_id, data)
        except ServerRefused as exc:
            self._say(exc.message, bad=True)
            return
        self.receipt_id = rid
        self.button.content = "Replace receipt photo"
        self._show(data, f"Receipt photo attached ({name}).")

    def _show(self, data: bytes, words: str) -> None:
        self.shown.content = photo(data, f"receipt-photo-{self.appointment_id}")
        self.shown.visible = True
        self._say(words)

    def _say(self, words: str, *, bad: bool = False) -> None:
        self.status.value, self.status.visible = words, True
        self.status.color = style.BAD if bad else style.OK
        with contextlib.suppress(RuntimeError):  # not on the page yet
            self.root.update()
