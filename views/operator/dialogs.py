"""The operator's queue dialogs: verify a payment, reassign a rejected
booking, assign a pickup driver, confirm cancelling what is overdue.

Field checks are the domain's own validators (`domain.validate`), so the
words under a field are the words the server would answer with; choices
offered (therapists who could take the slot, free drivers longest idle
first) come from `domain.booking` and `domain.pickup`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import flet as ft

from domain import validate as v
from domain.appointments import PAYMENT_METHODS, needs_reference
from domain.booking import slot_problem
from domain.errors import DomainError
from domain.pickup import free_drivers
from domain.records import Record, staff_name
from views.components import style
from views.components.dialogs import close, modal
from views.components.feedback import DIDNT_WORK
from views.components.receipt import ReceiptField
from views.operator.words import METHOD_LABELS
from views.port import ClientPort, Result

# Sends the args; the dialog closes on success and shows the message otherwise.
Send = Callable[[dict[str, Any]], Awaitable[Result]]

def number(text: str | None) -> Any:
    """The typed text as a number when it is one; otherwise the text itself,
    so the domain's validator says what is wrong with it."""
    raw = (text or "").strip().replace(",", "")
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        return raw


# What shows the domain's words: a field's error, or an error text of its own
Marked = ft.TextField | ft.Dropdown | ft.Text


def show_error(control: Marked, message: str | None) -> None:
    """Put `message` on `control` (None clears it)."""
    if isinstance(control, ft.Dropdown):
        control.error_text = message
    elif isinstance(control, ft.TextField):
        control.error = message
    else:
        control.value, control.visible = message or "", message is not None


def checked(checks: Iterable[tuple[Marked, Callable[[], object]]]) -> bool:
    """Run each of the domain's checks and show its refusal (or none) on its
    control; whether every one passed."""
    ok = True
    for control, check in checks:
        message = None
        try:
            check()
        except DomainError as exc:
            message, ok = exc.message, False
        show_error(control, message)
    return ok


def form_dialog(
    page: ft.Page,
    title: str,
    fields: list[ft.Control],
    submit_label: str,
    collect: Callable[[], dict[str, Any] | None],
    send: Send,
    identifier: str,
) -> ft.AlertDialog:
    """A modal form: `collect` returns the args or None (after marking the
    fields); a refusal from `send` shows under the fields, the dialog stays."""
    error = ft.Text(color=style.BAD, visible=False)

    async def submit(_: ft.Event[ft.Button]) -> None:
        error.visible = False
        args = collect()
        if args is not None:
            result = await send(args)
            if result.ok:
                close(dlg)
                return
            error.value = result.message or DIDNT_WORK
            error.visible = True
        dlg.update()

    dlg = modal(
        page,
        title,
        ft.Semantics(
            identifier=identifier,
            container=True,
            # every field as wide as the dialog (text fields were narrower
            # than the dropdowns)
            content=ft.Column(
                [*fields, error],
                tight=True,
                width=380,
                spacing=12,
                horizontal_alignment=ft.CrossAxisAlignment.STRETCH,
            ),
        ),
        ft.FilledButton(submit_label, on_click=submit),
    )
    return dlg


def verify_payment(
    page: ft.Page, client: ClientPort, appt: Record, send: Send
) -> ft.AlertDialog:
    # what the therapist at the door said the client paid with, and the photo
    claim = appt.get("payment_claim") or {}
    method = ft.Dropdown(
        label="Method",
        value=claim.get("method") or "cash",
        options=[ft.DropdownOption(key=m, text=METHOD_LABELS[m]) for m in PAYMENT_METHODS],
        width=380,
    )
    amount = ft.TextField(label="Amount", keyboard_type=ft.KeyboardType.NUMBER)
    receipt = ft.TextField(
        label="Receipt reference", helper="Not needed for cash, nor with a receipt photo"
    )
    photo = ReceiptField(client, str(appt["id"]), claim.get("receipt_id"))
    extension = ft.TextField(
        label="Service extension (optional)", keyboard_type=ft.KeyboardType.NUMBER
    )

    def collect() -> dict[str, Any] | None:
        args: dict[str, Any] = {"method": method.value, "amount": number(amount.value)}
        receipt_text = (receipt.value or "").strip()
        if receipt_text:
            args["receipt_ref"] = receipt_text
        if photo.receipt_id and method.value != "cash":
            args["receipt_id"] = photo.receipt_id
        ext = number(extension.value)
        if ext is not None:
            args["extension_amount"] = ext
        ok = checked(
            [
                (method, lambda: v.choice(args, "method", PAYMENT_METHODS, "a payment method")),
                (amount, lambda: v.amount(args, "amount", "the amount")),
                (
                    receipt,
                    lambda: v.text(
                        args,
                        "receipt_ref",
                        "the receipt reference",
                        required=needs_reference(args["method"], args.get("receipt_id")),
                    ),
                ),
                (
                    extension,
                    lambda: v.amount(
                        args, "extension_amount", "the extension amount", required=False
                    ),
                ),
            ]
        )
        return args if ok else None

    title = f"Verify payment — {appt.get('client_name') or 'client'}"
    dlg = form_dialog(
        page,
        title,
        [ft.Semantics(identifier="verify-method", container=True, content=method),
         amount, receipt, photo.root, extension],
        "Verify payment",
        collect,
        send,
        f"verify-{appt['id']}",
    )
    page.run_task(photo.load)
    return dlg


