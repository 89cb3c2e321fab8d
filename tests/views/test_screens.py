"""Layouts per width, availability, busy state, rollbacks, notifications and
login, through the pure-Python harness."""

from __future__ import annotations

import asyncio
from typing import Any

import flet as ft

from domain.status import Status
from testkit.flet_harness import Harness, descendants
from tests.views.conftest import Mount
from tests.views.data import DRIVER, THERAPIST, TODAY, appointment, world
from tests.views.fake_client import FakeClient
from views.app import Session
from views.port import LoginFailed, Result, UiConfig
from views.prefs import MemoryPrefs


async def test_navigation_fits_the_width(mount: Mount) -> None:
    client = FakeClient(THERAPIST, world())
    phone = await mount(client, width=390, height=844)
    assert isinstance(phone.page.navigation_bar, ft.NavigationBar)
    assert not phone.by_type(ft.NavigationRail)

    tablet = await mount(FakeClient(THERAPIST, world()), width=820, height=1180)
    rail = tablet.by_type(ft.NavigationRail)
    assert tablet.page.navigation_bar is None and len(rail) == 1 and not rail[0].extended

    wide = await mount(FakeClient(THERAPIST, world()), width=1440, height=900)
    assert wide.by_type(ft.NavigationRail)[0].extended

    await phone.resize(1440, 900)
    assert phone.page.navigation_bar is None
    assert phone.by_type(ft.NavigationRail)[0].extended


def _slots(h: Harness) -> list[ft.Semantics]:
    return [s for s in h.by_type(ft.Semantics) if str(s.identifier or "").startswith("slot-")]


async def test_availability_add_overlap_toggle_delete(mount: Mount) -> None:
    client = FakeClient(THERAPIST, world())
    h = await mount(client)
    assert "No slots for this day yet." in h.texts(h.semantics("availability"))

    await h.type_text(h.field("Start"), "09:00")
    await h.type_text(h.field("End"), "12:00")
    await h.click(h.button("Add slot"))
    assert len(_slots(h)) == 1
    slot = client.view().all("availability").__next__()
    assert (slot["date"], slot["start_time"], slot["available"]) == (TODAY, "09:00", True)

    # the domain refuses an overlap; the form says why, inline
    await h.type_text(h.field("Start"), "10:00")
    await h.type_text(h.field("End"), "11:00")
    await h.click(h.button("Add slot"))
    assert len(_slots(h)) == 1
    assert any("overlaps" in t for t in h.texts(h.semantics("availability")))

    switch = next(c for c in descendants(_slots(h)[0]) if isinstance(c, ft.Switch))
    await h.toggle(switch, False)
    assert client.view().get("availability", slot["id"])["available"] is False  # type: ignore[index]

    delete = next(
        c
        for c in descendants(_slots(h)[0])
        if isinstance(c, ft.Semantics) and str(c.label).startswith("Delete slot")
    )
    assert isinstance(delete.content, ft.IconButton)
    await h.click(delete.content)
    assert not _slots(h)
    assert [c.name for c in client.dispatched] == [
        "availability.create",
        "availability.update",
        "availability.delete",
    ]


async def test_bulk_add_for_a_day(mount: Mount) -> None:
    client = FakeClient(THERAPIST, world())
    h = await mount(client)
    await h.type_text(h.field("Slots for the day"), "nonsense")
    await h.click(h.button("Add all"))
    assert any("09:00-12:00" in t for t in h.texts(h.semantics("availability")))
    await h.type_text(h.field("Slots for the day"), "08:00-12:00, 13:00-17:00")
    await h.click(h.button("Add all"))
    assert len(_slots(h)) == 2


class SlowClient(FakeClient):
    """Answers a dispatch only when the test opens the gate."""

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        self.gate = asyncio.Event()

    async def dispatch(self, name: str, target: str | None, args: dict[str, Any]) -> Result:
        await self.gate.wait()
        return await super().dispatch(name, target, args)


