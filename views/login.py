"""Sign in: server, username, password; friendly errors; remembers the last
user (and, on a device, the last server).

The server address is the app's to choose only where the app runs on the
user's device (`UiConfig.device`): prefilled with the one last used here,
else the one it was started with (TANDEM_SERVER, or the embedded server's).
A web tab is a client running inside the server that served it (the
embedded server, or `--server` chosen by whoever started it): the field is
hidden there, because a person in a browser expects to sign in to the site
they opened, and an address typed into a tab would make that server connect
wherever it says.

Signing in again (`Again`: the server stopped accepting the saved sign-in
of a device's user) keeps that user and server: only the password is asked,
and the cached data and the changes waiting stay for after it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import flet as ft

from views.components import style
from views.port import ClientPort, LoginFailed, UiConfig
from views.prefs import Prefs

SignedIn = Callable[[ClientPort], Awaitable[None]]
Switch = Callable[[], Awaitable[None]]
FORM_WIDTH = 420  # at most; a phone gets its full width


@dataclass(frozen=True)
class Again:
    """Sign the same user in again on a device, keeping their data."""

    username: str
    waiting: int  # changes queued, to be sent once signed in


def centered(form: ft.Control) -> ft.Control:
    """A sign-in step's form in the middle of the page, scrolling when the
    page is shorter (a phone's keyboard takes half the screen)."""
    return ft.Column(
        [ft.Row([form], alignment=ft.MainAxisAlignment.CENTER)],
        alignment=ft.MainAxisAlignment.CENTER,
        scroll=ft.ScrollMode.AUTO,
        expand=True,
    )


class BadAddress(ValueError):
    """A server address that can't be one; the message says what to type."""


def server_address(text: str) -> str:
    """The server URL for what was typed: trimmed, without a trailing slash,
    https:// when no scheme was given (what a phone user types is a host)."""
    url = text.strip()
    if not url:
        raise BadAddress("Enter the server's address, like https://tandem.example.com.")
    if "://" not in url:
        url = f"https://{url}"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in url:
        raise BadAddress(
            f"“{text.strip()}” isn't a server address. "
            "Type it like https://tandem.example.com."
        )
    return url.rstrip("/")


class LoginView:
    def __init__(
        self,
        page: ft.Page,
        config: UiConfig,
        prefs: Prefs,
        session_dir: str | None,
        on_signed_in: SignedIn,
        again: Again | None = None,
        on_switch: Switch | None = None,
        why: str | None = None,  # why the last sign-in ended, when the server said
    ) -> None:
        self.page = page
        self.config = config
        self.prefs = prefs
        self.session_dir = session_dir
        self.on_signed_in = on_signed_in
        self.again = again
        self.on_device = config.device is not None
        self.server = ft.TextField(
            label="Server",
            value=config.server_url,
            hint_text="https://tandem.example.com",
            keyboard_type=ft.KeyboardType.URL,
            autocorrect=False,
            visible=self.on_device,
            read_only=again is not None,
        )
        self.username = ft.TextField(
            label="Username",
            value=again.username if again else "",
            read_only=again is not None,
            autofocus=again is None,
            autocorrect=False,
            on_submit=self._submit,
        )
        self.password = ft.TextField(
            label="Password",
            password=True,
            can_reveal_password=True,
            autofocus=again is not None,
            on_submit=self._submit,
        )
        self.error = ft.Text(why or "", color=style.BAD, visible=why is not None)
        self.button = ft.FilledButton(
            "Sign in", on_click=self._submit, height=style.BIG_BUTTON_HEIGHT
        )
        # the phone changed hands: the other user signs in (the expired
        # session is forgotten, its unsent changes kept for its user)
        switch = (
            [
                ft.TextButton(
                    f"Not {again.username}? Sign in as someone else", on_click=self._switch
                )
            ]
            if again is not None and on_switch is not None
            else []
        )
        self.on_switch = on_switch
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
                    ft.Text(self._lead(), color=style.MUTED),
                    self.server,
                    self.username,
                    self.password,
                    self.error,
                    self.button,
                    *switch,
                    *hint,
                ],
                spacing=16,
                tight=True,
                horizontal_alignment=ft.CrossAxisAlignment.STRETCH,
            ),
            width=self._width(page.width),
            padding=24,
        )

    def _lead(self) -> str:
        if self.again is None:
            return "Sign in to see your day."
        n = self.again.waiting
        kept = (
            f" Your {n} waiting change{'s' if n != 1 else ''} will be sent then."
            if n
            else ""
        )
        return "Your sign-in has expired: enter your password to carry on." + kept

    @staticmethod
    def _width(page_width: float | None) -> float:
        # the whole width on a phone (360 px and up), never wider than the form
        return min(FORM_WIDTH, page_width or FORM_WIDTH)

    async def mount(self) -> None:
        page = self.page
        page.navigation_bar = None
        page.padding = 0
        page.on_resize = self._resized
        page.vertical_alignment = ft.MainAxisAlignment.START
        page.controls = [centered(self.root)]
        page.update()
        if self.again is not None:
            return
        changed = False
        last = await self.prefs.get("last_user")
        if last and not self.username.value:
            self.username.value = last
            changed = True
        server = await self.prefs.get("last_server") if self.on_device else None
        if server:
            self.server.value = server
            changed = True
        if changed:
            page.update()

    def _resized(self, e: ft.PageResizeEvent) -> None:
        self.root.width = self._width(e.width)
        self.page.update()

    async def _submit(self, _: ft.Event[ft.TextField] | ft.Event[ft.Button]) -> None:
        if self.button.disabled:  # Enter pressed while signing in
            return
        username = (self.username.value or "").strip()
        password = self.password.value or ""
        try:
            server = server_address(self.server.value or "")
        except BadAddress as e:
            self._fail(str(e))
            return
        if not username or not password:
            self._fail("Enter your username and password.")
            return
        self.server.value = server
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
            self._fail(f"Can't reach {server} — check the address and your connection.")
            return
        await self.prefs.set("last_user", username)
        if self.on_device:
            await self.prefs.set("last_server", server)
        self.page.on_resize = None
        await self.on_signed_in(client)

    async def _switch(self, _: ft.Event[ft.TextButton]) -> None:
        if self.on_switch is not None and not self.button.disabled:
            self.button.disabled = True  # one way out at a time
            await self.on_switch()

    def _fail(self, message: str) -> None:
        self.error.value = message
        self.error.visible = True
        self.button.disabled = False  # ready for another try
        self.button.content = "Sign in"
        self.page.update()
