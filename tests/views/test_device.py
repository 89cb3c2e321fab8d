"""The installed app (phone, tablet) over the real services Client and a real
server: its session survives restarts and starts offline-first, an expired
sign-in asks the same user's password again keeping everything, and coming
back from the background reconnects at once.

Restarting the app = a fresh harness Session and a fresh Client over the same
app storage (FLET_APP_STORAGE_DATA). The link to the server runs through a
relay (tests/e2e/proxy.py) that a test cuts, restores or freezes."""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import flet as ft
import pytest

import services.client
from services import session as sessions
from services.client import Client
from testkit.flet_harness import Harness
from testkit.server import DEMO_PASSWORD, ServerProcess
from tests.e2e.proxy import Relay
from views.app import Session
from views.binding import connect, resume
from views.port import DeviceConfig, UiConfig
from views.prefs import FilePrefs

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def server(server_factory: Callable[..., ServerProcess]) -> ServerProcess:
    # one per test: each moves the demo's one trip driver1 can start
    return server_factory(seed="demo", startup_timeout=120)


@pytest.fixture
def relay(server: ServerProcess) -> Iterator[Relay]:
    r = Relay(server.port)
    yield r
    r.close()


class Device:
    """One phone: its app storage, and the app started on it again and again."""

    def __init__(self, storage: Path, server_url: str, **client_options: Any) -> None:
        self.storage = storage
        self.config = UiConfig(
            server_url=server_url,
            connect=functools.partial(connect, **client_options),
            device=DeviceConfig(str(storage), functools.partial(resume, **client_options)),
        )
        self.harness: Harness | None = None
        self.session: Session | None = None

    async def start(self, width: int = 360, height: int = 740) -> Harness:
        h = Harness(width=width, height=height)
        assert self.config.device is not None
        session = Session(h.page, self.config, FilePrefs(self.config.device.prefs_file))
        await h.run(lambda _: session.start())
        self.harness, self.session = h, session
        return h

    async def sign_in(self, username: str, password: str = DEMO_PASSWORD) -> None:
        h = self.harness
        assert h is not None
        await h.type_text(h.field("Username"), username)
        await h.type_text(h.field("Password"), password)
        await h.click(h.button("Sign in"))

    async def online_as(self, username: str) -> Harness:
        """Start the app, sign in and wait until the link is up."""
        h = await self.start()
        await self.sign_in(username)
        await until(lambda: h.has_semantics("connection"), "signed in")
        await until(lambda: "Online" in connection(h), "online")
        return h

    async def lifecycle(self, state: str) -> None:
        h = self.harness
        assert h is not None
        await h.session.dispatch_event(h.page._i, "app_lifecycle_state_change", {"state": state})
        await h.settle()

    async def close(self) -> None:
        """The OS ends the app: it was sent to the background first."""
        h = self.harness
        assert h is not None
        await self.lifecycle("pause")
        await h.session.dispatch_event(h.page._i, "close", None)
        await h.settle()

    @property
    def client(self) -> Client:
        assert self.session is not None and isinstance(self.session.client, Client)
        return self.session.client


async def until(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    import asyncio

    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.02)


def connection(h: Harness) -> str:
    return str(h.semantics("connection").label)


def trip_to_start(h: Harness) -> str:
    """The id of the card that offers "Start journey" (driver1's in-progress trip)."""
    for card in h.by_type(ft.Semantics):
        ident = card.identifier or ""
        if ident.startswith("appt-") and "Start journey" in h.buttons_in(card):
            return ident.removeprefix("appt-")
    raise AssertionError("no trip to start on screen")


def status_on_server(srv: ServerProcess, appointment_id: str) -> str:
    with srv.client("operator") as http:
        appts = http.get("/api/sync/bootstrap").json()["appointments"]
    return str(next(a for a in appts if a["id"] == appointment_id)["status"])


async def test_a_driver_restarts_offline_sees_trips_starts_journey_and_it_syncs(
    tmp_path: Path, server: ServerProcess, relay: Relay
) -> None:
    phone = Device(tmp_path / "app", relay.url)
    h = await phone.online_as("driver1")
    trip = trip_to_start(h)
    await phone.close()

    relay.cut()  # no signal: the server can't be reached
    h = await phone.start()  # no sign-in screen: the last user's day, from the cache
    assert not any(f.label == "Password" for f in h.by_type(ft.TextField))
    assert trip_to_start(h) == trip
    await h.click(h.button("Start journey", within=h.semantics(f"appt-{trip}")))
    assert "Start journey" not in h.buttons_in(h.semantics(f"appt-{trip}"))
    await until(lambda: "1 change waiting" in connection(h), "queued")
    assert connection(h).startswith("Connection: Offline")
    assert status_on_server(server, trip) == "in_progress"

    relay.restore()  # signal again: it syncs by itself
    await until(lambda: connection(h) == "Connection: Online", "synced")
    assert status_on_server(server, trip) == "journey"
    await phone.close()