async def test_an_action_cannot_be_submitted_twice(mount: Mount) -> None:
    client = SlowClient(DRIVER, world(appointment("a1", Status.IN_PROGRESS)))
    h = await mount(client, width=390, height=844)
    card = h.semantics("appt-a1")
    button = h.button("Start journey", within=card)
    first = asyncio.ensure_future(h.click(button))
    await h.settle()
    assert h.button("Start journey", within=h.semantics("appt-a1")).disabled
    await h.click(h.button("Start journey", within=h.semantics("appt-a1")))  # ignored
    client.gate.set()
    await first
    await h.settle()
    assert [c.name for c in client.dispatched] == ["appointment.start_journey"]
    assert h.buttons_in(h.semantics("appt-a1")) == ["Arrive"]


async def test_rollback_restores_the_card_and_says_why(mount: Mount) -> None:
    client = FakeClient(THERAPIST, world(appointment("a1", Status.PENDING)))
    h = await mount(client)
    await h.click(h.button("Accept", within=h.semantics("appt-a1")))
    assert "Accepted — waiting for your driver" in h.texts(h.semantics("appt-a1"))
    assert "Waiting to sync" in h.texts(h.semantics("appt-a1"))

    await client.refuse("Accept didn't go through: Can't accept the appointment: it's cancelled.")
    await h.settle()
    card = h.semantics("appt-a1")
    assert "New request — accept or reject" in h.texts(card)
    assert "Waiting to sync" not in h.texts(card)
    bars = [d for d in h.page._dialogs.controls if isinstance(d, ft.SnackBar)]
    assert bars and "it's cancelled" in str(bars[-1].content.label)  # type: ignore[union-attr]


async def test_notifications_badge_and_mark_read(mount: Mount) -> None:
    client = FakeClient(THERAPIST, world())
    h = await mount(client)
    note = {
        "id": "n1",
        "version": 1,
        "user_id": "t1",
        "kind": "assigned",
        "read": False,
        "text": "New booking for Client a9",
        "appointment_id": "a9",
        "created_at": "2026-11-21T08:00:00Z",
    }
    await client.remote("notification", note)
    await h.settle()
    rail = h.by_type(ft.NavigationRail)[0]
    icon = rail.destinations[-2].icon
    assert isinstance(icon, ft.Icon) and icon.badge == "1"
    tile = next(t for t in h.by_type(ft.ListTile))
    await h.click(tile)
    assert client.view().get("notification", "n1")["read"] is True  # type: ignore[index]
    icon = h.by_type(ft.NavigationRail)[0].destinations[-2].icon
    assert isinstance(icon, ft.Icon) and not icon.badge


async def test_login_friendly_error_then_remembers_the_user() -> None:
    prefs = MemoryPrefs()
    signed_in: list[str] = []

    async def connect(server: str, username: str, password: str, _: str | None) -> FakeClient:
        if password != "demo1234":
            raise LoginFailed("That username and password don't match.")
        signed_in.append(server)
        return FakeClient(THERAPIST, world())

    config = UiConfig(server_url="http://srv:8000", connect=connect)
    h = Harness(width=390, height=844)
    await h.run(lambda page: Session(page, config, prefs).start())
    assert h.field("Server").value == "http://srv:8000"
    await h.type_text(h.field("Username"), "therapist1")
    await h.type_text(h.field("Password"), "wrong")
    await h.click(h.button("Sign in"))
    assert "That username and password don't match." in h.texts()
    assert not h.has_semantics("connection")

    await h.type_text(h.field("Password"), "demo1234")
    await h.click(h.button("Sign in"))
    assert h.has_semantics("connection") and signed_in == ["http://srv:8000"]

    again = Harness(width=390, height=844)
    await again.run(lambda page: Session(page, config, prefs).start())
    assert again.field("Username").value == "therapist1"
