"""Attendance through the real API (issue 16), on SQLite and PostgreSQL:
clocking in and out with the server's clock, one open shift per person
(a friendly 409 with a stable code), late against the person's slot, a
therapist never seeing another's shifts (bootstrap and events), and the
operators' CSV export."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from testkit import loopback
from testkit.server import ServerProcess
from tests.server.helpers import Api

MANILA = ZoneInfo("Asia/Manila")  # the test server's business clock (the default)


@pytest.fixture(scope="module")
def srv(staff_server: ServerProcess) -> ServerProcess:
    return staff_server


def server_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def today() -> str:
    return datetime.now(MANILA).date().isoformat()


def clock_in(api: Api, **args: str) -> dict[str, object]:
    return api.cmd("attendance.clock_in", str(uuid.uuid4()), **args).ok().record


def test_clocking_in_and_out_takes_the_server_s_time(t1: Api) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    shift = clock_in(t1, note="Starting at the Makati office")
    after = datetime.now(UTC)
    assert before <= server_time(str(shift["clock_in_at"])) <= after
    assert (shift["user_id"], shift["clock_out_at"], shift["note"]) == (
        t1.id, None, "Starting at the Makati office")
    assert shift["date"] == server_time(str(shift["clock_in_at"])).astimezone(MANILA).date(
    ).isoformat()
    closed = t1.cmd("attendance.clock_out", str(shift["id"]), note="Done for today").ok().record
    assert server_time(str(closed["clock_out_at"])) >= server_time(str(shift["clock_in_at"]))
    assert (closed["out_note"], closed["version"]) == ("Done for today", 2)


def test_one_open_shift_per_person_is_a_friendly_409(d1: Api) -> None:
    first = clock_in(d1)
    again = d1.cmd("attendance.clock_in", str(uuid.uuid4()))
    assert again.status == 409
    assert again.code == "already_clocked_in"
    assert again.body["message"].startswith("You're already clocked in since ")
    assert again.body["message"].endswith(": clock out first.")
    d1.cmd("attendance.clock_out", str(first["id"])).ok()
    twice = d1.cmd("attendance.clock_out", str(first["id"]))
    assert (twice.status, twice.code) == (409, "already_clocked_out")
    clock_in(d1)  # closed: a new shift may start


def slot_begun(api: Api, minutes: int) -> datetime:
    """The person's seeded slots make way for one that began `minutes` ago."""
    for slot in api.bootstrap()["availability"]:
        if slot["user_id"] == api.id:
            api.cmd("availability.delete", slot["id"]).ok()
    start = datetime.now(MANILA) - timedelta(minutes=minutes)
    api.cmd("availability.create", str(uuid.uuid4()), date=start.date().isoformat(),
            start_time=start.strftime("%H:%M"),
            end_time=(start + timedelta(hours=3)).strftime("%H:%M")).ok()
    return start


def test_a_clock_in_past_the_slot_s_start_is_late(t3: Api) -> None:
    start = slot_begun(t3, 45)
    shift = clock_in(t3)
    assert shift["late"] is True
    assert 45 <= int(shift["late_minutes"]) <= 47  # type: ignore[call-overload]
    assert shift["expected_start"] == start.strftime("%H:%M")


def test_a_therapist_never_sees_another_s_shifts(op: Api, t1: Api, t2: Api) -> None:
    cursor = t2.cursor()
    mine = clock_in(t2)
    theirs = clock_in(t1)
    t1.cmd("attendance.clock_out", str(theirs["id"])).ok()
    t2_shifts = {s["id"] for s in t2.bootstrap()["shifts"]}
    assert str(mine["id"]) in t2_shifts
    assert all(s["user_id"] == t2.id for s in t2.bootstrap()["shifts"])
    t2_events = [e for e in t2.events(cursor) if e["entity"] == "shift"]
    assert {e["id"] for e in t2_events} == {mine["id"]}
    assert {e["id"] for e in t1.events(cursor) if e["entity"] == "shift"} == {theirs["id"]}
    operator_sees = {s["id"] for s in op.bootstrap()["shifts"]}
    assert {mine["id"], theirs["id"]} <= operator_sees
    # a clock-out of someone else's shift: not there for a therapist, refused for an operator
    assert t1.cmd("attendance.clock_out", str(mine["id"])).status == 404
    refused = op.cmd("attendance.clock_out", str(mine["id"]))
    assert (refused.status, refused.code) == (403, "forbidden")
    t2.cmd("attendance.clock_out", str(mine["id"])).ok()


