"""`--seed demo`: the believable small business the issue asks for — nine
logins with the demo password, services with prices, clients with addresses,
availability for today and tomorrow, and an appointment in every status that
stays so for a working day, planned as a dispatcher would: one trip under way
per driver."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.status import Status
from domain.times import parse_instant
from main import DEMO_LOGINS
from testkit import loopback
from testkit.server import DEMO_PASSWORD, ServerProcess
from tests.server.helpers import Api
from views.driver import classify_for

ROLES = {"operator": "operator", "therapist1": "therapist", "therapist2": "therapist",
         "therapist3": "therapist", "driver1": "driver", "driver2": "driver",
         "driver3": "driver", "driver4": "driver", "driver5": "driver"}
DRIVERS = [u for u, role in ROLES.items() if role == "driver"]


@pytest.fixture(scope="module")
def op(demo_server: ServerProcess) -> Api:
    return Api(demo_server, "operator")


def test_every_demo_login_takes_the_demo_password(demo_server: ServerProcess) -> None:
    assert DEMO_PASSWORD == "demo1234"
    for username, role in ROLES.items():
        r = loopback.post(demo_server.url + "/api/auth/login",
                       json={"username": username, "password": "demo1234"}, timeout=15)
        assert r.status_code == 200, (username, r.text)
        user = r.json()["user"]
        assert (user["username"], user["role"]) == (username, role) and user["name"]
    staff = Api(demo_server, "operator").bootstrap()["staff"]
    assert sorted(s["username"] for s in staff) == sorted(ROLES)
    assert sorted(DEMO_LOGINS) == sorted(ROLES)  # the banner of `make run` lists them all


def test_an_appointment_in_every_status(op: Api) -> None:
    appointments = op.bootstrap()["appointments"]
    assert {a["status"] for a in appointments} == {s.value for s in Status}
    group = [a for a in appointments if len(a["therapist_ids"]) > 1]
    assert group and all(a["status"] == "pending" for a in group)
    # halfway through its answers: one of the two therapists accepted
    assert [len(a["accepted_ids"]) for a in group] == [1], group


def test_one_current_trip_per_driver(demo_server: ServerProcess, op: Api) -> None:
    """What each driver's phone puts under "Current trip" (the driver screen's own
    rule) is one trip, the rest are ahead or done; and since every driver is out,
    the urgent pickup waits for one (so "pickup requested" stays on the board)."""
    for username in DRIVERS:
        driver = Api(demo_server, username)
        classify = classify_for(driver)  # type: ignore[arg-type]  # reads only .actor
        trips = driver.bootstrap()["appointments"]
        current = [(a["date"], a["start_time"], a["status"]) for a in trips
                   if classify(a) == "current"]
        assert len(current) == 1, (username, current)
    waiting = [a for a in op.bootstrap()["appointments"] if a["status"] == "pickup_requested"]
    assert [a["pickup"]["urgency"] for a in waiting] == ["urgent"], waiting


def test_pending_bookings_stay_pending_for_a_working_day(op: Api) -> None:
    """The usual window (30 min) for one, so the auto-cancel job shows itself;
    a working day for the group booking, so "pending" doesn't vanish from the
    demo half an hour after it started. Each deadline is before the booking."""
    pending = [a for a in op.bootstrap()["appointments"] if a["status"] == "pending"]
    windows = sorted(parse_instant(a["response_deadline"]) - parse_instant(a["created_at"])
                     for a in pending)
    assert windows[0] == timedelta(minutes=30) and windows[-1] >= timedelta(hours=8), windows
    zone = ZoneInfo("Asia/Manila")
    for a in pending:
        starts = datetime.fromisoformat(f"{a['date']}T{a['start_time']}").replace(tzinfo=zone)
        assert parse_instant(a["response_deadline"]) < starts, a


def test_availability_for_today_and_tomorrow(op: Api) -> None:
    boot = op.bootstrap()
    people = {s["id"]: s["username"] for s in boot["staff"] if s["role"] != "operator"}
    days: dict[str, set[str]] = {}
    for slot in boot["availability"]:
        assert slot["available"] is True
        days.setdefault(people[slot["user_id"]], set()).add(slot["date"])
    assert set(days) == set(people.values())
    # the same two last ones for all (the days before: the attendance week's)
    (first, second), = {tuple(sorted(d)[-2:]) for d in days.values()}
    today = date.fromisoformat(first)
    assert all(d < first for ds in days.values() for d in sorted(ds)[:-2])
    assert date.fromisoformat(second) == today + timedelta(days=1)
    # "today" in the business's time zone (a day either side: a run across midnight)
    here = datetime.now(ZoneInfo("Asia/Manila")).date()
    assert abs((today - here).days) <= 1, (today, here)
    # The main-path bookings are today's, the waiting ones tomorrow's.
    dates = {a["date"] for a in boot["appointments"]}
    assert dates == {first, second}


def test_services_with_prices_and_clients_with_addresses(op: Api) -> None:
    boot = op.bootstrap()
    assert len(boot["services"]) >= 3
    for s in boot["services"]:
        assert s["name"] and s["minutes"] > 0 and s["price"] > 0, s
    assert len(boot["clients"]) >= 3
    for c in boot["clients"]:
        assert c["first_name"] and c["last_name"] and c["phone"] and len(c["address"]) > 10, c
    named = {c["id"] for c in boot["clients"]}
    assert all(a["client_id"] in named and a["location"] for a in boot["appointments"])


def test_a_stock_list_with_history(op: Api, demo_server: ServerProcess) -> None:
    """Materials with units and reorder levels, one already low; restocks and
    the completed sessions' use in the history; the therapists see the list
    (their picker) but not the history."""
    boot = op.bootstrap()
    materials = {m["name"]: m for m in boot["materials"]}
    assert {"Massage oil", "Towels", "Hot stones", "Aromatherapy oil"} <= set(materials)
    assert all(m["unit"] and m["reorder_level"] >= 0 and m["active"] for m in materials.values())
    low = [n for n, m in materials.items() if m["on_hand"] <= m["reorder_level"]]
    assert low == ["Hot stones"], low
    moves = boot["stock_moves"]
    assert {m["kind"] for m in moves} == {"use", "restock"}
    used = [m for m in moves if m["kind"] == "use"]
    done = {a["id"] for a in boot["appointments"] if a.get("completed_at")}
    assert used and {m["appointment_id"] for m in used} <= done
    oil = materials["Massage oil"]
    assert oil["on_hand"] == 2000 + sum(m["delta"] for m in moves
                                        if m["material_id"] == oil["id"])
    assert any(n["kind"] == "low_stock" for n in boot["notifications"])
    therapist = Api(demo_server, "therapist1").bootstrap()
    assert len(therapist["materials"]) == len(materials)
    assert therapist["stock_moves"] == []


def test_a_week_of_shifts_some_late_one_person_in_now(op: Api, demo_server: ServerProcess) -> None:
    """The operator's Attendance page has something to show: shifts on most
    of the past six days, some late, one across midnight, therapist1 in."""
    boot = op.bootstrap()
    shifts = boot["shifts"]
    people = {s["id"]: s["username"] for s in boot["staff"]}
    open_now = [people[s["user_id"]] for s in shifts if s["clock_out_at"] is None]
    assert open_now == ["therapist1"]
    assert len({s["date"] for s in shifts}) >= 5
    assert sum(1 for s in shifts if s["late"]) >= 3
    manila = ZoneInfo("Asia/Manila")
    assert any(s["clock_out_at"] and people[s["user_id"]] == "driver2"
               and parse_instant(s["clock_out_at"]).astimezone(manila).date().isoformat()
               > s["date"] for s in shifts)  # a night shift, across midnight
    therapist = Api(demo_server, "therapist2").bootstrap()["shifts"]
    assert therapist and {s["user_id"] for s in therapist} == {op.staff_id("therapist2")}


def test_a_few_receipts_and_payment_methods(op: Api, demo_server: ServerProcess) -> None:
    """Verified payments by every method, some with a receipt photo (the
    therapist's at the door, or the operator's), each served as a PNG to
    those who see the appointment; the sales report adds them up."""
    paid = [a for a in op.bootstrap()["appointments"] if a.get("payment")]
    assert {a["payment"]["method"] for a in paid} == {"cash", "gcash", "card",
                                                       "bank_transfer"}
    photos = [(a, a["payment"]["receipt_id"]) for a in paid if a["payment"].get("receipt_id")]
    assert len(photos) >= 2
    assert any((a.get("payment_claim") or {}).get("receipt_id") for a, _ in photos)
    for appt, rid in photos:
        served = op.get(f"/api/appointments/{appt['id']}/receipts/{rid}")
        assert served.status_code == 200
        assert served.content.startswith(b"\x89PNG\r\n\x1a\n")
        therapist = next(u for u in ("therapist1", "therapist2", "therapist3")
                         if Api(demo_server, u).id in appt["therapist_ids"])
        assert Api(demo_server, therapist).get(
            f"/api/appointments/{appt['id']}/receipts/{rid}").status_code == 200
    total = op.get("/api/reports/sales.csv", by="month").content.decode("utf-8-sig")
    last = total.strip().splitlines()[-1].split(",")
    assert last[:3] == ["total", "Total", str(len(paid))]
    assert float(last[3]) == sum(a["payment"]["amount"] for a in paid)
