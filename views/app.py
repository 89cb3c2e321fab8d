"""The Flet entry point: one call per browser tab (session), or the one
session of an installed app (`UiConfig.device`).

In a browser, each session gets its own client, with its own store directory
under `sessions_dir/<uuid>/` (or memory), so tabs never share state. The
client is stopped when the user logs out or the session closes, and the
directory goes with it, unless the client left an outbox there with commands
it could not send (offline): that stays for the same user's next sign-in, in
any tab, to send (views.binding.connect).

On a device the session is the user's, not the window's: it lives in the
app's private storage and survives restarts. The app starts on the last
user's cached data without waiting for the network; when the server no
longer accepts the saved sign-in, it asks that user's password again and
keeps the data and the waiting changes. Only logging out forgets it. The app
coming back from the background reconnects at once; going there, it saves
its cache."""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import flet as ft

from domain.status import Role
from views import driver, operator, therapist
from views.components import clock
from views.components.section import Section
from views.components.style import SEED
from views.login import Again, LoginView
from views.password import ChangePasswordView
from views.port import ClientPort, UiConfig
from views.prefs import BrowserPrefs, FilePrefs, Prefs
from views.shell import Shell

log = logging.getLogger(__name__)

SECTIONS: dict[Role, Callable[[ft.Page, ClientPort], list[Section]]] = {
    "therapist": therapist.sections,
    "driver": driver.sections,
    "operator": operator.sections,
}

PrefsFactory = Callable[[], Prefs]


def make_main(
    config: UiConfig, prefs: PrefsFactory | None = None
) -> Callable[[ft.Page], Awaitable[None]]:
    clock.set_zone(config.timezone)

    def remembered() -> Prefs:
        if prefs is not None:
            return prefs()
        if config.device is not None:
            return FilePrefs(config.device.prefs_file)
        return BrowserPrefs()

    async def main(page: ft.Page) -> None:
        await Session(page, config, remembered()).start()

    return main


class Session:
    """One tab (or the app on a device): login, then the shell for the
    signed-in role."""

    def __init__(self, page: ft.Page, config: UiConfig, prefs: Prefs) -> None:
        self.page = page
        self.config = config
        self.prefs = prefs
        self.device = config.device
        self.client: ClientPort | None = None
        self.expired: ClientPort | None = None  # a device's user asked to sign in again
        self.shell: Shell | None = None
        self.dir: Path | None = None
        if self.device is not None:  # the device's sessions, one folder per user
            self.dir = Path(self.device.sessions_root)
        elif config.sessions_dir is not None:
            self.dir = Path(config.sessions_dir) / uuid.uuid4().hex

    async def start(self) -> None:
        page = self.page
        page.title = "Tandem"
        page.theme = ft.Theme(color_scheme_seed=SEED)
        page.theme_mode = ft.ThemeMode.LIGHT
        page.on_close = self._closed
        if self.device is not None:
            page.on_app_lifecycle_state_change = self._lifecycle
            if await self._resume():
                return
        await self.show_login()

    async def _resume(self) -> bool:
        """Open the last user's saved session, if there is one (device)."""
        assert self.device is not None
        server = await self.prefs.get("last_server")
        username = await self.prefs.get("last_user")
        if not server or not username:
            return False
        try:
            client = await self.device.resume(server, username, self.device.sessions_root)
        except Exception:  # a damaged session must not keep the app from starting
            log.exception("could not resume %s's session", username)
            return False
        if client is None:
            return False
        await self.signed_in(client)
        return True

    async def show_login(self, again: Again | None = None, why: str | None = None) -> None:
        if self.dir is not None:
            self.dir.mkdir(parents=True, exist_ok=True)
        login = LoginView(
            self.page,
            self.config,
            self.prefs,
            str(self.dir) if self.dir else None,
            self.signed_in,
            again,
            self.switch_user if again is not None else None,
            why,
        )
        await login.mount()

    async def switch_user(self) -> None:
        """Someone else signs in instead of the user whose sign-in expired:
        that user's kept session is forgotten as on Log out."""
        expired, self.expired = self.expired, None
        if expired is not None:
            await expired.logout()
        await self.show_login()

    async def signed_in(self, client: ClientPort) -> None:
        self.client = client
        self.expired = None  # signed in again: the kept session is this one's
        if client.user.get("must_change_password"):
            # a one-time password: their own before anything else
            ChangePasswordView(self.page, client, self._open_shell, self.logout).mount()
            return
        await self._open_shell()

    async def _open_shell(self) -> None:
        client = self.client
        if client is None:
            return
        factory = SECTIONS.get(client.actor.role)
        sections = factory(self.page, client) if factory else []
        self.shell = Shell(self.page, client, sections, self.logout, self.signed_out)
        self.shell.mount()

    async def logout(self, why: str | None = None) -> None:
        await self._stop_client()
        if self.dir is not None and self.device is None:  # a new sign-in starts empty
            remove_empty(self.dir)
        await self.show_login(why=why)

    async def signed_out(self, why: str | None = None) -> None:
        """The server no longer accepts our sign-in (`why`: its words). A tab
        starts over; a device keeps the user's data and waiting changes and
        asks for the password again. The sign-in screen says why."""
        if self.device is None or self.client is None:
            await self.logout(why)
            return
        client = self.client
        again = Again(
            str(client.user.get("username") or ""), len(client.sync_info().queued)
        )
        self.expired = client  # kept, suspended, until the password comes
        await self._stop_client(keep=True)
        await self.show_login(again, why)

    async def _stop_client(self, keep: bool = False) -> None:
        if self.shell is not None:
            self.shell.close()
            self.shell = None
        if self.client is not None:
            client, self.client = self.client, None
            await (client.suspend() if keep else client.logout())

    async def _lifecycle(self, e: ft.AppLifecycleStateChangeEvent) -> None:
        client = self.client
        if client is None:
            return
        if e.state in (ft.AppLifecycleState.RESUME, ft.AppLifecycleState.SHOW):
            client.foreground()  # the socket may have died while frozen
        elif e.state in (
            ft.AppLifecycleState.INACTIVE,
            ft.AppLifecycleState.HIDE,
            ft.AppLifecycleState.PAUSE,
            ft.AppLifecycleState.DETACH,
        ):
            await client.background()  # the OS may end the app from there

    async def _closed(self, _: ft.Event[ft.Page]) -> None:
        if self.device is not None:  # the app closed: the session stays for next time
            await self._stop_client(keep=True)
            return
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