def test_the_operator_exports_a_date_range_as_csv(op: Api, d2: Api) -> None:
    shift = clock_in(d2, note="=1+1, and a comma")
    day = str(shift["date"])
    r = op.get("/api/attendance.csv", **{"from": day, "to": day})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert f'filename="attendance-{day}-to-{day}.csv"' in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == ["date", "name", "role", "clock_in", "clock_out", "hours", "late",
                       "late_minutes", "expected_start", "note", "out_note"]
    line = next(row for row in rows[1:] if row[1] == "Paolo Garcia")
    local_in = server_time(str(shift["clock_in_at"])).astimezone(MANILA)
    assert line[:5] == [day, "Paolo Garcia", "driver", local_in.strftime("%Y-%m-%d %H:%M"), ""]
    assert float(line[5]) < 0.1  # open: until now, a moment
    assert line[9] == "'=1+1, and a comma"  # never a formula in the spreadsheet
    assert all(row[0] == day for row in rows[1:])
    # a range that holds none of it
    r = op.get("/api/attendance.csv", **{"from": "2020-01-01", "to": "2020-01-31"})
    assert r.status_code == 200 and r.text.strip().count("\n") == 0


@pytest.mark.parametrize(("params", "status", "code"), [
    ({"from": "2026-13-01", "to": "2026-12-31"}, 422, "invalid_args"),
    ({"from": "2026-12-10", "to": "2026-12-01"}, 422, "invalid_args"),
    ({"from": "2025-01-01", "to": "2026-12-31"}, 422, "invalid_args"),
    ({"to": "2026-12-31"}, 422, None),
])
def test_the_export_refuses_what_it_can_t_read(op: Api, params: dict[str, str], status: int,
                                               code: str | None) -> None:
    r = op.get("/api/attendance.csv", **params)
    assert r.status_code == status
    if code:
        assert r.json()["code"] == code and r.json()["message"]


def test_only_operators_export(t1: Api) -> None:
    r = t1.get("/api/attendance.csv", **{"from": today(), "to": today()})
    assert r.status_code == 403
    assert r.json() == {"status": "rejected", "code": "forbidden",
                        "message": "Only the operator can export attendance."}


def test_the_lateness_threshold_is_the_server_s_setting(
    server_factory: Callable[..., ServerProcess],
) -> None:
    srv = server_factory(seed="staff", env={"TANDEM_LATE_MINUTES": "60"})
    ana = Api(srv, "therapist1")
    start = slot_begun(ana, 45)
    shift = clock_in(ana)
    assert (shift["late"], shift["late_minutes"]) == (False, 0)
    assert shift["expected_start"] == start.strftime("%H:%M")  # measured, within the hour


def test_two_clock_ins_in_one_batch_the_second_is_refused(op: Api) -> None:
    """An offline queue that clocked in twice (the second after a refused
    clock-out, say) arrives as one batch: the first opens the shift, the
    second sees it (the batch's own writes) and is refused."""
    first, second = (op.body("attendance.clock_in", str(uuid.uuid4())) for _ in range(2))
    r = loopback.post(op.srv.url + "/api/commands/batch", json={"commands": [first, second]},
                   headers=op.headers, timeout=30)
    assert r.status_code == 200, r.text
    answers = r.json()["results"]
    assert [a["status_code"] for a in answers] == [200, 409]
    assert answers[1]["body"]["code"] == "already_clocked_in"
    mine = [s for s in op.bootstrap()["shifts"] if s["user_id"] == op.id]
    assert [s["id"] for s in mine if s["clock_out_at"] is None] == [first["target"]]
    op.cmd("attendance.clock_out", first["target"]).ok()
