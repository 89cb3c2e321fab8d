"""`python main.py`'s own web tabs reach the server they run in without a
socket (services.api.in_process): a tap's command skips the loopback
connection and the HTTP parsing. Here nothing listens on the app's port at
all, so every request that works went in-process."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import main
from domain.commands import Actor
from domain.lifecycle import allowed
from services.client import Client
from store.changed import Link
from tests.services.helpers import until


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_a_tab_signs_in_bootstraps_and_sends_commands_with_no_socket(tmp_path: Path) -> None:
    with_a_tab(tmp_path, accepts_a_booking)


async def accepts_a_booking(tab: Client, aid: str) -> None:
    assert (await tab.dispatch("appointment.accept", aid)).ok
    await until(lambda: not tab.is_pending("appointment", aid), what="confirmed")
    assert tab.failed() == []
    assert tab.store.cache.get("appointment", aid)["status"] == "therapist_confirmed"


def test_a_tab_hears_its_tap_with_the_servers_answer_not_before(tmp_path: Path) -> None:
    with_a_tab(tmp_path, hears_its_accept)


async def hears_its_accept(tab: Client, aid: str) -> None:
    assert tab.answer_wait == main.IN_PROCESS_ANSWER_WAIT  # main.py turns it on
    # longer here, so a slow commit on a loaded machine can't end the wait first
    tab.answer_wait = 10.0
    await until(lambda: tab.sync_info().link is Link.ONLINE, what="online")
    # what the tab's screen would be told, and what the server had said by then
    heard: list[tuple[bool, bool, str]] = []
    tab.subscribe(lambda changed: heard.append((
        ("appointment", aid) in changed.keys, changed.local,
        str((tab.store.cache.get("appointment", aid) or {}).get("status")))))
    assert (await tab.dispatch("appointment.accept", aid)).ok
    # Before: told at once, as its own, the server not asked yet
    # ([(True, True, "pending"), ...]).
    assert heard == []
    await until(lambda: bool(heard), what="told")
    assert heard[0] == (True, False, "therapist_confirmed")


def with_a_tab(tmp_path: Path, then: Callable[[Client, str], Awaitable[None]]) -> None:
    """`then(tab, booking)`: therapist1's tab of the embedded app, signed in,
    and a booking of hers to accept."""
    ns = main.parse_args(["--port", str(unused_port()), "--data-dir", str(tmp_path)])
    embedded = main.embedded_app(ns, tmp_path)  # checks the database: outside a loop
    assert embedded.seeded

    async def run() -> None:
        async with therapists_tab(embedded, tmp_path) as tab:
            me: Actor = tab.actor
            waiting = [a for a in tab.view().all("appointment") if allowed(a, me, "accept")]
            assert waiting, "the demo day has a booking for therapist1 to accept"
            await then(tab, waiting[0]["id"])

    asyncio.run(run())


@contextlib.asynccontextmanager
async def therapists_tab(embedded: main.Embedded, tmp_path: Path) -> AsyncIterator[Client]:
    ui = embedded.ui
    async with embedded.app.router.lifespan_context(embedded.app):  # the server, no listener
        # Before: "Can't reach http://127.0.0.1:<port>" (the sign-in went over TCP).
        tab = await ui.connect(ui.server_url, "therapist1", main.DEMO_PASSWORD,
                               str(tmp_path / "tab"))
        assert isinstance(tab, Client)
        try:
            yield tab
        finally:
            await tab.stop()