async def test_an_expired_sign_in_keeps_the_data_and_asks_the_password_again(
    tmp_path: Path, server: ServerProcess, relay: Relay
) -> None:
    phone = Device(tmp_path / "app", relay.url)
    h = await phone.online_as("driver1")
    trip = trip_to_start(h)
    folder = phone.client.session.directory
    assert folder is not None
    await phone.close()
    # the server no longer takes the saved token (expired, revoked)
    saved = json.loads((folder / sessions.SESSION_FILE).read_text())
    (folder / sessions.SESSION_FILE).write_text(json.dumps({**saved, "token": "expired"}))

    relay.cut()
    h = await phone.start()  # offline, an expired token is no reason to stop working
    await h.click(h.button("Start journey", within=h.semantics(f"appt-{trip}")))
    await until(lambda: "1 change waiting" in connection(h), "queued")

    relay.restore()  # online: the server says who are you
    await until(lambda: any(f.label == "Password" for f in h.by_type(ft.TextField)), "asked")
    assert h.field("Username").value == "driver1" and h.field("Username").read_only
    assert any("1 waiting change will be sent" in t for t in h.texts())
    assert (folder / "outbox.jsonl").stat().st_size > 0  # kept
    assert (folder / "cache.json").exists()  # kept
    assert status_on_server(server, trip) == "in_progress"

    await h.type_text(h.field("Password"), DEMO_PASSWORD)
    await h.click(h.button("Sign in"))
    await until(lambda: h.has_semantics("connection"), "signed in again")
    await until(lambda: connection(h) == "Connection: Online", "synced")
    assert status_on_server(server, trip) == "journey"
    await phone.close()


async def test_back_from_the_background_reconnects_at_once_and_going_there_saves(
    tmp_path: Path, server: ServerProcess, relay: Relay
) -> None:
    # A patient client: without the app's wake it would sit on a dead socket
    # for an hour (idle timeout) and back off for an hour, and save its cache
    # once an hour.
    phone = Device(
        tmp_path / "app",
        relay.url,
        idle_timeout=3600,
        delays=lambda: itertools.repeat(3600.0),
        flush_interval=3600,
        timeout=3600,  # and a request on a dead connection would wait that long
    )
    h = await phone.online_as("driver1")
    listener = phone.client.listener
    first = listener._ws
    assert first is not None

    cache = phone.client.session.directory / "cache.json"  # type: ignore[operator]
    assert not cache.exists()  # not flushed yet
    await phone.lifecycle("inactive")
    await phone.lifecycle("hide")
    await phone.lifecycle("pause")
    assert cache.exists() and phone.client.cursor is not None
    assert f'"cursor":{phone.client.cursor}' in cache.read_text().replace(" ", "")

    relay.freeze()  # frozen in the background: the socket is dead, TCP can't tell
    await phone.lifecycle("show")  # back, as a phone says it: shown, then resumed
    await phone.lifecycle("resume")
    await until(lambda: listener._ws not in (None, first), "a new socket")
    await until(lambda: listener.status == "online", "online again")
    # and it works: an action reaches the server over the new socket
    trip = trip_to_start(h)
    before = len(relay.swallowed)
    await h.click(h.button("Start journey", within=h.semantics(f"appt-{trip}")))
    await until(lambda: status_on_server(server, trip) == "journey", "sent", timeout=20)
    # on a new connection, not first into one that died in the background
    # (it would have waited there until it failed)
    assert not [c for c in relay.swallowed[before:] if c.startswith(b"POST")]
    await phone.close()


async def test_only_logging_out_forgets_the_session_and_unsent_changes_stay(
    tmp_path: Path, server: ServerProcess, relay: Relay, monkeypatch: pytest.MonkeyPatch
) -> None:
    # online, logging out gives waiting changes this long to go; offline
    # there is no one to give them to, and it must not wait at all
    monkeypatch.setattr(services.client, "DRAIN_SECONDS", 600.0)
    phone = Device(tmp_path / "app", relay.url)
    h = await phone.online_as("driver1")
    trip = trip_to_start(h)
    folder = phone.client.session.directory
    assert folder is not None

    relay.cut()
    await h.click(h.button("Start journey", within=h.semantics(f"appt-{trip}")))
    await until(lambda: "1 change waiting" in connection(h), "queued")
    async with asyncio.timeout(60):  # not the 600 s drain
        await h.click(next(b for b in h.by_type(ft.IconButton) if b.tooltip == "Log out"))
    await until(lambda: any(f.label == "Password" for f in h.by_type(ft.TextField)), "signed out")
    assert not (folder / sessions.SESSION_FILE).exists()  # forgotten: token and cache
    assert not (folder / "cache.json").exists()
    assert (folder / "outbox.jsonl").stat().st_size > 0  # but not the unsent change
    await phone.close()

    relay.restore()
    h = await phone.start()  # no session to resume: the sign-in screen, prefilled
    assert h.field("Username").value == "driver1" and h.field("Server").value == relay.url
    await phone.sign_in("driver1")
    await until(lambda: h.has_semantics("connection"), "signed in")
    await until(lambda: status_on_server(server, trip) == "journey", "the kept change sent")
    await phone.close()


SOMEONE_ELSE = "Not driver1? Sign in as someone else"


async def test_when_the_sign_in_expired_someone_else_may_sign_in_instead(
    tmp_path: Path, server: ServerProcess, relay: Relay
) -> None:
    phone = Device(tmp_path / "app", relay.url)
    h = await phone.online_as("driver1")
    folder = phone.client.session.directory
    assert folder is not None
    await phone.close()
    saved = json.loads((folder / sessions.SESSION_FILE).read_text())
    (folder / sessions.SESSION_FILE).write_text(json.dumps({**saved, "token": "expired"}))

    h = await phone.start()  # the phone changed hands: driver2 has it now
    await until(lambda: any(f.label == "Password" for f in h.by_type(ft.TextField)), "asked")
    [switch] = [b for b in h.by_type(ft.TextButton) if b.content == SOMEONE_ELSE]
    await h.click(switch)
    await until(lambda: not h.field("Username").read_only, "a plain sign-in")
    assert not (folder / sessions.SESSION_FILE).exists()  # driver1's session: forgotten
    await phone.sign_in("driver2")
    await until(lambda: "Online" in connection(h), "driver2 online")
    assert phone.client.user["username"] == "driver2"
    await phone.close()
