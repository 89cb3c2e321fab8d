"""The operator's inventory page (stock low first, add / edit / restock with
the domain's words under each field, the history of one material, the
services switch) and the therapist's "complete" dialog picking stock
materials (issue 16)."""

from __future__ import annotations

from typing import Any

import flet as ft

from domain.records import Record
from domain.status import Status
from testkit.flet_harness import Harness, descendants
from tests.views.conftest import Mount
from tests.views.data import OPERATOR, THERAPIST, appointment, world
from tests.views.fake_client import FakeClient
from views.operator.inventory import InventoryPage, stock_order

OIL: Record = {
    "id": "m1",
    "version": 1,
    "name": "Massage oil",
    "unit": "ml",
    "on_hand": 500,
    "reorder_level": 100,
    "active": True,
}
STONES: Record = {
    "id": "m2",
    "version": 1,
    "name": "Hot stones",
    "unit": "sets",
    "on_hand": 2,
    "reorder_level": 3,
    "active": True,
}
TOWELS: Record = {
    "id": "m3",
    "version": 1,
    "name": "Towels",
    "unit": "pieces",
    "on_hand": 40,
    "reorder_level": 10,
    "active": True,
}
OLD: Record = {
    "id": "m4",
    "version": 1,
    "name": "Bamboo sticks",
    "unit": "sets",
    "on_hand": 0,
    "reorder_level": 1,
    "active": False,
}
USED: Record = {
    "id": "sm1",
    "version": 1,
    "material_id": "m1",
    "delta": -30,
    "kind": "use",
    "on_hand": 500,
    "appointment_id": "a1",
    "by": "t1",
    "at": "2026-11-21T02:00:00Z",
    "note": None,
}
RESTOCKED: Record = {
    "id": "sm2",
    "version": 1,
    "material_id": "m1",
    "delta": 1000,
    "kind": "restock",
    "on_hand": 530,
    "appointment_id": None,
    "by": "o1",
    "at": "2026-11-20T02:00:00Z",
    "note": "Monthly order",
}


def shop(*materials: Record, moves: tuple[Record, ...] = ()) -> FakeClient:
    records = world(appointment("a1", Status.COMPLETED))
    records["material"] = list(materials)
    records["stock_move"] = list(moves)
    return FakeClient(OPERATOR, records)


async def page_of(client: FakeClient) -> tuple[Harness, InventoryPage]:
    h = Harness(width=1440, height=900)
    made: list[InventoryPage] = []

    async def main(page: ft.Page) -> None:
        inventory = InventoryPage(page, client)
        client.subscribe(inventory.changed)
        made.append(inventory)
        page.add(inventory.root)

    await h.run(main)
    return h, made[0]


def listed(h: Harness) -> list[str]:
    return [
        str(s.identifier)
        for s in descendants(h.semantics("stock-list"))
        if isinstance(s, ft.Semantics) and str(s.identifier).startswith("material-")
    ]


def row_button(h: Harness, label: str, row: ft.Semantics) -> ft.TextButton:
    """A list row's text button (the harness's `button` finds filled ones)."""
    (hit,) = [b for b in descendants(row) if isinstance(b, ft.TextButton) and b.content == label]
    return hit


def dialog(h: Harness) -> ft.AlertDialog:
    open_ = [d for d in h.page._dialogs.controls if isinstance(d, ft.AlertDialog) and d.open]
    assert len(open_) == 1, open_
    return open_[0]


def args_of(client: FakeClient) -> list[tuple[str, dict[str, Any]]]:
    return [(c.name, dict(c.args)) for c in client.dispatched]


async def test_low_stock_first_with_a_badge() -> None:
    h, _ = await page_of(shop(OIL, STONES, TOWELS, OLD))
    assert listed(h) == ["material-m2", "material-m1", "material-m3", "material-m4"]
    stones = h.texts(h.semantics("material-m2"))
    assert stones[:4] == ["Hot stones", "2 sets", "reorder at 3", "Low"]
    assert "Low" not in h.texts(h.semantics("material-m1"))
    assert "Not in use" in h.texts(h.semantics("material-m4"))
    assert [m["id"] for m in stock_order([OLD, TOWELS, STONES])] == ["m2", "m3", "m4"]


