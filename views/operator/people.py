"""The operator's forms for the people of the business: add someone, edit
them, deactivate or reactivate them, reset their password.

Every check is the domain's (`domain.staff.staff_field`, a username already
taken), shown under its field before anything is sent. Adding someone and
resetting a password go straight to the server (`ClientPort.account`): the
answer carries a one-time password, shown once here to copy and hand over.
Edits and (de)activation are ordinary optimistic commands.
"""

from __future__ import annotations

import contextlib
import uuid
from functools import partial
from typing import Any

import flet as ft

from domain import staff as rules
from domain.errors import InvalidArgs
from domain.records import Record, staff_name
from domain.staff import ROLE_FIELDS, find_username, needs_new_person
from views.components import style
from views.components.dialogs import close, confirm
from views.components.feedback import refused, snack
from views.operator.dialogs import checked, form_dialog
from views.port import ClientPort, Result

ROLE_NAMES = {"therapist": "Therapist", "driver": "Driver", "operator": "Operator"}
LABELS = {
    "username": "Username",
    "name": "Full name",
    "phone": "Phone",
    "specialization": "Specialization",
    "pressure_preference": "Pressure preference",
    "license": "License number",
    "plate": "Plate number",
}
HINTS = {
    "username": "What they sign in with, e.g. lia.ramos",
    "specialization": "Swedish, Shiatsu…",
    "pressure_preference": "light, medium, firm",
}


def open_bookings(client: ClientPort, person_id: str) -> int:
    """How many bookings still to be done name this person."""
    view = client.view()
    count = 0
    for appt in view.all("appointment"):
        if needs_new_person(appt, lambda sid: {"active": False} if sid == person_id else None):
            count += 1
    return count


