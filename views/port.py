"""What the views need from the client side, and nothing more.

Views bind to this small protocol, not to services/ directly: the real
client (`services.client.Client`) satisfies it itself, and tests/views
drive the views with an in-memory twin of it. Everything here is data the
views render; intents go back through `dispatch`. The data types are the
store's (store/changed.py: one `Changed` per batch), named here for the
views.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from domain.commands import Actor, Snapshot
from domain.records import Entity, Record
from services.asking import AccountAnswer, ServerRefused
from services.timeline import TimelineEntry, TimelineUnavailable
from store.cache import Key
from store.changed import Changed, Link, Notice, QueuedCommand, ServerEvent, SyncInfo
from store.store import Dispatched
from store.subscriptions import ChangeListener

# The immediate local answer to a dispatch: ok, or why not (`message`,
# `code`), and the record as it looks now.
Result = Dispatched
# The name views used before the change listener had its own (kept for code
# written against it).
Listener = ChangeListener

__all__ = [
    "AccountAnswer",
    "ChangeListener",
    "Changed",
    "ClientPort",
    "Key",
    "Link",
    "Listener",
    "Notice",
    "QueuedCommand",
    "Result",
    "ServerEvent",
    "ServerRefused",
    "SyncInfo",
    "TimelineEntry",
    "TimelineUnavailable",
]


class ClientPort(Protocol):
    """One signed-in user's client."""

    @property
    def actor(self) -> Actor: ...

    @property
    def user(self) -> Record: ...  # {id, username, role, name, must_change_password}

    def view(self) -> Snapshot: ...  # confirmed state + pending commands replayed

    def is_pending(self, entity: Entity, id: str) -> bool: ...  # changes waiting to sync

    def sync_info(self) -> SyncInfo: ...

    # `listener(changed)` once per batch of changes, whatever changed
    def subscribe(self, listener: ChangeListener) -> Callable[[], None]: ...

    async def dispatch(self, name: str, target: str | None, args: dict[str, Any]) -> Result: ...

    # A command that hands out or takes a password (staff.create,
    # staff.reset_password, account.change_password): straight to the server,
    # never queued; offline it is refused in words.
    async def account(
        self, name: str, target: str | None, args: dict[str, Any]
    ) -> AccountAnswer: ...

    # Forget a failed command (SyncInfo.failed) the user has seen; then the
    # subscribers hear Changed(sync=True). Any other seq: nothing happens.
    async def dismiss(self, seq: int) -> None: ...

    # Log out: give waiting changes a moment to sync, then end and forget
    # this user's session here (unsent changes stay for their next sign-in).
    # Also after `suspend`, to forget a session kept for later.
    async def logout(self) -> None: ...

    # Stop syncing but keep this user's session on the device (token, cache,
    # outbox) for the next start or sign-in: the app closing, or the server
    # asking for the password again. Only `logout` forgets it.
    async def suspend(self) -> None: ...

    # The app is back in the foreground: reconnect and send now.
    def foreground(self) -> None: ...

    # The app is going to the background: save what would be lost if the OS
    # ended it there.
    async def background(self) -> None: ...

    # One appointment's history from the server, oldest first; raises
    # TimelineUnavailable with words for the operator (offline, not visible).
    async def timeline(self, appointment_id: str) -> list[TimelineEntry]: ...

    # Attach a payment receipt photo to an appointment: its id (for the
    # payment commands' `receipt_id`); raises ServerRefused (too large, not
    # an image, offline).
    async def upload_receipt(self, appointment_id: str, data: bytes) -> str: ...

    # A receipt photo's bytes; raises ServerRefused.
    async def receipt(self, appointment_id: str, receipt_id: str) -> bytes: ...

    # The sales report as CSV (operators); raises ServerRefused.
    async def sales_csv(self, by: str, start: str | None, end: str | None) -> bytes: ...


class LoginFailed(Exception):
    """A friendly reason the sign-in did not work."""


# (server_url, username, password, session_dir) -> a started client
Connect = Callable[[str, str, str, str | None], Awaitable[ClientPort]]
# (server_url, username, data_dir) -> the saved session started offline-first,
# or None when there is none to resume
Resume = Callable[[str, str, str], Awaitable[ClientPort | None]]


@dataclass(frozen=True)
class DeviceConfig:
    """The app runs on a phone, tablet or desktop as an installed app (not a
    browser tab): one user at a time, whose session lives in the app's private
    storage (`data_dir`) and survives restarts, so the app starts with the
    last user's data without the network. Without it (the web build) every
    tab is a session of its own that ends with the tab."""

    data_dir: str  # the app's private storage (FLET_APP_STORAGE_DATA)
    resume: Resume

    @property
    def sessions_root(self) -> str:
        """The client data dir of every sign-in (services.session layout)."""
        return str(Path(self.data_dir) / "sessions")

    @property
    def prefs_file(self) -> str:
        return str(Path(self.data_dir) / "prefs.json")


@dataclass
class UiConfig:
    server_url: str  # what the sign-in screen offers when the device knows no better
    connect: Connect
    sessions_dir: str | None = None  # None: keep each session's store in memory
    demo_logins: tuple[str, ...] = field(default_factory=tuple)
    timezone: str = "Asia/Manila"  # the business's clock: what "today" means
    device: DeviceConfig | None = None  # None: a web tab (see DeviceConfig)
    # The web build served by the embedded server talks to that server only:
    # no address to choose (see views.login)
    fixed_server: bool = False
