"""Sign in: server (prefilled), username, password; friendly errors;
remembers the last user on this device."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import flet as ft

from views.components import style
from views.port import ClientPort, LoginFailed, UiConfig
from views.prefs import Prefs

SignedIn = Callable[[ClientPort], Awaitable[None]]


class LoginView:
    def __init__(
        self,
        page: ft.Page,
        config: UiConfig,
        prefs: Prefs,
        session_dir: str | None,
        on_signed_in: SignedIn,
    ) -> None:
        self.page = page
        self.config = config
        self.prefs = prefs
        self.session_dir = session_dir
        self.on_signed_in = on_signed_in
        self.server = ft.TextField(
            label="Server", value=config.server_url, keyboard_type=ft.KeyboardType.URL
        )
        self.username = ft.TextField(label="Username", autofocus=True, on_submit=self._submit)
        self.password = ft.TextField(
            label="Password", password=True, can_reveal_password=True, on_submit=self._submit
        )
        self.error = ft.Text(color=style.BAD, visible=False)
        self.button = ft.FilledButton(
            "Sign in", on_click=self._submit, height=style.BIG_BUTTON_HEIGHT
        )
        hint = (
            [
                ft.Text(
                    "Demo logins: " + ", ".join(config.demo_logins) + " (password demo1234)",
                    size=12,
                    color=style.MUTED,
                )
            ]
            if config.demo_logins
            else []
        )
        self.root = ft.Container(
            ft.Column(
                [
                    ft.Text("Tandem", size=32, weight=ft.FontWeight.BOLD),
                    ft.Text("Sign in to see your day.", color=style.MUTED),
                    self.server,
                    self.username,
                    self.password,
                    self.error,
                    self.button,
                    *hint,
                ],
                spacing=16,
                tight=True,
                horizontal_alignment=ft.CrossAxisAlignment.STRETCH,
            ),
            width=420,
            padding=24,
        )

    async def mount(self) -> None:
        self.page.navigation_bar = None
        self.page.controls = [ft.Row([self.root], alignment=ft.MainAxisAlignment.CENTER)]
        self.page.vertical_alignment = ft.MainAxisAlignment.CENTER
        self.page.update()
        last = await self.prefs.get("last_user")
        if last and not self.username.value:
            self.username.value = last
            self.page.update()

    async def _submit(self, _: ft.Event[ft.TextField] | ft.Event[ft.Button]) -> None:
        username = (self.username.value or "").strip()
        password = self.password.value or ""
        server = (self.server.value or "").strip().rstrip("/")
        if not username or not password:
            self._fail("Enter your username and password.")
            return
        self.button.disabled = True
        self.button.content = "Signing in…"
        self.error.visible = False
        self.page.update()
        try:
            client = await self.config.connect(server, username, password, self.session_dir)
        except LoginFailed as e:
            self._fail(str(e))
            return
        except Exception:  # never show a stack trace on the sign-in screen
            self._fail("Couldn't reach the server. Check the address and your connection.")
            return
        finally:
            self.button.disabled = False
            self.button.content = "Sign in"
        await self.prefs.set("last_user", username)
        self.page.vertical_alignment = ft.MainAxisAlignment.START
        await self.on_signed_in(client)

    def _fail(self, message: str) -> None:
        self.error.value = message
        self.error.visible = True
        self.page.update()