async def test_add_a_material_with_the_domains_words_under_each_field() -> None:
    client = shop(OIL)
    h, _ = await page_of(client)
    await h.click(h.button("Add material"))
    await h.type_text(h.field("On hand"), "-5")
    await h.type_text(h.field("Reorder level"), "lots")
    await h.click(h.button("Save", within=dialog(h)))
    assert not client.dispatched
    assert h.field("Name").error == "Please give the material's name."
    assert h.field("Unit").error == "Please give the unit (ml, pieces, sets…)."
    assert h.field("On hand").error == "The stock on hand can't be negative."
    assert h.field("Reorder level").error == "Please give the reorder level as a number."
    for label, text in (
        ("Name", "Aromatherapy oil"),
        ("Unit", "ml"),
        ("On hand", "300"),
        ("Reorder level", "100"),
    ):
        await h.type_text(h.field(label), text)
    await h.click(h.button("Save", within=dialog(h)))
    assert args_of(client) == [
        (
            "material.create",
            {"name": "Aromatherapy oil", "unit": "ml", "on_hand": 300.0, "reorder_level": 100.0},
        )
    ]
    assert not dialog_open(h)
    # optimistic: on the list at once
    assert len(listed(h)) == 2 and "Aromatherapy oil" in h.texts(h.semantics("stock-list"))


async def test_a_name_the_server_would_refuse_shows_in_the_dialog() -> None:
    client = shop(OIL)
    h, _ = await page_of(client)
    await h.click(h.button("Add material"))
    for label, text in (
        ("Name", "massage oil"),
        ("Unit", "ml"),
        ("On hand", "1"),
        ("Reorder level", "0"),
    ):
        await h.type_text(h.field(label), text)
    await h.click(h.button("Save", within=dialog(h)))
    assert "There is already a material called Massage oil." in h.texts(dialog(h))


def dialog_open(h: Harness) -> bool:
    return any(isinstance(d, ft.AlertDialog) and d.open for d in h.page._dialogs.controls)


async def test_restock_and_edit() -> None:
    client = shop(OIL, STONES)
    h, _ = await page_of(client)
    await h.click(row_button(h, "Restock", h.semantics("material-m2")))
    await h.click(h.button("Restock", within=dialog(h)))
    assert h.field("Quantity (sets)").error == "Please give the quantity as a number."
    await h.type_text(h.field("Quantity (sets)"), "4")
    await h.type_text(h.field("Note (optional)"), "From Lazada")
    await h.click(h.button("Restock", within=dialog(h)))
    assert args_of(client)[-1] == ("material.restock", {"quantity": 4.0, "note": "From Lazada"})
    # 6 sets now: above its reorder level, so no "Low" any more
    assert "6 sets" in h.texts(h.semantics("material-m2"))
    assert "Low" not in h.texts(h.semantics("material-m2"))

    await h.click(row_button(h, "Edit", h.semantics("material-m1")))
    await h.type_text(h.field("Reorder level"), "600")
    await h.click(h.button("Save", within=dialog(h)))
    assert args_of(client)[-1] == ("material.update", {"reorder_level": 600.0})
    assert listed(h)[0] == "material-m1" and "Low" in h.texts(h.semantics("material-m1"))


async def test_history_says_who_used_what_on_which_appointment() -> None:
    client = shop(OIL, moves=(USED, RESTOCKED))
    h, _ = await page_of(client)
    assert "Choose History" in h.texts(h.semantics("stock-history"))[0]
    await h.click(row_button(h, "History", h.semantics("material-m1")))
    shown = h.texts(h.semantics("stock-history"))
    assert shown[0] == "Massage oil: 500 ml"
    assert f"Ana used 30 ml for Client a1, {appointment('a1', 'x')['date']} 10:00" in shown
    assert "Olga restocked 1,000 ml: Monthly order" in shown
    assert shown.index("Olga restocked 1,000 ml: Monthly order") > shown.index(
        f"Ana used 30 ml for Client a1, {appointment('a1', 'x')['date']} 10:00"
    )  # newest first
    # a restock lands in the history live
    await h.click(row_button(h, "Restock", h.semantics("material-m1")))
    await h.type_text(h.field("Quantity (ml)"), "250")
    await h.click(h.button("Restock", within=dialog(h)))
    assert "Olga restocked 250 ml" in h.texts(h.semantics("stock-history"))


