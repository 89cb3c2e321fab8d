"""A change renders only the section on screen; the sections not on screen
render what they missed when shown (or once their backlog is long): one
appointment accepted elsewhere must not cost every operator's screen a
redraw of ten sections before it shows (issue 14, `bench ui`)."""

from __future__ import annotations

import flet as ft
import pytest

from domain.status import Status
from testkit.flet_harness import Harness, descendants
from tests.views.data import OPERATOR, appointment, world
from tests.views.fake_client import FakeClient
from views import shell as shell_module
from views.app import Session
from views.port import Link, ServerEvent, UiConfig
from views.prefs import MemoryPrefs
from views.shell import Shell


async def mounted(client: FakeClient) -> tuple[Harness, Shell]:
    h = Harness(width=1440, height=900)

    async def connect(*_: object) -> FakeClient:
        return client

    session = Session(h.page, UiConfig(server_url="http://test", connect=connect), MemoryPrefs())

    async def main(page: ft.Page) -> None:
        await session.start()
        await session.signed_in(client)

    await h.run(main)
    assert session.shell is not None
    return h, session.shell


def ids_in(h: Harness, identifier: str) -> set[int]:
    return {c._i for c in descendants(h.semantics(identifier))}


def feed_ids(h: Harness) -> list[str]:
    return [
        str(s.identifier)
        for s in descendants(h.semantics("activity-feed"))
        if isinstance(s, ft.Semantics) and str(s.identifier).startswith("activity-")
    ][1:]


async def accepted_elsewhere(client: FakeClient, h: Harness, seq: int = 10) -> None:
    a1 = client.view().get("appointment", "a1")
    assert a1 is not None
    data = {**a1, "version": seq, "status": "therapist_confirmed", "accepted_by": "t1"}
    await client.remote_events(
        ServerEvent(seq=seq, entity="appointment", id="a1", op="upsert", version=seq, data=data,
                    cause="appointment.accept")
    )
    await h.settle()


async def test_a_change_renders_only_the_section_on_screen_until_the_others_catch_up() -> None:
    client = FakeClient(OPERATOR, world(appointment("a1", Status.PENDING, start="14:00")))
    h, shell = await mounted(client)
    assert shell.sections[shell.selected].key == "queues"
    mark = h.mark()
    await accepted_elsewhere(client, h)
    patched = h.patched_ids(mark)
    assert not h.has_semantics("queue-a1")  # the queue on screen shows it at once
    assert not patched & ids_in(h, "activity-feed")  # the hidden feed is not drawn yet
    assert feed_ids(h) == []

    # shown: it catches up before it appears
    activity = next(i for i, s in enumerate(shell.sections) if s.key == "activity")
    shell.select(activity)
    assert feed_ids(h) == ["activity-10"]
    assert activity not in shell.behind
    shell.close()


async def test_a_hidden_section_with_a_long_backlog_catches_up_by_itself(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(shell_module, "BACKLOG_MAX", 4)  # keys + events it may miss
    client = FakeClient(OPERATOR, world(appointment("a1", Status.PENDING, start="14:00")))
    h, shell = await mounted(client)
    activity = next(i for i, s in enumerate(shell.sections) if s.key == "activity")
    await accepted_elsewhere(client, h, seq=10)  # one key, then one event: 2 behind
    assert feed_ids(h) == [] and activity in shell.behind
    await accepted_elsewhere(client, h, seq=11)  # 1 key + 2 events: 3 behind
    assert feed_ids(h) == []
    await accepted_elsewhere(client, h, seq=12)  # 4 behind: caught up, still hidden
    assert activity not in shell.behind and shell.selected != activity
    assert feed_ids(h) == ["activity-12", "activity-11", "activity-10"]
    shell.close()


async def test_a_notification_updates_the_badge_and_leaves_the_hidden_list_for_later() -> None:
    client = FakeClient(OPERATOR, world(appointment("a1", Status.PENDING, start="14:00")))
    h, shell = await mounted(client)
    index = next(i for i, s in enumerate(shell.sections) if s.key == "notifications")
    panel = ids_in(h, "notifications")
    mark = h.mark()
    await client.remote("notification", {"id": "n1", "version": 1, "user_id": "o1",
                                         "text": "Ana accepted", "read": False,
                                         "created_at": "2026-11-21T08:00:00Z"})
    await h.settle()
    assert shell._badge() == "1"  # the count on the navigation, at once
    assert not h.patched_ids(mark) & panel  # the list (not on screen) is not redrawn
    assert "Ana accepted" not in h.texts(h.semantics("notifications"))
    shell.select(index)
    assert "Ana accepted" in h.texts(h.semantics("notifications"))
    shell.close()


async def test_the_hidden_sync_page_and_an_unchanged_badge_are_not_redrawn() -> None:
    # each was redrawn for every change on every screen (bench ui: ~20% of
    # a change's render); the sync page catches up when shown
    client = FakeClient(OPERATOR, world(appointment("a1", Status.PENDING, start="14:00")))
    h, shell = await mounted(client)
    sync = next(i for i, s in enumerate(shell.sections) if s.key == "sync")
    nav = {c._i for c in descendants(shell.nav)}
    page, indicator = ids_in(h, "sync-inspector"), ids_in(h, "connection")
    mark = h.mark()
    await accepted_elsewhere(client, h)
    await client.set_link(Link.ONLINE)  # sync news (the binding's every batch says sync)
    await h.settle()
    patched = h.patched_ids(mark)
    assert patched, "the change must reach the screen"
    assert not patched & page
    assert not patched & nav  # no notification came: the badge is as it was
    assert not patched & indicator  # online before, online after
    shell.select(sync)
    assert "Online — everything is saved" in h.texts(h.semantics("sync-inspector"))
    mark = h.mark()
    await client.set_link(Link.OFFLINE)  # on screen: it follows at once
    await h.settle()
    assert any(t.startswith("Offline") for t in h.texts(h.semantics("sync-inspector")))
    assert h.patched_ids(mark) & ids_in(h, "sync-inspector")
    shell.close()
