"""The sync page: commands the server refused for good stay listed, with its
reason, until the user dismisses them ("Commands that can never succeed land
in a visible failed list the user can dismiss"). The view only dispatches
the intent (`ClientPort.dismiss`); the list refreshes from the client."""

from __future__ import annotations

import asyncio
from typing import Any

import flet as ft

from domain.commands import Actor
from domain.status import Status
from services.api import Api
from services.client import Client
from services.session import Session
from store.store import Store
from testkit.flet_harness import Harness
from tests.views.conftest import Mount
from tests.views.data import DRIVER, appointment, world
from tests.views.fake_client import FakeClient
from views.port import Changed


async def open_sync_page(h: Harness) -> ft.Semantics:
    """Tap the last destination (the shell puts Sync last)."""
    rails = h.by_type(ft.NavigationRail)
    assert len(rails) == 1
    rail = rails[0]
    last = len(rail.destinations) - 1
    h.session.apply_patch(rail._i, {"selected_index": last})
    await h.session.dispatch_event(rail._i, "change", last)
    await h.session.after_event(rail)
    await h.settle()
    return h.semantics("sync-inspector")


async def two_refused(mount: Mount, kind: type[FakeClient] = FakeClient
                      ) -> tuple[FakeClient, Harness]:
    client = kind(
        DRIVER, world(appointment("a1", Status.IN_PROGRESS), appointment("a2", Status.IN_PROGRESS))
    )
    h = await mount(client, width=1280, height=800)
    for aid in ("a1", "a2"):
        await h.click(h.button("Start journey", within=h.semantics(f"appt-{aid}")))
    await client.refuse("Can't start the journey: the appointment was cancelled.")
    await client.refuse("Can't start the journey: you are not the driver any more.")
    await h.settle()
    return client, h


async def test_a_failed_command_shows_why_and_can_be_dismissed(mount: Mount) -> None:
    client, h = await two_refused(mount)
    inspector = await open_sync_page(h)
    assert "Didn't go through (2)" in h.texts(inspector)
    first, second = h.semantics("failed-1"), h.semantics("failed-2")
    assert any("the appointment was cancelled" in t for t in h.texts(first))
    assert any("not the driver any more" in t for t in h.texts(second))
    assert h.buttons_in(first) == ["Dismiss"] and h.buttons_in(second) == ["Dismiss"]

    await h.click(h.button("Dismiss", within=first))
    await h.settle()
    assert client.dismissed == [1]
    inspector = h.semantics("sync-inspector")
    assert "Didn't go through (1)" in h.texts(inspector)  # the list refreshed
    assert not h.has_semantics("failed-1") and h.has_semantics("failed-2")

    await h.click(h.button("Dismiss", within=h.semantics("failed-2")))
    await h.settle()
    assert client.dismissed == [1, 2]
    assert "Didn't go through (0)" in h.texts(h.semantics("sync-inspector"))
    assert not any(isinstance(b, ft.Button) and b.content == "Dismiss" for b in h.all())


class SlowDismiss(FakeClient):
    """Dismisses only when the test opens the gate (a slow disk)."""

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        self.gate = asyncio.Event()
        self.asked: list[int] = []

    async def dismiss(self, seq: int) -> None:
        self.asked.append(seq)
        await self.gate.wait()
        await super().dismiss(seq)


async def test_dismiss_is_sent_once_however_often_it_is_clicked(mount: Mount) -> None:
    client, h = await two_refused(mount, SlowDismiss)
    assert isinstance(client, SlowDismiss)
    await open_sync_page(h)
    button = h.button("Dismiss", within=h.semantics("failed-1"))
    first = asyncio.ensure_future(h.click(button))
    await h.settle()
    assert h.button("Dismiss", within=h.semantics("failed-1")).disabled
    await h.click(button)  # a second tap while the first is on its way: ignored
    client.gate.set()
    await first
    await h.settle()
    assert client.asked == [1] and client.dismissed == [1]
    assert not h.has_semantics("failed-1")
    assert not h.button("Dismiss", within=h.semantics("failed-2")).disabled