class PeopleForms:
    def __init__(self, page: ft.Page, client: ClientPort) -> None:
        self.page = page
        self.client = client

    # ---- add / edit
    def edit(self, person: Record | None) -> ft.AlertDialog:
        def shown(key: str) -> str:
            return str((person or {}).get(key) or "")

        fields = {
            key: ft.TextField(label=LABELS[key], value=shown(key), hint_text=HINTS.get(key))
            for key in ("username", "name", "phone", *rules.OPTIONAL)
        }
        role = ft.Dropdown(
            label="Role",
            value=str((person or {}).get("role") or "therapist"),
            options=[ft.DropdownOption(key=k, text=v) for k, v in ROLE_NAMES.items()],
        )
        own = person is not None and person["id"] == self.client.actor.id
        role.disabled = own  # nobody re-roles themselves (the domain says so too)

        def show_role_fields() -> None:
            keep = ROLE_FIELDS.get(str(role.value), ())
            for key in rules.OPTIONAL:
                fields[key].visible = key in keep

        def role_changed(_: ft.Event[ft.Dropdown]) -> None:
            show_role_fields()
            dlg.update()

        role.on_select = role_changed
        show_role_fields()

        def collect() -> dict[str, Any] | None:
            keep = ROLE_FIELDS.get(str(role.value), ())
            args: dict[str, Any] = {
                "username": (fields["username"].value or "").strip(),
                "role": role.value,
                "name": fields["name"].value or "",
                "phone": fields["phone"].value or "",
            }
            for key in keep:
                args[key] = (fields[key].value or "").strip() or None
            checks: list[tuple[Any, Any]] = [
                (fields[k], partial(rules.staff_field, args, k)) for k in ("name", "phone")
            ]
            checks.append((fields["username"], partial(self._username, args, person)))
            checks.append((role, partial(rules.staff_field, args, "role")))
            checks += [(fields[k], partial(rules.staff_field, args, k)) for k in keep]
            if not checked(checks):
                return None
            if person is None:
                return args
            changed = {k: v for k, v in args.items() if (person.get(k) or None) != v}
            if "role" in changed:  # the other role's fields are cleared by the domain
                changed.update({k: args[k] for k in keep})
            return changed

        async def send(args: dict[str, Any]) -> Result:
            if person is None:
                answer = await self.client.account("staff.create", str(uuid.uuid4()), args)
                if answer.ok:
                    self.one_time_password(args["name"], answer.one_time_password)
                return Result(ok=answer.ok, message=answer.message, code=answer.code,
                              record=answer.record)
            if not args:
                return Result(ok=True)
            result = await self.client.dispatch("staff.update", person["id"], args)
            if result.ok:
                snack(self.page, f"{staff_name(person)}: changes saved when the server confirms")
            return result

        title = "Add a person" if person is None else f"Edit {staff_name(person)}"
        controls: list[ft.Control] = [
            role,
            fields["name"],
            fields["username"],
            fields["phone"],
            *(fields[k] for k in rules.OPTIONAL),
        ]
        if person is None:
            controls.append(
                ft.Text(
                    "They get a one-time password to sign in with, and choose their own "
                    "at their first sign-in.",
                    size=13,
                    color=style.MUTED,
                )
            )
        dlg = form_dialog(self.page, title, controls, "Save", collect, send, "person-form")
        return dlg

    def _username(self, args: dict[str, Any], person: Record | None) -> None:
        name = rules.staff_field(args, "username")
        other = find_username(self.client.view(), name, person["id"] if person else None)
        if other is not None:
            raise InvalidArgs(f"{name} is taken (by {staff_name(other)}): choose another.")

    # ---- deactivate / reactivate
    async def set_active(self, person: Record, active: bool) -> None:
        if active:
            await self._send_active(person, True)
            return
        bookings = open_bookings(self.client, person["id"])
        also = (
            f" Their {bookings} open booking{'s' if bookings != 1 else ''} will need someone else."
            if bookings
            else ""
        )

        confirm(
            self.page,
            f"Deactivate {staff_name(person)}?",
            "They are signed out on every device at once and can't sign in until "
            f"you reactivate them.{also}",
            "Deactivate",
            partial(self._send_active, person, False),
            "deactivate-confirm",
            danger=True,
        )

    async def _send_active(self, person: Record, active: bool) -> None:
        result = await self.client.dispatch("staff.update", person["id"], {"active": active})
        refused(self.page, result)
        if result.ok:
            what = "reactivated: they can sign in again" if active else "deactivated"
            snack(self.page, f"{staff_name(person)} {what}")

    # ---- passwords
    async def reset_password(self, person: Record) -> None:
        async def reset() -> None:
            result = await self.client.account("staff.reset_password", person["id"], {})
            refused(self.page, result)
            if result.ok:
                self.one_time_password(staff_name(person), result.one_time_password)

        confirm(
            self.page,
            f"Reset {staff_name(person)}'s password?",
            "They are signed out on every device and get a one-time password to sign in with.",
            "Reset password",
            reset,
            "reset-confirm",
        )

    def one_time_password(self, name: str, password: str | None) -> ft.AlertDialog:
        """Show the one-time password once, to copy and hand over."""
        if password:
            body: list[ft.Control] = [
                ft.Text(f"Give {name} this password to sign in with:"),
                ft.Semantics(
                    identifier="one-time-password",
                    label=password,  # a selectable text isn't read out on its own
                    content=ft.Text(
                        password,
                        selectable=True,
                        size=26,
                        weight=ft.FontWeight.BOLD,
                        font_family="monospace",
                    ),
                ),
                ft.Text(
                    "It is shown only now. They choose their own password when they first sign in.",
                    size=13,
                    color=style.MUTED,
                ),
            ]
        else:  # the answer of a retry: the server keeps no copy
            body = [
                ft.Text(
                    f"Saved, but the one-time password for {name} couldn't be shown. "
                    "Use Reset password to get a new one.",
                )
            ]

        async def copy(_: ft.Event[ft.TextButton]) -> None:
            with contextlib.suppress(Exception):  # no clipboard here: it can be selected
                await ft.Clipboard().set(password or "")
            snack(self.page, "Password copied")

        def done(_: ft.Event[ft.Button]) -> None:
            close(dlg)

        dlg = ft.AlertDialog(
            modal=True,
            title=ft.Text("One-time password"),
            content=ft.Semantics(
                identifier="one-time-dialog",
                container=True,
                content=ft.Column(body, tight=True, width=380, spacing=12),
            ),
            actions=[
                *([ft.TextButton("Copy", icon=ft.Icons.COPY, on_click=copy)] if password else []),
                ft.FilledButton("Done", on_click=done),
            ],
        )
        self.page.show_dialog(dlg)
        return dlg


__all__ = ["PeopleForms", "open_bookings"]
