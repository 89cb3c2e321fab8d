"""The operator's Reports page: the figures of domain.reports on screen
(summary with the method split, a stacked bar per period, the table), the
choices (by therapist, by service, the period), live redraws, and the CSV
export handed to the save dialog — or a refusal in words."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import flet as ft
import flet_charts as fch

from domain.status import Status
from testkit.flet_harness import Harness, descendants
from tests.views.data import OPERATOR, TODAY, appointment, world
from tests.views.fake_client import FakeClient
from views.operator.reports import ReportsPage, span

DAY = date.fromisoformat(TODAY)


def ago(n: int) -> str:
    return (DAY - timedelta(days=n)).isoformat()


def paid(aid: str, day: str, method: str, amount: float, **extra: Any) -> dict[str, Any]:
    return appointment(aid, Status.COMPLETED, date=day,
                       payment={"method": method, "amount": amount, "receipt_ref": "R",
                                "extension_amount": None}, **extra)


SALES = [
    paid("a1", TODAY, "cash", 900),
    paid("a2", TODAY, "gcash", 1200),
    paid("a3", ago(1), "card", 1500),
    paid("a4", ago(40), "bank_transfer", 700),  # outside the last 30 days
    appointment("a5", Status.AWAITING_PAYMENT),  # not a sale yet
]


class Saved:
    def __init__(self) -> None:
        self.files: list[tuple[str, bytes]] = []

    async def __call__(self, name: str, data: bytes) -> None:
        self.files.append((name, data))


async def mounted(client: FakeClient) -> tuple[Harness, ReportsPage, Saved]:
    """The page alone (the shell's own copy saves through the real dialog)."""
    h = Harness(width=1440, height=900)
    saved = Saved()
    made: list[ReportsPage] = []

    async def main(page: ft.Page) -> None:
        reports = ReportsPage(page, client, save=saved, debounce=0)
        client.subscribe(lambda ch: reports.changed(ch))
        page.add(reports.root)
        made.append(reports)

    await h.run(main)
    await h.settle()
    return h, made[0], saved


async def choose(h: Harness, dropdown: ft.Dropdown, value: str) -> None:
    h.session.apply_patch(dropdown._i, {"value": value})
    await h.session.dispatch_event(dropdown._i, "select", value)
    await h.settle()


def rods(h: Harness) -> list[fch.BarChartRod]:
    return [r for r in descendants(h.semantics("reports-chart"))
            if isinstance(r, fch.BarChartRod)]


def table_rows(h: Harness) -> list[list[str]]:
    (table,) = [t for t in descendants(h.semantics("reports-table"))
                if isinstance(t, ft.DataTable)]
    return [[str(c.content.value) for c in r.cells if isinstance(c.content, ft.Text)]
            for r in table.rows]


async def test_sales_by_day_with_the_method_split() -> None:
    client = FakeClient(OPERATOR, world(*SALES))
    h, page, _ = await mounted(client)
    summary = h.texts(h.semantics("reports-summary"))
    assert "₱3,600 from 3 sessions" in summary
    assert {"Cash ₱900", "GCash ₱1,200", "Card ₱1,500"} <= set(summary)
    assert not any("Bank transfer" in t for t in summary)  # only the last 30 days

    bars = rods(h)
    assert [r.to_y for r in bars] == [1500, 2100]  # yesterday, today
    today = bars[-1]
    assert [(s.from_y, s.to_y) for s in today.stack_items] == [(0, 900), (900, 2100)]
    assert table_rows(h)[-1] == ["Total", "3", "₱3,600", "₱900", "₱1,200", "₱1,500"]

    await choose(h, page.range_choice, "all")
    assert "₱4,300 from 4 sessions" in h.texts(h.semantics("reports-summary"))


async def test_by_therapist_and_by_service() -> None:
    shared = paid("g1", TODAY, "gcash", 2000, therapist_ids=["t1", "t2"])
    records = world(*SALES, shared)
    records["staff"].append({"id": "t2", "version": 1, "role": "therapist", "name": "Bea",
                             "username": "therapist2", "active": True})
    client = FakeClient(OPERATOR, records)
    h, page, _ = await mounted(client)
    await choose(h, page.by_choice, "therapist")
    rows = table_rows(h)
    assert [r[:3] for r in rows] == [["Ana", "4", "₱4,600"], ["Bea", "1", "₱1,000"],
                                     ["Total", "4", "₱5,600"]]
    await choose(h, page.by_choice, "service")
    assert [r[:3] for r in table_rows(h)] == [["Swedish massage", "4", "₱5,600"],
                                              ["Total", "4", "₱5,600"]]


async def test_nothing_to_report() -> None:
    client = FakeClient(OPERATOR, world(appointment("a5", Status.PENDING)))
    h, _, _ = await mounted(client)
    assert h.texts(h.semantics("reports-summary")) == [
        "No verified payments in the last 30 days."]
    assert not rods(h)


async def test_a_new_payment_redraws() -> None:
    client = FakeClient(OPERATOR, world(*SALES))
    h, _, _ = await mounted(client)
    await client.remote("appointment", paid("a9", TODAY, "card", 100))
    await asyncio.sleep(0.05)
    await h.settle()
    assert "₱3,700 from 4 sessions" in h.texts(h.semantics("reports-summary"))


async def test_export_csv() -> None:
    client = FakeClient(OPERATOR, world(*SALES))
    h, page, saved = await mounted(client)
    await choose(h, page.by_choice, "week")
    await h.click(h.button("Export CSV", within=h.semantics("reports-page")))
    start, end = span("30", DAY)
    assert client.csv_asked == [("week", start, end)]
    ((name, data),) = saved.files
    assert name == f"sales-by-week-{start}-to-{end}.csv"
    lines = data.decode().splitlines()
    assert lines[0] == "week,label,sessions,total,cash,gcash,bank_transfer,card"
    assert lines[-1] == "total,Total,3,3600.00,900.00,1200.00,0.00,1500.00"

    client.offline_asks = True
    await h.click(h.button("Export CSV", within=h.semantics("reports-page")))
    assert len(saved.files) == 1
    snacks = [s for s in h.by_type(ft.SnackBar) if s.open]
    assert any("Can't export the report" in t for s in snacks for t in h.texts(s))
