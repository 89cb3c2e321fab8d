"""The all-appointments table: filters, client search, sorting, live rows."""

from __future__ import annotations

import flet as ft

from domain.status import Status
from testkit.flet_harness import Harness
from tests.views.conftest import Mount
from tests.views.data import OPERATOR, appointment, world
from tests.views.fake_client import FakeClient

# A mount of the table section alone (the rest of the console isn't looked at here).
TABLE = ("table",)


def table(h: Harness) -> ft.DataTable:
    (t,) = h.by_type(ft.DataTable)
    return t


def clients(h: Harness) -> list[str]:
    return [str(r.cells[2].content.value) for r in table(h).rows]  # type: ignore[union-attr]


async def select(h: Harness, label: str, value: str) -> None:
    d = next(d for d in h.by_type(ft.Dropdown) if d.label == label)
    h.session.apply_patch(d._i, {"value": value})
    await h.session.dispatch_event(d._i, "select", value)
    await h.settle()


async def test_filters_search_and_sort(mount: Mount) -> None:
    appts = [
        appointment(
            "a1", Status.PENDING, start="09:00", client_name="Liza Mendoza", date="2026-11-20"
        ),
        appointment(
            "a2",
            Status.AWAITING_PAYMENT,
            start="11:00",
            client_name="Carlo Bautista",
            date="2026-11-21",
        ),
        appointment(
            "a3",
            Status.CANCELLED,
            start="08:00",
            client_name="Bea Lim",
            date="2026-11-22",
            driver_id="d9",
            pickup_driver_id=None,
        ),
    ]
    client = FakeClient(OPERATOR, world(*appts))
    h = await mount(client, width=1440, height=900, only=TABLE)
    assert clients(h) == ["Liza Mendoza", "Carlo Bautista", "Bea Lim"]  # by date

    await h.type_text(h.field("Search client"), "car")
    assert clients(h) == ["Carlo Bautista"]
    await h.type_text(h.field("Search client"), "")

    await select(h, "Status", "cancelled")
    assert clients(h) == ["Bea Lim"]
    await select(h, "Status", "any")

    await select(h, "Driver", "d1")
    assert clients(h) == ["Liza Mendoza", "Carlo Bautista"]
    await select(h, "Driver", "any")

    await h.type_text(h.field("From"), "2026-11-21")
    assert clients(h) == ["Carlo Bautista", "Bea Lim"]
    await h.type_text(h.field("To"), "2026-11-21")
    assert clients(h) == ["Carlo Bautista"]
    await h.type_text(h.field("From"), "")
    await h.type_text(h.field("To"), "")

    client_column = table(h).columns[2]
    await h.session.dispatch_event(client_column._i, "sort", {"ci": 2, "asc": True})
    await h.settle()
    assert clients(h) == ["Bea Lim", "Carlo Bautista", "Liza Mendoza"]

    # a remote change shows without touching the filters
    await client.remote("appointment", {**appts[0], "version": 2, "client_name": "Aida Cruz"})
    await h.settle()
    assert clients(h) == ["Aida Cruz", "Bea Lim", "Carlo Bautista"]
    assert "Ana" in [str(r.cells[4].content.value) for r in table(h).rows]  # type: ignore[union-attr]
