"""The operator's clients page: search, details and history, live updates."""

from __future__ import annotations

import flet as ft

from domain.records import Record
from domain.status import Status
from testkit.flet_harness import Harness, descendants
from tests.views.conftest import Mount
from tests.views.data import OPERATOR, appointment, world
from tests.views.fake_client import FakeClient
from views.operator.clients import ClientsPage, history, matches

# A mount of the clients section alone (the rest of the console isn't looked at here).
CLIENTS = ("clients",)


def person(id: str, first: str, last: str, **extra: object) -> Record:
    return {
        "id": id,
        "version": 1,
        "first_name": first,
        "last_name": last,
        "phone": f"+63 917 000 {id[-1] * 4}",
        "address": f"{id[-1]} Palm Street, Makati",
        **extra,
    }


MARIA = person("c1", "Maria", "Santos", email="maria@example.com", notes="Prefers firm pressure")
JOSE = person("c2", "Jose", "Rizal", address="7 Calle Real, Intramuros")
LIZA = person("c3", "Liza", "Mendoza")


def business() -> FakeClient:
    paid = {"method": "cash", "amount": 900, "receipt_ref": None, "extension_amount": 300}
    records = world(
        appointment("a1", Status.COMPLETED, date="2026-11-10", payment=paid),
        appointment("a2", Status.PENDING, date="2026-11-25", start="14:00"),
        appointment("a3", Status.CANCELLED, date="2026-11-12", client_id="c2"),
    )
    records["client"] = [MARIA, JOSE, LIZA]
    return FakeClient(OPERATOR, records)


def listed(h: Harness) -> list[str]:
    return [
        str(s.identifier)
        for s in descendants(h.semantics("client-list"))
        if isinstance(s, ft.Semantics) and str(s.identifier).startswith("client-c")
    ]


def details(h: Harness) -> list[str]:
    return h.texts(h.semantics("client-details"))


async def choose(h: Harness, client_id: str) -> None:
    (tile,) = [
        c for c in descendants(h.semantics(f"client-{client_id}")) if isinstance(c, ft.ListTile)
    ]
    await h.click(tile)


async def test_search_by_name_phone_or_address(mount: Mount) -> None:
    h = await mount(business(), width=1440, height=900, only=CLIENTS)
    assert listed(h) == ["client-c2", "client-c3", "client-c1"]  # Jose, Liza, Maria
    assert "3 clients" in h.texts(h.semantics("client-list"))
    search = h.field("Search clients")
    await h.type_text(search, "santos")
    assert listed(h) == ["client-c1"]
    assert "1 of 3 clients" in h.texts(h.semantics("client-list"))
    await h.type_text(search, "intramuros")
    assert listed(h) == ["client-c2"]
    await h.type_text(search, "0 3333")  # part of Liza's phone
    assert listed(h) == ["client-c3"]
    await h.type_text(search, "nobody here")
    assert listed(h) == []
    assert "No clients match “nobody here”." in h.texts(h.semantics("client-list"))


async def test_choosing_a_client_shows_details_and_history(mount: Mount) -> None:
    h = await mount(business(), width=1440, height=900, only=CLIENTS)
    assert details(h) == ["Choose a client to see their details and appointments."]
    await choose(h, "c1")
    shown = details(h)
    assert shown[0] == "Maria Santos"
    assert "maria@example.com" in shown and "Prefers firm pressure" in shown
    assert "2 appointments · ₱1,200 paid" in shown
    rows = [
        str(s.identifier)
        for s in descendants(h.semantics("client-details"))
        if isinstance(s, ft.Semantics) and str(s.identifier).startswith("client-appt-")
    ]
    assert rows == ["client-appt-a2", "client-appt-a1"]  # newest first
    a1 = h.texts(h.semantics("client-appt-a1"))
    assert "Completed — request a pickup" in a1
    assert "With Ana · Paid ₱1,200" in a1
    assert any("Swedish massage" in t for t in a1)

    await choose(h, "c3")
    assert "No appointments yet for Liza Mendoza." in details(h)


async def test_history_and_list_follow_changes(mount: Mount) -> None:
    client = business()
    # the whole console: "the event reached the screen" counts the other pages too
    h = await mount(client, width=1440, height=900)
    await choose(h, "c2")
    assert "1 appointment" in details(h)

    # a new booking for Jose arrives from the server
    await client.remote(
        "appointment", appointment("a9", Status.PENDING, client_id="c2", date="2026-12-01")
    )
    await h.settle()
    assert "2 appointments" in details(h)
    assert h.has_semantics("client-appt-a9")

    # an appointment of someone else's leaves Jose's details alone
    inside = {c._i for c in descendants(h.semantics("client-details"))}
    mark = h.mark()
    await client.remote("appointment", appointment("a8", Status.PENDING, client_id="c3"))
    await h.settle()
    assert h.patched_ids(mark) and not h.patched_ids(mark) & inside

    # Jose's record is edited: the list and the details show the new name
    await client.remote("client", {**JOSE, "version": 2, "first_name": "José"})
    await h.settle()
    assert details(h)[0] == "José Rizal"
    assert "José Rizal" in h.texts(h.semantics("client-list"))

    # a booking moved to another client leaves Jose's history
    a9 = client.view().get("appointment", "a9")
    assert a9 is not None
    await client.remote("appointment", {**a9, "version": 2, "client_id": "c1"})
    await h.settle()
    assert not h.has_semantics("client-appt-a9")


async def test_no_clients_yet() -> None:
    h = Harness()
    client = FakeClient(OPERATOR, {"client": [], "appointment": []})

    async def main(page: ft.Page) -> None:
        page.add(ClientsPage(client).root)

    await h.run(main)
    assert "No clients yet: book one to add them." in h.texts()


def test_matching_and_history_order() -> None:
    assert matches(MARIA, "maria SANTOS")
    assert matches(MARIA, "example.com")
    assert not matches(MARIA, "maria rizal")
    assert matches(MARIA, "")
    appts = [
        appointment("x1", Status.PENDING, date="2026-11-20", start="09:00"),
        appointment("x2", Status.PENDING, date="2026-11-20", start="15:00"),
        appointment("x3", Status.PENDING, date="2026-11-21", start="08:00"),
        appointment("x4", Status.PENDING, date="2026-11-22", client_id="other"),
    ]
    assert [a["id"] for a in history(appts, "c1")] == ["x3", "x2", "x1"]
    assert history([], "c1") == []
