"""Attendance (issue 16): who may clock in and out, one open shift per
person, lateness against availability, hours per day and week (split at
local midnight) and the export's lines — as tables, with properties for
the one-open-shift rule and the hours arithmetic."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain import Actor, Command, MemorySnapshot, Outcome, Record, apply
from domain.attendance import (
    AlreadyClockedIn,
    AlreadyClockedOut,
    export_csv,
    export_rows,
    hours_by_day,
    hours_text,
    open_shift,
    seconds_by_day,
    seconds_in,
    seconds_total,
    week_of,
)
from domain.commands import Settings
from domain.errors import DomainError, Forbidden, InvalidArgs, NotFound
from domain.policy import can_see
from tests.domain.world import D1, OP, SYSTEM, T1, T2, slot, staff

MANILA = ZoneInfo("Asia/Manila")  # UTC+8, the default business clock
DAY = "2026-11-23"  # a Monday


def at(local: str, day: str = DAY) -> datetime:
    """A Manila wall-clock time as an aware instant."""
    return datetime.fromisoformat(f"{day}T{local}").replace(tzinfo=MANILA)


class Floor:
    """A business with a clock: people, their slots, and commands applied in order."""

    def __init__(self, *slots: Record, settings: Settings | None = None) -> None:
        self.snap = MemorySnapshot.of(
            staff=[staff(OP, "Olive"), staff(T1, "Ana Reyes"), staff(T2, "Bea Cruz"),
                   staff(D1, "Dan Santos")],
            availability=list(slots),
        )
        self.settings = settings or Settings()
        self.seq = itertools.count(1)

    def do(self, actor: Actor, name: str, target: str, when: datetime, **args: Any) -> Outcome:
        cmd = Command(name, target, args, client_id="test", seq=next(self.seq))
        outcome = apply(self.snap, actor, cmd, when, self.settings)
        self.snap.commit(outcome)
        return outcome

    def shift(self, sid: str) -> Record:
        record = self.snap.get("shift", sid)
        assert record is not None
        return record


# ---- who may do what -----------------------------------------------------------------


@pytest.mark.parametrize("actor", [T1, D1, OP], ids=["therapist", "driver", "operator"])
def test_staff_and_operators_clock_in_and_out_of_their_own_shift(actor: Actor) -> None:
    f = Floor()
    shift = f.do(actor, "attendance.clock_in", "s1", at("09:00"), note="From the office").record
    assert shift is not None
    assert (shift["user_id"], shift["clock_in_at"], shift["clock_out_at"]) == (
        actor.id, "2026-11-23T01:00:00Z", None)
    assert (shift["date"], shift["note"]) == (DAY, "From the office")
    closed = f.do(actor, "attendance.clock_out", "s1", at("17:30"), note="Done").record
    assert closed is not None
    assert (closed["clock_out_at"], closed["out_note"], closed["version"]) == (
        "2026-11-23T09:30:00Z", "Done", 2)


REFUSALS: list[tuple[str, Actor, str, str, dict[str, Any], type[DomainError], str]] = [
    # (case, actor, command, target, args, error, code)
    ("the system has no shifts", SYSTEM, "attendance.clock_in", "new", {},
     Forbidden, "forbidden"),
    ("a second open shift", T1, "attendance.clock_in", "new", {},
     AlreadyClockedIn, "already_clocked_in"),
    ("an id already taken", T2, "attendance.clock_in", "open", {},
     InvalidArgs, "already_exists"),
    ("a note that isn't text", T2, "attendance.clock_in", "new", {"note": 5},
     InvalidArgs, "invalid_args"),
    ("an unknown field", T2, "attendance.clock_in", "new", {"at": "08:00"},
     InvalidArgs, "invalid_args"),
    ("someone else's shift (a therapist can't see it)", T2, "attendance.clock_out", "open", {},
     NotFound, "not_found"),
    ("someone else's shift (the operator sees it, it isn't theirs)", OP,
     "attendance.clock_out", "open", {}, Forbidden, "forbidden"),
    ("a shift already closed", T1, "attendance.clock_out", "closed", {},
     AlreadyClockedOut, "already_clocked_out"),
    ("no such shift", T1, "attendance.clock_out", "nope", {}, NotFound, "not_found"),
]


@pytest.mark.parametrize(
    ("actor", "name", "target", "args", "error", "code"),
    [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS],
)
def test_refusals(actor: Actor, name: str, target: str, args: dict[str, Any],
                  error: type[DomainError], code: str) -> None:
    f = Floor()
    f.do(T1, "attendance.clock_in", "closed", at("08:00"))
    f.do(T1, "attendance.clock_out", "closed", at("09:00"))
    f.do(T1, "attendance.clock_in", "open", at("10:00"))
    before = {s["id"]: s for s in f.snap.all("shift")}
    with pytest.raises(error) as caught:
        f.do(actor, name, target, at("11:00"), **args)
    assert caught.value.code == code
    assert {s["id"]: s for s in f.snap.all("shift")} == before


def test_the_refusals_say_when_in_the_business_s_time() -> None:
    f = Floor()
    f.do(T1, "attendance.clock_in", "a", at("08:05"))
    with pytest.raises(AlreadyClockedIn) as twice:
        f.do(T1, "attendance.clock_in", "b", at("09:00"))
    assert twice.value.message == "You're already clocked in since 08:05: clock out first."
    assert twice.value.status == 409
    f.do(T1, "attendance.clock_out", "a", at("12:40"))
    with pytest.raises(AlreadyClockedOut) as again:
        f.do(T1, "attendance.clock_out", "a", at("12:41"))
    assert again.value.message == "You already clocked out of this shift at 12:40."


def test_a_clock_out_never_ends_before_its_clock_in() -> None:
    """A client whose clock runs behind the server's replays a clock-out:
    the shift ends when it began, not before (no negative hours)."""
    f = Floor()
    f.do(T1, "attendance.clock_in", "a", at("09:00"))
    shift = f.do(T1, "attendance.clock_out", "a", at("08:58")).record
    assert shift is not None and shift["clock_out_at"] == shift["clock_in_at"]
    assert seconds_total(shift, at("23:00")) == 0


@pytest.mark.parametrize(("viewer", "sees"), [(T1, True), (OP, True), (T2, False), (D1, False)])
def test_a_shift_is_seen_by_its_person_and_the_operators(viewer: Actor, sees: bool) -> None:
    f = Floor()
    shift = f.do(T1, "attendance.clock_in", "a", at("09:00")).record
    assert shift is not None
    assert can_see(viewer, "shift", shift) is sees


# ---- lateness ------------------------------------------------------------------------

LATENESS: list[tuple[str, list[tuple[str, str, str, bool]], str, str, int, str | None]] = [
    # (case, slots (date, start, end, available), clock-in day, time, late minutes, slot)
    ("on the minute", [(DAY, "09:00", "17:00", True)], DAY, "09:00", 0, "09:00"),
    ("at the threshold", [(DAY, "09:00", "17:00", True)], DAY, "09:10", 0, "09:00"),
    ("past the threshold", [(DAY, "09:00", "17:00", True)], DAY, "09:11", 11, "09:00"),
    ("early", [(DAY, "09:00", "17:00", True)], DAY, "08:40", 0, None),
    ("outside every slot", [(DAY, "09:00", "12:00", True)], DAY, "13:30", 0, None),
    ("the afternoon slot", [(DAY, "09:00", "12:00", True), (DAY, "13:00", "18:00", True)],
     DAY, "13:45", 45, "13:00"),
    ("a slot marked not available", [(DAY, "09:00", "17:00", False)], DAY, "10:00", 0, None),
    ("yesterday's slot past midnight", [("2026-11-22", "22:00", "04:00", True)],
     DAY, "00:30", 150, "22:00"),
    ("no slots at all", [], DAY, "10:00", 0, None),
]


@pytest.mark.parametrize(
    ("slots", "day", "time", "late", "expected"),
    [r[1:] for r in LATENESS], ids=[r[0] for r in LATENESS],
)
def test_lateness_against_the_person_s_availability(
    slots: list[tuple[str, str, str, bool]], day: str, time: str, late: int, expected: str | None
) -> None:
    f = Floor(*[slot(f"av{n}", "t1", s, e, d, ok) for n, (d, s, e, ok) in enumerate(slots)],
              slot("other", "t2", "00:00", "23:59"))
    shift = f.do(T1, "attendance.clock_in", "a", at(time, day)).record
    assert shift is not None
    assert (shift["late"], shift["late_minutes"], shift["expected_start"]) == (
        late > 0, late, expected)


def test_the_threshold_is_a_setting() -> None:
    f = Floor(slot("av", "t1", "09:00", "17:00", DAY), settings=Settings(late_minutes=0))
    shift = f.do(T1, "attendance.clock_in", "a", at("09:01")).record
    assert shift is not None and shift["late_minutes"] == 1


def test_the_business_s_time_zone_is_a_setting() -> None:
    """09:30 in Manila is 01:30 UTC: with the business on UTC, that clock-in
    is early for a 09:00 slot, not 30 minutes late."""
    f = Floor(slot("av", "t1", "09:00", "17:00", "2026-11-23"),
              settings=Settings(timezone="UTC"))
    shift = f.do(T1, "attendance.clock_in", "a", at("09:30")).record
    assert shift is not None and (shift["late"], shift["date"]) == (False, "2026-11-23")


def test_back_after_stepping_out_is_not_late_twice() -> None:
    f = Floor(slot("av", "t1", "09:00", "17:00", DAY))
    assert f.do(T1, "attendance.clock_in", "a", at("09:20")).record["late_minutes"] == 20  # type: ignore[index]
    f.do(T1, "attendance.clock_out", "a", at("12:00"))
    back = f.do(T1, "attendance.clock_in", "b", at("13:00")).record
    assert back is not None and back["late"] is False


def test_yesterday_s_shift_does_not_excuse_today() -> None:
    f = Floor(slot("av", "t1", "09:00", "17:00", "2026-11-22"), slot("av2", "t1", "09:00",
                                                                     "17:00", DAY))
    f.do(T1, "attendance.clock_in", "a", at("09:00", "2026-11-22"))
    f.do(T1, "attendance.clock_out", "a", at("17:00", "2026-11-22"))
    today = f.do(T1, "attendance.clock_in", "b", at("09:30")).record
    assert today is not None and today["late_minutes"] == 30


# ---- hours ---------------------------------------------------------------------------


def shift_of(start: datetime, end: datetime | None, user: str = "t1", sid: str = "s") -> Record:
    def z(d: datetime) -> str:
        return d.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    return {"id": sid, "version": 1, "user_id": user,
            "date": start.astimezone(MANILA).date().isoformat(),
            "clock_in_at": z(start), "clock_out_at": z(end) if end else None}


HOURS: list[tuple[str, datetime, datetime | None, datetime, dict[str, int]]] = [
    # (case, in, out, now, seconds per local day)
    ("a day shift", at("09:00"), at("17:30"), at("23:00"), {DAY: 8 * 3600 + 1800}),
    ("across midnight", at("22:00"), at("02:00", "2026-11-24"), at("23:00", "2026-11-24"),
     {DAY: 2 * 3600, "2026-11-24": 2 * 3600}),
    ("still open: until now", at("09:00"), None, at("11:15"), {DAY: 2 * 3600 + 900}),
    ("open across midnight", at("23:30"), None, at("00:45", "2026-11-24"),
     {DAY: 1800, "2026-11-24": 2700}),
    ("three days", at("20:00"), at("04:00", "2026-11-25"), at("23:00", "2026-11-25"),
     {DAY: 4 * 3600, "2026-11-24": 24 * 3600, "2026-11-25": 4 * 3600}),
    ("nothing yet", at("09:00"), at("09:00"), at("10:00"), {}),
]


@pytest.mark.parametrize(
    ("start", "end", "now", "expected"), [r[1:] for r in HOURS], ids=[r[0] for r in HOURS]
)
def test_hours_per_day(start: datetime, end: datetime | None, now: datetime,
                       expected: dict[str, int]) -> None:
    assert seconds_by_day(shift_of(start, end), MANILA, now) == expected


def test_hours_per_person_day_and_week() -> None:
    shifts = [
        shift_of(at("09:00"), at("17:00"), "t1", "a"),
        shift_of(at("18:00"), at("20:30"), "t1", "b"),  # two shifts on one day add up
        shift_of(at("22:00", "2026-11-29"), at("02:00", "2026-11-30"), "t1", "c"),  # Sun→Mon
        shift_of(at("10:00"), at("12:00"), "t2", "d"),
    ]
    by_day = hours_by_day(shifts, MANILA, at("23:00", "2026-12-01"))
    assert by_day["t1"] == {DAY: 10 * 3600 + 1800, "2026-11-29": 7200, "2026-11-30": 7200}
    assert by_day["t2"] == {DAY: 7200}
    week = week_of(date(2026, 11, 26))
    assert (week[0], week[-1]) == (date(2026, 11, 23), date(2026, 11, 29))
    assert seconds_in(by_day["t1"], week) == 12 * 3600 + 1800
    assert seconds_in(by_day["t1"], week_of(date(2026, 11, 30))) == 7200


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0 min"), (59, "0 min"), (45 * 60, "45 min"), (3600, "1 h"), (7 * 3600 + 35 * 60,
                                                                      "7 h 35 min"),
    (3600 + 5 * 60 + 59, "1 h 05 min"), (-30, "0 min"),
])
def test_hours_in_words(seconds: int, text: str) -> None:
    assert hours_text(seconds) == text


instants = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31),
                        timezones=st.just(UTC))


@settings(deadline=None)
@given(instants, st.integers(min_value=0, max_value=80 * 3600),
       st.sampled_from(["Asia/Manila", "UTC", "America/New_York", "Europe/Berlin"]))
def test_hours_per_day_add_up_to_the_shift(start: datetime, seconds: int, zone_name: str) -> None:
    """Split at local midnight (also on a daylight-saving day), the days add
    up to the shift to the second, none is longer than a day, and they run
    from the clock-in's local date to the clock-out's without a gap."""
    zone = ZoneInfo(zone_name)
    start = start.replace(microsecond=0)
    shift = shift_of(start, start + timedelta(seconds=seconds))
    days = seconds_by_day(shift, zone, start)
    assert sum(days.values()) == seconds == seconds_total(shift, start)
    assert all(0 < s <= 25 * 3600 for s in days.values())
    if seconds:
        first = start.astimezone(zone).date()
        last = (start + timedelta(seconds=seconds - 1)).astimezone(zone).date()
        assert list(days) == [(first + timedelta(days=n)).isoformat()
                              for n in range((last - first).days + 1)]


people = st.sampled_from([T1, T2, D1, OP])
step = st.tuples(st.sampled_from(["in", "out"]), people, st.integers(min_value=1, max_value=600))


@settings(deadline=None)
@given(st.lists(step, min_size=1, max_size=30))
def test_at_most_one_open_shift_per_person_whatever_the_order(
    steps: list[tuple[str, Actor, int]]
) -> None:
    """Clocking in is refused exactly when the person has an open shift;
    clocking out closes exactly their open one; shifts never overlap."""
    f = Floor()
    when = at("06:00")
    for n, (kind, actor, minutes) in enumerate(steps):
        when += timedelta(minutes=minutes)
        current = open_shift(f.snap.all("shift"), actor.id)
        if kind == "in":
            if current is None:
                f.do(actor, "attendance.clock_in", f"s{n}", when)
            else:
                with pytest.raises(AlreadyClockedIn):
                    f.do(actor, "attendance.clock_in", f"s{n}", when)
        elif current is not None:
            f.do(actor, "attendance.clock_out", current["id"], when)
        for person in (T1, T2, D1, OP):
            mine = sorted((s for s in f.snap.all("shift") if s["user_id"] == person.id),
                          key=lambda s: s["clock_in_at"])
            assert sum(1 for s in mine if s["clock_out_at"] is None) <= 1
            for a, b in itertools.pairwise(mine):
                assert a["clock_out_at"] is not None and a["clock_out_at"] <= b["clock_in_at"]


# ---- the export ----------------------------------------------------------------------


def test_the_export_lines_one_shift_each_in_order_within_the_dates() -> None:
    staff_by_id = {"t1": staff(T1, "Ana Reyes"), "t2": staff(T2, "Bea Cruz")}
    shifts = [
        {**shift_of(at("09:12"), at("17:00"), "t1", "a"), "late": True, "late_minutes": 12,
         "expected_start": "09:00", "note": "Traffic, sorry", "out_note": None},
        {**shift_of(at("08:00"), None, "t2", "b"), "late": False, "late_minutes": 0,
         "expected_start": None, "note": "=HYPERLINK(\"x\")", "out_note": None},
        shift_of(at("22:00", "2026-11-24"), at("02:00", "2026-11-25"), "t1", "c"),
        shift_of(at("09:00", "2026-11-22"), at("10:00", "2026-11-22"), "t1", "before"),
    ]
    rows = export_rows(shifts, staff_by_id, MANILA, at("10:30"), DAY, "2026-11-24")
    assert rows == [
        (DAY, "Bea Cruz", "therapist", f"{DAY} 08:00", "", "2.50", "no", "0", "",
         "=HYPERLINK(\"x\")", ""),
        (DAY, "Ana Reyes", "therapist", f"{DAY} 09:12", f"{DAY} 17:00", "7.80", "yes", "12",
         "09:00", "Traffic, sorry", ""),
        ("2026-11-24", "Ana Reyes", "therapist", "2026-11-24 22:00", "2026-11-25 02:00", "4.00",
         "no", "0", "", "", ""),
    ]
    text = export_csv(rows)
    lines = text.split("\r\n")
    assert lines[0] == ("date,name,role,clock_in,clock_out,hours,late,late_minutes,"
                        "expected_start,note,out_note")
    # a note a spreadsheet would run as a formula is written inert
    assert lines[1] == (f"{DAY},Bea Cruz,therapist,{DAY} 08:00,,2.50,no,0,,"
                        "\"'=HYPERLINK(\"\"x\"\")\",")
    assert lines[2].endswith(",yes,12,09:00,\"Traffic, sorry\",")
    assert len(lines) == 5 and lines[-1] == ""
