"""Sales reports as tables: which appointments are sales, periods, the
exact splits among therapists and services, the method split, the CSV."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain import reports as r

STAFF = [{"id": "t1", "name": "Ana Reyes"}, {"id": "t2", "name": "Bea Cruz"}]
SERVICES = [
    {"id": "sw", "name": "Swedish", "price": 1000},
    {"id": "ft", "name": "Foot", "price": 500},
    {"id": "free", "name": "Consult", "price": 0},
]


def appt(aid: str, day: str, method: str | None, amount: float = 1000, *,
         ext: float | None = None, status: str = "completed",
         therapists: tuple[str, ...] = ("t1",), services: tuple[str, ...] = ("sw",)
         ) -> dict[str, Any]:
    pay = None if method is None else {"method": method, "amount": amount,
                                       "receipt_ref": None, "extension_amount": ext}
    return {"id": aid, "date": day, "status": status, "payment": pay,
            "therapist_ids": list(therapists), "service_ids": list(services)}


@pytest.mark.parametrize(
    ("record", "total"),
    [
        (appt("a", "2026-12-01", "cash", 1200), 120000),
        (appt("a", "2026-12-01", "gcash", 1200, ext=300), 150000),
        (appt("a", "2026-12-01", "card", 999.99), 99999),
        (appt("a", "2026-12-01", "card", 0.1, ext=0.2), 30),  # no float drift
        (appt("a", "2026-12-01", None), None),  # not paid yet
        (appt("a", "2026-12-01", "cash", status="cancelled"), None),
        (appt("a", "2026-12-01", "cash", status="auto_cancelled"), None),
        (appt("a", "", "cash"), None),
    ],
)
def test_what_is_a_sale(record: dict[str, Any], total: int | None) -> None:
    found = r.sales([record])
    assert [s.total for s in found] == ([] if total is None else [total])


def test_date_range_is_inclusive() -> None:
    days = ["2026-11-30", "2026-12-01", "2026-12-02", "2026-12-03"]
    found = r.sales([appt(d, d, "cash") for d in days], "2026-12-01", "2026-12-02")
    assert [s.date for s in found] == ["2026-12-01", "2026-12-02"]
    assert len(r.sales([appt(d, d, "cash") for d in days], None, "2026-11-30")) == 1


@pytest.mark.parametrize(
    ("day", "grain", "key", "label"),
    [
        ("2026-12-02", "day", "2026-12-02", "Wed 02 Dec 2026"),
        ("2026-12-02", "week", "2026-11-30", "Week of 30 Nov – 06 Dec 2026"),
        ("2026-11-30", "week", "2026-11-30", "Week of 30 Nov – 06 Dec 2026"),
        ("2026-12-06", "week", "2026-11-30", "Week of 30 Nov – 06 Dec 2026"),
        ("2027-01-01", "week", "2026-12-28", "Week of 28 Dec – 03 Jan 2027"),
        ("2026-12-31", "month", "2026-12", "December 2026"),
    ],
)
def test_periods(day: str, grain: r.Grain, key: str, label: str) -> None:
    assert r.period(day, grain) == key
    assert r.period_label(key, grain) == label


@pytest.mark.parametrize(
    ("total", "weights", "parts"),
    [
        (100, [1, 1], [50, 50]),
        (101, [1, 1], [51, 50]),
        (100, [1, 1, 1], [34, 33, 33]),
        (150000, [100000, 50000], [100000, 50000]),
        (100, [100000, 50000], [67, 33]),
        (100, [0, 0], [50, 50]),  # no prices: evenly
        (100, [1000, 0], [100, 0]),  # a free service gets none
        (0, [1, 2], [0, 0]),
        (7, [], []),
    ],
)
def test_split_is_exact(total: int, weights: list[int], parts: list[int]) -> None:
    assert r.split(total, weights) == parts


@given(st.integers(0, 10**9), st.lists(st.integers(0, 10**6), min_size=1, max_size=6))
def test_split_always_adds_up(total: int, weights: list[int]) -> None:
    parts = r.split(total, weights)
    assert sum(parts) == total and all(p >= 0 for p in parts)


WEEK = [
    appt("a1", "2026-11-30", "cash", 1000),
    appt("a2", "2026-12-01", "gcash", 1000, ext=500),
    appt("a3", "2026-12-01", "card", 1500, therapists=("t1", "t2"), services=("sw", "ft")),
    appt("a4", "2026-12-08", "bank_transfer", 1000, therapists=("t2",)),
    appt("a5", "2026-12-09", "cash", 800, status="cancelled"),
    appt("a6", "2026-12-09", None),
]


@pytest.mark.parametrize(
    ("by", "rows"),
    [
        ("day", [("2026-11-30", 1, 100000, {"cash": 100000}),
                 ("2026-12-01", 2, 300000, {"gcash": 150000, "card": 150000}),
                 ("2026-12-08", 1, 100000, {"bank_transfer": 100000})]),
        ("week", [("2026-11-30", 3, 400000, {"cash": 100000, "gcash": 150000,
                                             "card": 150000}),
                  ("2026-12-07", 1, 100000, {"bank_transfer": 100000})]),
        ("month", [("2026-11", 1, 100000, {"cash": 100000}),
                   ("2026-12", 3, 400000, {"gcash": 150000, "card": 150000,
                                           "bank_transfer": 100000})]),
        # a3 shared evenly: 750 each; largest first
        ("therapist", [("t1", 3, 325000, {"cash": 100000, "gcash": 150000, "card": 75000}),
                       ("t2", 2, 175000, {"card": 75000, "bank_transfer": 100000})]),
        # a3 by list price: Swedish 1000 of 1500 -> 1000, Foot -> 500
        ("service", [("sw", 4, 450000, {"cash": 100000, "gcash": 150000, "card": 100000,
                                        "bank_transfer": 100000}),
                     ("ft", 1, 50000, {"card": 50000})]),
    ],
)
def test_reports(by: r.By, rows: list[tuple[str, int, int, dict[str, int]]]) -> None:
    got = r.report(by, r.sales(WEEK), STAFF, SERVICES)
    assert [(x.key, x.count, x.total, {m: a for m, a in x.by_method.items() if a})
            for x in got] == rows
    # every report adds up to the same bottom line
    assert sum(x.total for x in got) == r.totals(r.sales(WEEK)).total == 500000


def test_names_and_unknowns() -> None:
    found = r.sales([appt("a", "2026-12-01", "cash", therapists=(), services=("gone",))])
    assert [x.label for x in r.by_therapist(found, STAFF)] == ["No therapist"]
    assert [x.label for x in r.by_service(found, SERVICES)] == ["gone"]
    assert [x.label for x in r.by_therapist(r.sales(WEEK), STAFF)] == ["Ana Reyes", "Bea Cruz"]


def test_totals_of_nothing() -> None:
    total = r.totals([])
    assert (total.count, total.total) == (0, 0)
    assert set(total.by_method) == {"cash", "gcash", "bank_transfer", "card"}


@pytest.mark.parametrize(("amount", "text"),
                         [(0, "0.00"), (5, "0.05"), (123456, "1234.56"), (-250, "-2.50")])
def test_pesos(amount: int, text: str) -> None:
    assert r.pesos(amount) == text


def test_csv() -> None:
    found = r.sales(WEEK)
    text = r.to_csv("week", r.report("week", found, STAFF, SERVICES), r.totals(found))
    assert text.split("\r\n") == [
        "week,label,sessions,total,cash,gcash,bank_transfer,card",
        "2026-11-30,Week of 30 Nov – 06 Dec 2026,3,4000.00,1000.00,1500.00,0.00,1500.00",
        "2026-12-07,Week of 07 Dec – 13 Dec 2026,1,1000.00,0.00,0.00,1000.00,0.00",
        "total,Total,4,5000.00,1000.00,1500.00,1000.00,1500.00",
        "",
    ]


def test_csv_quotes_names() -> None:
    staff = [{"id": "t1", "name": 'Ana "Annie", Reyes'}]
    found = r.sales([appt("a", "2026-12-01", "cash")])
    text = r.to_csv("therapist", r.by_therapist(found, staff), r.totals(found))
    assert '"Ana ""Annie"", Reyes"' in text
