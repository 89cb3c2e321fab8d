"""The operator's charts: the aggregations (with no data, around midnight and
across a year) and the charts page, live."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import flet as ft
import flet_charts as fch
import pytest

from domain.status import Status
from testkit.flet_harness import Harness, descendants
from tests.views.conftest import Mount
from tests.views.data import OPERATOR, TODAY, appointment, world
from tests.views.fake_client import FakeClient
from views.components import clock
from views.operator import charts as operator_charts
from views.operator.charts import ChartsPage, hour_range
from views.operator.stats import (
    by_start_hour,
    by_status,
    on_day,
    revenue,
    revenue_by_day,
)
from views.operator.words import money, status_label

DAY = date.fromisoformat(TODAY)


def paid(amount: float, extension: float | None = None) -> dict[str, Any]:
    return {"method": "cash", "amount": amount, "receipt_ref": None, "extension_amount": extension}


def days_ago(n: int, today: date = DAY) -> str:
    return (today - timedelta(days=n)).isoformat()


# ---- aggregation


def test_by_status_counts_in_lifecycle_order() -> None:
    todays = [
        appointment("a1", Status.COMPLETED),
        appointment("a2", Status.PENDING),
        appointment("a3", Status.PENDING),
        appointment("a4", Status.CANCELLED),
        appointment("a5", Status.JOURNEY),
    ]
    assert by_status(todays) == [
        (Status.PENDING, 2),
        (Status.JOURNEY, 1),
        (Status.COMPLETED, 1),
        (Status.CANCELLED, 1),
    ]
    assert by_status([]) == []


def test_by_start_hour_around_midnight() -> None:
    appts = [
        appointment("first", Status.PENDING, start="00:00"),
        appointment("late", Status.PENDING, start="23:59"),
        appointment("late2", Status.PENDING, start="23:00"),
        appointment("nine", Status.PENDING, start="09:45"),
        appointment("gone", Status.AUTO_CANCELLED, start="09:00"),
        # yesterday's late booking runs past midnight into today: it is yesterday's
        appointment("yday", Status.SESSION_IN_PROGRESS, start="23:30", date=days_ago(1)),
        appointment("bad", Status.PENDING, start="9 am"),
    ]
    hours = by_start_hour(on_day(appts, DAY))
    assert len(hours) == 24
    assert hours[0] == 1 and hours[23] == 2 and hours[9] == 1
    assert sum(hours) == 4
    assert by_start_hour([]) == [0] * 24


def test_hour_range_widens_business_hours_to_bookings() -> None:
    assert hour_range([0] * 24) == range(8, 21)
    late = [0] * 24
    late[23] = 1
    late[6] = 2
    assert hour_range(late) == range(6, 24)


def test_revenue_counts_amount_and_extension_but_not_cancelled() -> None:
    assert revenue(appointment("a", Status.COMPLETED, payment=paid(900, 300))) == 1200
    assert revenue(appointment("b", Status.PAYMENT_VERIFIED, payment=paid(900))) == 900
    assert revenue(appointment("c", Status.AWAITING_PAYMENT, payment=None)) == 0
    assert revenue(appointment("d", Status.CANCELLED, payment=paid(900))) == 0


def test_revenue_by_day_covers_exactly_the_last_14_days() -> None:
    appts = [
        appointment("today", Status.COMPLETED, payment=paid(1000)),
        appointment("today2", Status.TRANSPORT_COMPLETED, payment=paid(500, 250)),
        appointment("first", Status.COMPLETED, date=days_ago(13), payment=paid(700)),
        appointment("too-old", Status.COMPLETED, date=days_ago(14), payment=paid(9999)),
        appointment("future", Status.PAYMENT_VERIFIED, date=days_ago(-1), payment=paid(9999)),
        appointment("unpaid", Status.PENDING, date=days_ago(3)),
    ]
    days = revenue_by_day(appts, DAY)
    assert [d for d, _ in days] == [DAY - timedelta(days=n) for n in range(13, -1, -1)]
    assert days[0] == (DAY - timedelta(days=13), 700.0)
    assert days[-1] == (DAY, 1750.0)
    assert sum(amount for _, amount in days) == 2450.0
    assert revenue_by_day([], DAY) == [(DAY - timedelta(days=n), 0.0) for n in range(13, -1, -1)]


def test_revenue_window_across_new_year() -> None:
    new_year = date(2026, 1, 5)
    appts = [
        appointment("dec", Status.COMPLETED, date="2025-12-23", payment=paid(100)),
        appointment("dec-old", Status.COMPLETED, date="2025-12-22", payment=paid(100)),
    ]
    days = revenue_by_day(appts, new_year)
    assert days[0] == (date(2025, 12, 23), 100.0)
    assert sum(a for _, a in days) == 100.0


def test_money_and_labels() -> None:
    assert money(1250) == "₱1,250"
    assert money(99.5) == "₱99.50"
    assert money(0) == "₱0"
    assert status_label(Status.PENDING) == "Waiting for the therapist"


# ---- the page


@pytest.fixture(autouse=True)
def no_debounce(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(operator_charts, "DEBOUNCE_SECONDS", 0.0)


def business() -> FakeClient:
    return FakeClient(
        OPERATOR,
        world(
            appointment("a1", Status.PENDING, start="09:00"),
            appointment("a2", Status.PENDING, start="09:30"),
            appointment("a3", Status.COMPLETED, start="14:00", payment=paid(900, 300)),
            appointment("a4", Status.COMPLETED, date=days_ago(2), payment=paid(800)),
        ),
    )


def pie(h: Harness) -> Any:
    (chart,) = [c for c in descendants(h.semantics("chart-status")) if isinstance(c, fch.PieChart)]
    return chart


def bars(h: Harness, identifier: str) -> dict[int, float]:
    (chart,) = [c for c in descendants(h.semantics(identifier)) if isinstance(c, fch.BarChart)]
    return {g.x: g.rods[0].to_y for g in chart.groups}


async def redrawn(h: Harness) -> None:
    await asyncio.sleep(0.01)
    await h.settle()


async def test_charts_show_today_and_the_last_two_weeks(mount: Mount) -> None:
    h = await mount(business(), width=1440, height=900)
    assert [s.value for s in pie(h).sections] == [2, 1]  # pending, completed
    legend = h.texts(h.semantics("chart-status"))
    assert "Waiting for the therapist — 2" in legend and "Completed — 1" in legend
    hours = bars(h, "chart-hours")
    assert min(hours) == 8 and max(hours) == 20
    assert hours[9] == 2 and hours[14] == 1 and hours[10] == 0
    assert "Busiest: 9 am with 2" in h.texts(h.semantics("chart-hours"))
    revenue = bars(h, "chart-revenue")
    assert len(revenue) == 14
    assert revenue[13] == 1200 and revenue[11] == 800
    assert "₱2,000 in all · ₱1,200 today" in h.texts(h.semantics("chart-revenue"))


async def test_charts_follow_appointment_changes(mount: Mount) -> None:
    client = business()
    h = await mount(client, width=1440, height=900)
    a1 = client.view().get("appointment", "a1")
    assert a1 is not None
    # a burst of changes: one redraw when it settles
    await client.remote("appointment", {**a1, "version": 2, "status": "therapist_confirmed"})
    await client.remote("appointment", appointment("a9", Status.PENDING, start="18:00"))
    await redrawn(h)
    assert [s.value for s in pie(h).sections] == [2, 1, 1]
    assert bars(h, "chart-hours")[18] == 1
    # a payment verified today shows in today's revenue
    await client.remote(
        "appointment",
        appointment("a9", Status.PAYMENT_VERIFIED, start="18:00", payment=paid(1500), version=2),
    )
    await redrawn(h)
    assert bars(h, "chart-revenue")[13] == 2700

    # changes to other things don't redraw the charts
    inside = {c._i for c in descendants(h.semantics("charts-page"))}
    mark = h.mark()
    await client.remote("client", {"id": "c1", "version": 2, "first_name": "Maria"})
    await redrawn(h)
    assert not h.patched_ids(mark) & inside


async def test_empty_states() -> None:
    h = Harness()
    client = FakeClient(OPERATOR, world())

    async def main(page: ft.Page) -> None:
        page.add(ChartsPage(page, client).root)

    await h.run(main)
    texts = h.texts()
    assert "No appointments today yet." in texts
    assert "No bookings today yet." in texts
    assert "No payments in the last 14 days." in texts
    assert not [c for c in h.all() if isinstance(c, (fch.PieChart, fch.BarChart))]


async def test_charts_roll_over_at_midnight_with_nothing_changing(
    mount: Mount, monkeypatch: pytest.MonkeyPatch
) -> None:
    day = [DAY]
    monkeypatch.setattr(clock, "today", lambda: day[0])
    monkeypatch.setattr(clock, "DAY_WATCH_SECONDS", 0.01)
    h = await mount(business(), width=1440, height=900)
    assert bars(h, "chart-revenue")[13] == 1200
    day[0] += timedelta(days=1)
    for _ in range(200):  # the watch looks every 10 ms: give a busy machine 2 s
        await asyncio.sleep(0.01)
        await h.settle()
        if "No appointments today yet." in h.texts(h.semantics("chart-status")):
            break
    assert "No appointments today yet." in h.texts(h.semantics("chart-status"))
    assert "No bookings today yet." in h.texts(h.semantics("chart-hours"))
    revenue = bars(h, "chart-revenue")
    assert revenue[13] == 0 and revenue[12] == 1200  # yesterday's now
    assert "₱2,000 in all · ₱0 today" in h.texts(h.semantics("chart-revenue"))