def candidates(client: ClientPort, appt: Record) -> list[tuple[str, str]]:
    """Who may replace the rejecter: therapists free for the slot (the domain
    says who), or for a driver's rejection the other active drivers."""
    snap = client.view()
    rejection = appt.get("rejection") or {}
    staff = sorted(snap.all("staff"), key=staff_name)
    if rejection.get("role") == "driver":
        return [
            (d["id"], staff_name(d))
            for d in staff
            if d.get("role") == "driver"
            and d.get("active", True)
            and d["id"] != appt.get("driver_id")
        ]
    taken = set(appt.get("therapist_ids") or [])
    return [
        (t["id"], staff_name(t))
        for t in staff
        if t.get("role") == "therapist"
        and t["id"] not in taken
        and slot_problem(
            snap,
            [t["id"]],
            str(appt["date"]),
            str(appt["start_time"]),
            str(appt["end_time"]),
            ignore_id=appt["id"],
        )
        is None
    ]


def reassign(page: ft.Page, client: ClientPort, appt: Record, send: Send) -> ft.AlertDialog:
    driver = (appt.get("rejection") or {}).get("role") == "driver"
    who = "driver" if driver else "therapist"
    options = candidates(client, appt)
    choice = ft.Dropdown(
        label=f"New {who}",
        options=[ft.DropdownOption(key=k, text=name) for k, name in options],
        width=380,
    )
    fields: list[ft.Control] = [choice]
    if not options:
        fields.insert(0, ft.Text(f"No other {who} is available for this slot.", color=style.WARN))

    def collect() -> dict[str, Any] | None:
        if not choice.value:
            choice.error_text = f"Please choose the new {who}."
            return None
        choice.error_text = None
        key = "driver_id" if driver else "therapist_id"
        return {"decision": "reassign", key: choice.value}

    return form_dialog(
        page,
        f"Reassign to another {who}",
        fields,
        "Reassign",
        collect,
        send,
        f"reassign-{appt['id']}",
    )


def assign_pickup(page: ft.Page, client: ClientPort, appt: Record, send: Send) -> ft.AlertDialog:
    snap = client.view()
    free = free_drivers(snap.all("staff"), snap.all("appointment"))
    group = ft.RadioGroup(
        value=free[0]["id"] if free else None,
        content=ft.Column(
            [
                ft.Radio(
                    value=d["id"],
                    label=f"{staff_name(d)} — " + idle_words(d, first=i == 0),
                )
                for i, d in enumerate(free)
            ],
            spacing=4,
        ),
    )
    fields: list[ft.Control] = [group]
    if not free:
        fields = [ft.Text("No driver is free right now.", color=style.WARN)]

    def collect() -> dict[str, Any] | None:
        return {"driver_id": group.value} if group.value else None

    return form_dialog(
        page,
        f"Pickup for {appt.get('client_name') or 'client'}",
        fields,
        "Assign driver",
        collect,
        send,
        f"pickup-{appt['id']}",
    )


def idle_words(driver: Record, first: bool) -> str:
    since = driver.get("last_available_at")
    words = f"free since {str(since)[11:16]} UTC" if since else "free"
    return f"idle longest, {words}" if first else words


def confirm_overdue(page: ft.Page, count: int, send: Send) -> ft.AlertDialog:
    noun = "appointment" if count == 1 else "appointments"
    text = ft.Text(
        f"Cancel {count} overdue {noun}? Their therapists never accepted in time; "
        "they are kept as auto-cancelled."
    )
    return form_dialog(
        page,
        "Cancel overdue",
        [text],
        f"Cancel {count} overdue",
        lambda: {},
        send,
        "confirm-overdue",
    )
