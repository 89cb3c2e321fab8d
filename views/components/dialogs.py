"""Dialogs that collect an action's arguments before it is sent.

Each returns the args through `on_submit`; checking them is the domain's
job, except for what the form itself needs (a required reason)."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import flet as ft

from domain import validate as v
from domain.appointments import PAYMENT_METHODS
from domain.errors import DomainError
from domain.receipts import RECEIPT_METHODS
from domain.records import Record
from views.components import style
from views.components.receipt import METHOD_LABELS, ReceiptField
from views.port import ClientPort

Submit = Callable[[dict[str, Any]], Awaitable[None]]


def close(dialog: ft.DialogControl) -> None:
    """Close this dialog. Not `page.pop_dialog()`: that closes the topmost open
    dialog control, and a snackbar is one: after any snackbar that came up
    while a dialog was open (a "saved" notice, say) it closed the snackbar and
    left the dialog standing."""
    dialog.open = False
    with contextlib.suppress(RuntimeError):  # the session is gone
        dialog.update()


def modal(
    page: ft.Page, title: str, content: ft.Control, go: ft.FilledButton
) -> ft.AlertDialog:
    """Show every dialog's frame: `title` over `content`, then Back (which
    closes it) and the one button that goes on, `go`."""

    def back(_: ft.Event[ft.TextButton]) -> None:
        close(dlg)

    dlg = ft.AlertDialog(
        modal=True,
        title=ft.Text(title),
        content=content,
        # a long stock list in the complete dialog outgrows a phone: the dialog
        # scrolls (Flutter's own way; a scrolling Column inside it took the
        # screen's whole height for two fields)
        scrollable=True,
        actions=[ft.TextButton("Back", on_click=back), go],
    )
    page.show_dialog(dlg)
    return dlg


def confirm(
    page: ft.Page,
    title: str,
    text: str,
    yes_label: str,
    on_yes: Callable[[], Awaitable[None]],
    identifier: str,
    danger: bool = False,
) -> ft.AlertDialog:
    """Ask before a step that can't be taken back in one tap: Back, or
    `yes_label` (red when `danger`)."""

    async def yes(_: ft.Event[ft.Button]) -> None:
        close(dlg)
        await on_yes()

    dlg = modal(
        page,
        title,
        ft.Semantics(identifier=identifier, container=True, content=ft.Text(text, width=380)),
        ft.FilledButton(yes_label, on_click=yes, bgcolor=style.BAD if danger else None),
    )
    return dlg


def _dialog(
    page: ft.Page,
    title: str,
    fields: list[ft.Control],
    submit_label: str,
    collect: Callable[[], dict[str, Any] | None],
    on_submit: Submit,
) -> ft.AlertDialog:
    async def submit(_: ft.Event[ft.Button]) -> None:
        args = collect()
        if args is None:
            dlg.update()
            return
        close(dlg)
        await on_submit(args)

    dlg = modal(
        page,
        title,
        ft.Column(fields, tight=True, width=360, spacing=12),
        ft.FilledButton(submit_label, on_click=submit),
    )
    return dlg


def ask_reason(
    page: ft.Page, title: str, submit_label: str, on_submit: Submit, required: bool = True
) -> ft.AlertDialog:
    reason = ft.TextField(label="Reason", multiline=True, min_lines=2, autofocus=True)

    def collect() -> dict[str, Any] | None:
        text = (reason.value or "").strip()
        if required and not text:
            reason.error = "Please say why."
            return None
        return {"reason": text} if text else {}

    return _dialog(page, title, [reason], submit_label, collect, on_submit)


def ask_materials(
    page: ft.Page, on_submit: Submit, stock: Sequence[Record] = ()
) -> ft.AlertDialog:
    """What the session used: a quantity for each material in stock (sent
    as `{material_id, quantity}`, taken from stock), and free text for
    anything else, one per line (`{name, quantity}`, no stock)."""
    picks = [
        (
            m,
            ft.TextField(
                label=f"{m.get('name')} ({m.get('unit')})",
                keyboard_type=ft.KeyboardType.NUMBER,
                hint_text="Leave empty if not used",
            ),
        )
        for m in sorted(stock, key=lambda m: str(m.get("name") or "").lower())
    ]
    materials = ft.TextField(
        label="Anything else used (optional)" if picks else "Materials used (optional)",
        hint_text="One per line, e.g. Massage oil 2",
        multiline=True,
        min_lines=2 if picks else 3,
    )

    def collect() -> dict[str, Any] | None:
        items: list[dict[str, Any]] = []
        ok = True
        for m, field in picks:
            raw = (field.value or "").strip().replace(",", "")
            field.error = None
            if not raw:
                continue
            item: dict[str, Any] = {"material_id": m["id"], "quantity": _figure(raw)}
            try:
                v.amount(item, "quantity", "the quantity")
            except DomainError as exc:
                field.error, ok = exc.message, False
                continue
            items.append(item)
        if not ok:
            return None
        for line in (materials.value or "").splitlines():
            words = line.strip().rsplit(" ", 1)
            if not words[0]:
                continue
            if len(words) == 2 and words[1].isdigit():
                items.append({"name": words[0], "quantity": int(words[1])})
            else:
                items.append({"name": line.strip(), "quantity": 1})
        return {"materials": items} if items else {}

    fields: list[ft.Control] = [ft.Text("Materials used")] if picks else []
    fields += [field for _, field in picks] + [materials]
    return _dialog(page, "Complete the session", fields, "Complete", collect, on_submit)


def _figure(raw: str) -> Any:
    """The typed quantity as a number, or the text (the domain says what's wrong)."""
    try:
        return float(raw)
    except ValueError:
        return raw


def ask_pickup(page: ft.Page, on_submit: Submit) -> ft.AlertDialog:
    urgency = ft.RadioGroup(
        value="normal",
        content=ft.Row(
            [
                ft.Radio(value="normal", label="Normal"),
                ft.Radio(value="urgent", label="Urgent"),
            ]
        ),
    )
    notes = ft.TextField(label="Notes for the driver", multiline=True, min_lines=2)

    def collect() -> dict[str, Any] | None:
        args: dict[str, Any] = {"urgency": urgency.value or "normal"}
        if (notes.value or "").strip():
            args["notes"] = (notes.value or "").strip()
        return args

    return _dialog(
        page,
        "Request a pickup",
        [ft.Text("Urgency"), urgency, notes],
        "Request pickup",
        collect,
        on_submit,
    )


def ask_payment(
    page: ft.Page, client: ClientPort, appt: Record, on_submit: Submit
) -> ft.AlertDialog:
    """The therapist at the door: how the client paid and, for GCash, a bank
    transfer or a card, a photo of the receipt for the operator to verify."""
    method = ft.Dropdown(
        label="The client paid with",
        value="cash",
        options=[ft.DropdownOption(key=m, text=METHOD_LABELS[m]) for m in PAYMENT_METHODS],
    )
    photo = ReceiptField(client, str(appt["id"]))
    photo.root.visible = False

    def chosen(_: ft.Event[ft.Dropdown]) -> None:
        photo.root.visible = method.value in RECEIPT_METHODS
        dlg.update()

    method.on_select = chosen

    def collect() -> dict[str, Any] | None:
        args: dict[str, Any] = {"method": method.value or "cash"}
        if photo.receipt_id and method.value in RECEIPT_METHODS:
            args["receipt_id"] = photo.receipt_id
        return args

    dlg = _dialog(page, "Request payment", [method, photo.root], "Request payment", collect,
                  on_submit)
    return dlg
