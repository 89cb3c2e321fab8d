"""The sales CSV through the real API (issue 16), on SQLite and PostgreSQL:
the numbers of verified payments (amount + extension, by method), the date
range, by therapist and by service, operators only."""

from __future__ import annotations

import csv
import io
import uuid

import pytest

from testkit.server import ServerProcess
from tests.server.helpers import Api, fresh_day, make_world, new_client, service_id


@pytest.fixture(scope="module")
def srv(staff_server: ServerProcess) -> ServerProcess:
    return staff_server


def paid(op: Api, t: Api, d1: Api, day: str, start: str, **payment: object) -> str:
    aid = str(uuid.uuid4())
    op.cmd("appointment.create", aid, client_id=new_client(op), service_ids=[service_id(op)],
           therapist_ids=[t.id], driver_id=d1.id, date=day, start_time=start,
           end_time=start[:2] + ":50", location="12 Jupiter St, Makati").ok()
    for api, action in ((t, "accept"), (d1, "confirm"), (op, "start"), (d1, "start_journey"),
                        (d1, "arrive"), (d1, "drop_off"), (t, "start_session"),
                        (t, "request_payment")):
        api.cmd(f"appointment.{action}", aid).ok()
    op.cmd("appointment.verify_payment", aid, **payment).ok()
    return aid


def rows(api: Api, **params: str) -> list[list[str]]:
    r = api.get("/api/reports/sales.csv", **params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    return list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))


def test_sales_csv(op: Api, t1: Api, t2: Api, d1: Api) -> None:
    day, other = fresh_day(), fresh_day()
    make_world(op, day, [t1.username, t2.username])
    make_world(op, other, [t1.username])
    paid(op, t1, d1, day, "09:00", method="cash", amount=1000)
    paid(op, t2, d1, day, "12:00", method="gcash", amount=1200, extension_amount=300,
         receipt_ref="GC-1")
    paid(op, t1, d1, other, "15:00", method="card", amount=800, receipt_ref="C-9")

    head = ["day", "label", "sessions", "total", "cash", "gcash", "bank_transfer", "card"]
    got = rows(op, by="day", start=day, end=day)
    assert got[0] == head
    assert got[1][0] == day and got[1][2:] == ["2", "2500.00", "1000.00", "1500.00", "0.00",
                                                "0.00"]
    assert got[-1] == ["total", "Total", "2", "2500.00", "1000.00", "1500.00", "0.00", "0.00"]

    first, last = sorted([day, other])
    by_t = rows(op, by="therapist", start=first, end=last)
    assert [r[1:4] for r in by_t[1:]] == [
        [by_t[1][1], "2", "1800.00"],
        [by_t[2][1], "1", "1500.00"],
        ["Total", "3", "3300.00"],
    ]
    names = {s["id"]: s["name"] for s in op.bootstrap()["staff"]}
    assert [r[0] for r in by_t[1:3]] == [t1.id, t2.id]
    assert [r[1] for r in by_t[1:3]] == [names[t1.id], names[t2.id]]

    by_s = rows(op, by="service", start=first, end=last)
    assert by_s[1][0] == service_id(op) and by_s[1][2:4] == ["3", "3300.00"]


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"by": "year"}, 422, "invalid_request"),
        ({"by": "day", "start": "yesterday"}, 422, "invalid_request"),
    ],
)
def test_bad_questions(op: Api, params: dict[str, str], status: int, code: str) -> None:
    r = op.get("/api/reports/sales.csv", **params)
    assert (r.status_code, r.json()["code"]) == (status, code)


def test_operators_only(t1: Api, d1: Api) -> None:
    for api in (t1, d1):
        r = api.get("/api/reports/sales.csv")
        assert (r.status_code, r.json()["code"]) == (403, "forbidden")
