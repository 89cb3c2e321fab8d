"""What the views need from the client side, and nothing more.

Views bind to this small protocol, not to services/ directly: the real
session facade is adapted to it in `views.binding`, and tests/views drive
the views with an in-memory twin of it. Everything here is data the views
render; intents go back through `dispatch`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from domain.commands import Actor, Snapshot
from domain.records import Entity, Record

Key = tuple[Entity, str]


class Link(StrEnum):
    """The connection indicator's three states."""

    ONLINE = "online"
    RECONNECTING = "reconnecting"
    OFFLINE = "offline"


@dataclass(frozen=True)
class QueuedCommand:
    seq: int  # its place in the outbox: what `ClientPort.dismiss` takes
    name: str
    target: str | None
    error: str | None = None  # set on failed commands: the server's message
    args: Mapping[str, Any] = field(default_factory=dict)  # as it was sent


@dataclass(frozen=True)
class SyncInfo:
    """For the indicator and the sync inspector."""

    link: Link = Link.ONLINE
    queued: tuple[QueuedCommand, ...] = ()
    failed: tuple[QueuedCommand, ...] = ()
    cursor: int | None = None
    last_event: str | None = None  # a short description of the latest event


@dataclass(frozen=True)
class Notice:
    """A message for a snackbar: a success, or a rollback with the server's
    friendly message."""

    text: str
    ok: bool = True
    # a refusal: the change that didn't go through (kept in the failed list
    # until dismissed), so the screen can offer to edit it and try again
    failed: QueuedCommand | None = None


@dataclass(frozen=True)
class ServerEvent:
    """One event as the server sent it (docs/architecture.md, the wire contract): what
    happened (`cause`, the command's name) besides what it changed."""

    seq: int
    entity: Entity
    id: str
    op: str  # upsert | delete
    version: int
    data: Record | None  # the record after the event; None on delete
    cause: str

    @classmethod
    def of(cls, raw: Mapping[str, Any]) -> ServerEvent:
        return cls(
            seq=int(raw.get("seq") or 0),
            entity=raw["entity"],
            id=str(raw["id"]),
            op=str(raw.get("op") or "upsert"),
            version=int(raw.get("version") or 0),
            data=raw.get("data"),
            cause=str(raw.get("cause") or ""),
        )


@dataclass(frozen=True)
class Changed:
    """What one update touched: views refresh only these keys."""

    keys: frozenset[Key] = frozenset()
    sync: bool = False  # the link / queue changed
    reset: bool = False  # everything may have changed (re-bootstrap)
    notices: tuple[Notice, ...] = ()
    signed_out: bool = False  # the server no longer accepts our sign-in
    # the raw server events of a batch the store has applied (its keys came
    # in an earlier Changed): for the activity feed
    events: tuple[ServerEvent, ...] = ()


@dataclass(frozen=True)
class Result:
    """The immediate local answer to a dispatch."""

    ok: bool
    message: str = ""  # friendly reason when not ok
    code: str = ""
    record: Record | None = None
    # staff.create / staff.reset_password: the one-time password to hand over
    # (ClientPort.account; shown once)
    one_time_password: str | None = None


@dataclass(frozen=True)
class TimelineEntry:
    """One step of an appointment's history, as the server tells it
    (GET /api/appointments/{id}/timeline, see server/README.md)."""

    seq: int
    at: str  # ISO 8601 UTC instant
    actor_id: str | None
    actor_name: str  # "Ana Reyes", "Tandem" (the server's jobs) or "Someone"
    actor_role: str | None
    command: str
    status_before: str | None
    status_after: str | None
    summary: str  # completes a sentence that starts with actor_name

    @classmethod
    def of(cls, raw: Mapping[str, Any]) -> TimelineEntry:
        actor = raw.get("actor") or {}
        return cls(
            seq=int(raw.get("seq") or 0),
            at=str(raw.get("at") or ""),
            actor_id=actor.get("id"),
            actor_name=str(actor.get("name") or "Someone"),
            actor_role=actor.get("role"),
            command=str(raw.get("command") or ""),
            status_before=raw.get("status_before"),
            status_after=raw.get("status_after"),
            summary=str(raw.get("summary") or ""),
        )


class TimelineUnavailable(Exception):
    """A friendly reason an appointment's history can't be shown now."""


class ServerRefused(Exception):
    """A friendly reason a question to the server (a receipt, a report) got
    no answer: the server's refusal (`code`: too_large, not_an_image,
    not_found, ...) or `offline`."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.message, self.code = message, code


Listener = Callable[[Changed], Awaitable[None] | None]


class ClientPort(Protocol):
    """One signed-in user's client."""

    @property
    def actor(self) -> Actor: ...

    @property
    def user(self) -> Record: ...  # {id, username, role, name, must_change_password}

    def view(self) -> Snapshot: ...  # confirmed state + pending commands replayed

    def is_pending(self, entity: Entity, id: str) -> bool: ...  # changes waiting to sync

    def sync_info(self) -> SyncInfo: ...

    def subscribe(self, listener: Listener) -> Callable[[], None]: ...

    async def dispatch(self, name: str, target: str | None, args: dict[str, Any]) -> Result: ...

    # A command that hands out or takes a password (staff.create,
    # staff.reset_password, account.change_password): straight to the server,
    # never queued; offline it is refused in words.
    async def account(self, name: str, target: str | None, args: dict[str, Any]) -> Result: ...

    # Forget a failed command (SyncInfo.failed) the user has seen; then the
    # subscribers hear Changed(sync=True). Any other seq: nothing happens.
    async def dismiss(self, seq: int) -> None: ...

    # Log out: give waiting changes a moment to sync, then end and forget
    # this user's session here (unsent changes stay for their next sign-in).
    # Also after `suspend`, to forget a session kept for later.
    async def stop(self) -> None: ...

    # Stop syncing but keep this user's session on the device (token, cache,
    # outbox) for the next start or sign-in: the app closing, or the server
    # asking for the password again. Only `stop` (log out) forgets it.
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
