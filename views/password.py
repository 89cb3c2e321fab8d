"""Choosing your own password: before anything else after signing in with a
one-time password (the sign-in answer says `must_change_password`).

The new password is checked with the domain's rule (`password_problem`) as
it is typed in, so the screen and the server say the same; the server
checks the current one. Changing it keeps this device signed in and signs
out every other one (server/credentials.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import flet as ft

from domain.staff import password_problem
from views.components import style
from views.login import FORM_WIDTH, centered
from views.port import ClientPort

Done = Callable[[], Awaitable[None]]


def repeat_problem(new: str, repeat: str) -> str | None:
    return None if new == repeat else "The two passwords don't match."


class ChangePasswordView:
    def __init__(self, page: ft.Page, client: ClientPort, on_done: Done, on_logout: Done) -> None:
        self.page = page
        self.client = client
        self.on_done = on_done
        self.on_logout = on_logout
        name = str(client.user.get("name") or client.user.get("username") or "")
        self.current = ft.TextField(
            label="One-time password",
            hint_text="The password the office gave you",
            password=True,
            can_reveal_password=True,
            autofocus=True,
        )
        self.new = ft.TextField(
            label="New password",
            password=True,
            can_reveal_password=True,
            helper="At least 8 characters",
            on_change=self._typed,
        )
        self.repeat = ft.TextField(
            label="New password again",
            password=True,
            can_reveal_password=True,
            on_submit=self._submit,
        )
        self.error = ft.Text(color=style.BAD, visible=False)
        self.button = ft.FilledButton(
            "Save my password", on_click=self._submit, height=style.BIG_BUTTON_HEIGHT
        )
        self.root = ft.Semantics(
            identifier="change-password",
            container=True,
            content=ft.Container(
                ft.Column(
                    [
                        ft.Text("Choose your password", size=28, weight=ft.FontWeight.BOLD),
                        ft.Text(
                            f"Welcome{', ' + name if name else ''}! You signed in with a "
                            "one-time password. Choose your own to carry on.",
                            color=style.MUTED,
                        ),
                        self.current,
                        self.new,
                        self.repeat,
                        self.error,
                        self.button,
                        ft.TextButton("Sign out", on_click=self._logout),
                    ],
                    spacing=16,
                    tight=True,
                    horizontal_alignment=ft.CrossAxisAlignment.STRETCH,
                ),
                width=min(FORM_WIDTH, page.width or FORM_WIDTH),
                padding=24,
            ),
        )

    def mount(self) -> None:
        page = self.page
        page.navigation_bar = None
        page.appbar = None
        page.padding = 0
        page.controls = [centered(self.root)]
        page.update()

    def _username(self) -> str:
        return str(self.client.user.get("username") or "")

    def _typed(self, _: ft.Event[ft.TextField]) -> None:
        value = self.new.value or ""
        self.new.error = password_problem(value, self._username()) if value else None
        self.new.update()

    def _check(self) -> bool:
        new, repeat = self.new.value or "", self.repeat.value or ""
        self.current.error = None if self.current.value else "Enter the one-time password."
        self.new.error = password_problem(new, self._username())
        self.repeat.error = None if self.new.error else repeat_problem(new, repeat)
        if not self.new.error and new == (self.current.value or ""):
            self.new.error = "The new password must differ from the current one."
        return not (self.current.error or self.new.error or self.repeat.error)

    async def _submit(self, _: ft.Event[ft.TextField] | ft.Event[ft.Button]) -> None:
        if self.button.disabled:
            return
        self.error.visible = False
        if not self._check():
            self.page.update()
            return
        self.button.disabled = True
        self.button.content = "Saving…"
        self.page.update()
        result = await self.client.account(
            "account.change_password",
            self.client.actor.id,
            {"current_password": self.current.value, "new_password": self.new.value},
        )
        if result.ok:
            await self.on_done()
            return
        if result.code == "wrong_password":
            self.current.error = result.message
        else:
            self.error.value = result.message or "That didn't work. Please try again."
            self.error.visible = True
        self.button.disabled = False
        self.button.content = "Save my password"
        self.page.update()

    async def _logout(self, _: ft.Event[ft.TextButton]) -> None:
        await self.on_logout()
