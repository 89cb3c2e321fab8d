"""The Flet entry point: one call per browser tab (session).

Each session gets its own client, with its own store directory under
`sessions_dir/<uuid>/` (or memory), so tabs never share state. The client is
stopped when the user logs out or the session closes, and the directory goes
with it, unless the client left an outbox there with commands it could not
send (offline): that stays for the same user's next sign-in, in any tab, to
send (views.binding.connect)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import flet as ft

from domain.status import Role
from views import driver, operator, therapist
from views.components import clock
from views.components.section import Section
from views.components.style import SEED
from views.login import LoginView
from views.port import ClientPort, UiConfig
from views.prefs import DevicePrefs, Prefs
from views.shell import Shell

SECTIONS: dict[Role, Callable[[ft.Page, ClientPort], list[Section]]] = {
    "therapist": therapist.sections,
    "driver": driver.sections,
    "operator": operator.sections,
}

PrefsFactory = Callable[[], Prefs]


def make_main(
    config: UiConfig, prefs: PrefsFactory = DevicePrefs
) -> Callable[[ft.Page], Awaitable[None]]:
    clock.set_zone(config.timezone)

    async def main(page: ft.Page) -> None:
        await Session(page, config, prefs()).start()

    return main


class Session:
    """One tab: login, then the shell for the signed-in role."""

    def __init__(self, page: ft.Page, config: UiConfig, prefs: Prefs) -> None:
        self.page = page
        self.config = config
        self.prefs = prefs
        self.client: ClientPort | None = None
        self.shell: Shell | None = None
        self.dir: Path | None = None
        if config.sessions_dir is not None:
            self.dir = Path(config.sessions_dir) / uuid.uuid4().hex

    async def start(self) -> None:
        page = self.page
        page.title = "Tandem"
        page.theme = ft.Theme(color_scheme_seed=SEED)
        page.theme_mode = ft.ThemeMode.LIGHT
        page.on_close = self._closed
        await self.show_login()

    async def show_login(self) -> None:
        if self.dir is not None:
            self.dir.mkdir(parents=True, exist_ok=True)
        login = LoginView(
            self.page, self.config, self.prefs, str(self.dir) if self.dir else None, self.signed_in
        )
        await login.mount()

    async def signed_in(self, client: ClientPort) -> None:
        self.client = client
        factory = SECTIONS.get(client.actor.role)
        sections = factory(self.page, client) if factory else []
        self.shell = Shell(self.page, client, sections, self.logout)
        self.shell.mount()

    async def logout(self) -> None:
        await self._stop_client()
        if self.dir is not None:  # a new sign-in starts from an empty store
            remove_empty(self.dir)
        await self.show_login()

    async def _stop_client(self) -> None:
        if self.shell is not None:
            self.shell.close()
            self.shell = None
        if self.client is not None:
            client, self.client = self.client, None
            await client.stop()

    async def _closed(self, _: ft.Event[ft.Page]) -> None:
        # The tab is gone for good (session expired): stop syncing and drop
        # its private store (all but commands still to send).
        await self._stop_client()
        if self.dir is not None:
            remove_empty(self.dir)


def remove_empty(root: Path) -> None:
    """Remove `root` and the folders in it, as far as they are empty. A
    stopped client leaves files behind only when they must stay: an outbox
    whose commands are still to be sent."""
    folders = sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts))
    for folder in [*folders, root]:
        with contextlib.suppress(OSError):
            folder.rmdir()