async def test_queued_commands_have_no_dismiss(mount: Mount) -> None:
    client, h = await two_refused(mount)
    await h.click(h.button("Start journey", within=h.semantics("appt-a1")))  # queued again
    inspector = await open_sync_page(h)
    assert "Waiting to send (1)" in h.texts(inspector)
    assert [b for b in h.buttons_in(inspector) if b == "Dismiss"] == ["Dismiss", "Dismiss"]
    assert len(client.failed) == 2


async def test_the_binding_dismisses_in_the_outbox_and_tells_the_views(tmp_path: object) -> None:
    """The real services Client (the views' port itself) and Store (not started:
    no server needed to dismiss a command that already failed)."""
    actor = Actor("o1", "operator")
    store = Store(actor)
    store.bootstrap({"cursor": 1, "appointments": []})
    ok = store.dispatch("notification.mark_all_read")
    assert ok.ok and ok.seq is not None
    queued = store.dispatch("notification.mark_all_read")
    assert queued.ok and queued.seq is not None
    store.reject(ok.seq, "forbidden", "Not yours to mark.")
    session = Session("http://test", "token", {"id": "o1", "role": "operator"}, None)
    api = Api("http://test")
    try:
        port = Client(session, store, api)
        info = port.sync_info()
        assert [(c.seq, c.error) for c in info.failed] == [(ok.seq, "Not yours to mark.")]
        assert [c.seq for c in info.queued] == [queued.seq]
        heard: list[Changed] = []
        unsubscribe = port.subscribe(heard.append)

        await port.dismiss(queued.seq)  # not failed: nothing happens
        await port.dismiss(999)
        assert heard == [] and len(store.queued()) == 1

        await port.dismiss(ok.seq)
        assert store.failed() == [] and port.sync_info().failed == ()
        assert heard == [Changed(sync=True)]
        assert [e.seq for e in store.queued()] == [queued.seq]  # untouched

        unsubscribe()
        store.reject(queued.seq, "forbidden", "Not yours either.")
        await port.dismiss(queued.seq)
        assert len(heard) == 1  # no one listening any more
    finally:
        await api.aclose()
        store.close()


async def test_the_page_speaks_peoples_words_and_keeps_the_details_for_support(
    mount: Mount,
) -> None:
    # was: "Cursor: 298", "appointment.start_journey 4c3dd861"
    client, h = await two_refused(mount)
    await h.click(h.button("Start journey", within=h.semantics("appt-a1")))  # waiting again
    inspector = await open_sync_page(h)
    texts = h.texts(inspector)
    assert "Online — sending 1 change…" in texts
    assert "Start journey — Client a1, Today · 10:00–11:00" in texts
    assert "Start journey — Client a2, Today · 10:00–11:00" in h.texts(h.semantics("failed-2"))
    assert not any("appointment.start_journey" in t or t.startswith("Cursor") for t in texts)

    details = next(s for s in h.by_type(ft.Switch) if s.label == "Details")
    await h.toggle(details, True)
    texts = h.texts(h.semantics("sync-inspector"))
    assert any(t.startswith("Cursor:") for t in texts)
    assert "#3 appointment.start_journey a1" in texts


def test_the_standing_line() -> None:
    from views.components.inspector import standing
    from views.port import Link, QueuedCommand, SyncInfo

    one = (QueuedCommand(1, "appointment.accept", "a1"),)
    assert standing(SyncInfo()) == "Online — everything is saved"
    assert standing(SyncInfo(link=Link.OFFLINE, queued=one * 3)) == (
        "Offline — 3 changes waiting; they go out once you're back online"
    )
    reconnecting = SyncInfo(link=Link.RECONNECTING, queued=one)
    assert standing(reconnecting) == "Reconnecting… 1 change waiting"