async def test_services_add_and_switch_off() -> None:
    client = shop()
    h, _ = await page_of(client)
    row = h.semantics("service-s1")
    assert h.texts(row)[:3] == ["Swedish massage", "60 min", "₱900"]
    switch = next(c for c in descendants(row) if isinstance(c, ft.Switch))
    await h.toggle(switch, False)
    assert args_of(client) == [("service.update", {"active": False})]
    assert client.view().get("service", "s1")["active"] is False  # type: ignore[index]

    await h.click(h.button("Add service"))
    await h.type_text(h.field("Name"), "Hot stone massage")
    await h.type_text(h.field("Minutes"), "0")
    await h.type_text(h.field("Price"), "1300")
    await h.click(h.button("Save", within=dialog(h)))
    assert h.field("Minutes").error == "The minutes must be more than zero."
    await h.type_text(h.field("Minutes"), "75")
    await h.click(h.button("Save", within=dialog(h)))
    assert args_of(client)[-1] == (
        "service.create",
        {"name": "Hot stone massage", "minutes": 75.0, "price": 1300.0},
    )
    names = [
        str(s.identifier)
        for s in descendants(h.semantics("services-list"))
        if isinstance(s, ft.Semantics) and str(s.identifier).startswith("service-")
    ]
    assert len(names) == 2 and names[-1] == "service-s1"  # off offer: last


async def test_the_operator_has_an_inventory_page(mount: Mount) -> None:
    h = await mount(shop(OIL), width=1440, height=900)
    (rail,) = h.by_type(ft.NavigationRail)
    assert "Inventory" in [d.label for d in rail.destinations]


# ---- the therapist's complete dialog ------------------------------------------------


def therapist(*materials: Record) -> FakeClient:
    records = world(appointment("a1", Status.PAYMENT_VERIFIED))
    records["material"] = list(materials)
    return FakeClient(THERAPIST, records)


async def test_complete_offers_the_stock_materials(mount: Mount) -> None:
    client = therapist(OIL, TOWELS, OLD)
    h = await mount(client)
    await h.click(h.button("Complete", within=h.semantics("appt-a1")))
    labels = [f.label for f in descendants(dialog(h)) if isinstance(f, ft.TextField)]
    # in use only, by name; free text for anything else
    assert labels == ["Massage oil (ml)", "Towels (pieces)", "Anything else used (optional)"]
    await h.type_text(h.field("Massage oil (ml)"), "abc")
    await h.click(h.button("Complete", within=dialog(h)))
    assert h.field("Massage oil (ml)").error == "Please give the quantity as a number."
    assert not client.dispatched
    await h.type_text(h.field("Massage oil (ml)"), "30")
    await h.type_text(h.field("Anything else used (optional)"), "Cotton pads 3")
    await h.click(h.button("Complete", within=dialog(h)))
    assert args_of(client) == [
        (
            "appointment.complete",
            {
                "materials": [
                    {"material_id": "m1", "quantity": 30.0},
                    {"name": "Cotton pads", "quantity": 3},
                ]
            },
        )
    ]
    assert client.view().get("material", "m1")["on_hand"] == 470  # type: ignore[index]


async def test_complete_below_zero_says_so(mount: Mount) -> None:
    client = therapist({**OIL, "on_hand": 10})
    h = await mount(client)
    await h.click(h.button("Complete", within=h.semantics("appt-a1")))
    await h.type_text(h.field("Massage oil (ml)"), "30")
    await h.click(h.button("Complete", within=dialog(h)))
    snacks = [s for s in h.page._dialogs.controls if isinstance(s, ft.SnackBar) and s.open]
    assert any("Massage oil is now at -20 ml: restock it." in h.texts(s) for s in snacks)


async def test_complete_without_stock_keeps_the_free_text(mount: Mount) -> None:
    client = therapist()
    h = await mount(client)
    await h.click(h.button("Complete", within=h.semantics("appt-a1")))
    labels = [f.label for f in descendants(dialog(h)) if isinstance(f, ft.TextField)]
    assert labels == ["Materials used (optional)"]


async def test_the_sync_page_names_the_material_or_service_a_change_is_about() -> None:
    from views.components.describe import describe
    from views.port import QueuedCommand

    client = shop(OIL)
    assert describe(client, QueuedCommand(1, "material.restock", "m1")) == "Restock — Massage oil"
    assert describe(client, QueuedCommand(2, "service.update", "s1")) == (
        "Service change — Swedish massage"
    )


async def test_the_booking_form_offers_only_services_on_offer(mount: Mount) -> None:
    records = world()
    records["service"].append(
        {"id": "s2", "version": 2, "name": "Ventosa", "minutes": 60, "price": 700, "active": False}
    )
    h = await mount(FakeClient(OPERATOR, records), width=1440, height=900)
    await h.click(h.button("New appointment"))
    labels = [c.label for c in h.by_type(ft.Checkbox)]
    assert "Swedish massage" in labels and "Ventosa" not in labels
