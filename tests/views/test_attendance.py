"""Attendance on screen (issue 16): staff clock in and out from their own
page (the button's key and identifier "clock-in"), see the device's time
until the server's replaces it, and their hours this week; the operator's
Attendance page shows who is in, hours by day and week with late days
marked, one person's shifts, and downloads a date range as CSV through
the browser's save (the FilePicker's call, answered as the browser would)."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import flet as ft
import pytest
from flet.messaging.protocol import MessageAction

from domain.commands import MemorySnapshot
from domain.records import Record
from testkit.flet_harness import Harness, descendants
from tests.views.conftest import Mount
from tests.views.data import DRIVER, OPERATOR, THERAPIST, staff, world
from tests.views.fake_client import NOW, FakeClient
from views.components import attendance as attendance_view
from views.components.attendance import ClockCard
from views.operator.activity_text import describe
from views.operator.attendance import AttendancePage
from views.port import ServerEvent

MANILA = ZoneInfo("Asia/Manila")  # NOW is Saturday 21 Nov 2026, 17:00 here


def local(day: str, time: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=MANILA)


def shift(sid: str, user: str, start: datetime, end: datetime | None, **extra: Any) -> Record:
    def z(d: datetime) -> str:
        return d.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ")

    return {"id": sid, "version": 1, "user_id": user,
            "date": start.astimezone(MANILA).date().isoformat(), "clock_in_at": z(start),
            "clock_out_at": z(end) if end else None, "late": False, "late_minutes": 0,
            "expected_start": None, "note": None, "out_note": None, **extra}


WEEK = [
    shift("a", "t1", local("2026-11-16", "09:12"), local("2026-11-16", "17:00"), late=True,
          late_minutes=12, expected_start="09:00", note="Traffic on EDSA"),
    shift("b", "t1", local("2026-11-17", "08:58"), local("2026-11-17", "17:00")),
    shift("c", "d1", local("2026-11-19", "22:00"), local("2026-11-20", "02:00")),  # a night
    shift("old", "t1", local("2026-11-10", "09:00"), local("2026-11-10", "12:00")),  # last week
]


def with_shifts(user: Record, *shifts: Record) -> FakeClient:
    records = world()
    records["shift"] = list(shifts)
    return FakeClient(user, records)


def texts_of(h: Harness, identifier: str) -> list[str]:
    return h.texts(h.semantics(identifier))


def the_button(h: Harness, key: str) -> ft.Button:
    (button,) = [b for b in h.all() if isinstance(b, ft.Button) and b.key == key]
    return button


# ---- staff ---------------------------------------------------------------------------


async def staff_card(client: FakeClient, width: int = 820,
                     height: int = 1180) -> tuple[Harness, ClockCard]:
    """The staff page on its own, on the twin's clock."""
    h = Harness(width=width, height=height)
    made: list[ClockCard] = []

    async def main(page: ft.Page) -> None:
        card = ClockCard(page, client, now=lambda: client.now)
        client.subscribe(card.changed)
        made.append(card)
        page.add(card.root)

    await h.run(main)
    return h, made[0]


@pytest.mark.parametrize(("user", "width", "height"), [(THERAPIST, 820, 1180),
                                                        (DRIVER, 390, 844)],
                         ids=["therapist tablet", "driver phone"])
async def test_staff_find_clock_in_on_their_attendance_page(
    mount: Mount, user: Record, width: int, height: int
) -> None:
    client = with_shifts(user)
    h = await mount(client, width=width, height=height)
    button = the_button(h, "clock-in")  # the e2e's handle: key, data and identifier
    assert (button.content, button.data) == ("Clock in", "clock-in")
    assert h.semantics("clock-in").visible
    await h.click(button)
    assert [c.name for c in client.dispatched] == ["attendance.clock_in"]
    assert texts_of(h, "attendance")[0].startswith("Clocked in since ")
    assert h.semantics("clock-out").visible and not h.semantics("clock-in").visible


async def test_clocking_in_shows_the_device_time_then_the_server_s() -> None:
    client = with_shifts(THERAPIST)
    h, _ = await staff_card(client)
    assert h.semantics("clock-in").visible and not h.semantics("clock-out").visible
    assert texts_of(h, "attendance")[:2] == ["Not clocked in", "Clock in when you start work."]

    await h.type_text(h.field("Note (optional)"), "  From the Makati office ")
    await h.click(the_button(h, "clock-in"))
    (sent,) = client.dispatched
    assert (sent.name, dict(sent.args)) == ("attendance.clock_in",
                                            {"note": "From the Makati office"})
    # the optimistic record: this device's 17:00, said to be waiting for the server
    assert texts_of(h, "attendance")[:2] == [
        "Clocked in since 17:00",
        "Saving… this device's time shows until the server confirms its own.",
    ]
    assert h.semantics("clock-out").visible and not h.semantics("clock-in").visible
    assert h.field("Note (optional)").value == ""

    client.now = NOW + timedelta(minutes=2)  # the server's clock said 17:02
    await client.ack()
    await h.settle()
    assert texts_of(h, "attendance")[:2] == ["Clocked in since 17:02", "0 min so far."]

    client.now = NOW + timedelta(minutes=95)
    await h.type_text(h.field("Note (optional)"), "Off to the next booking")
    await h.click(the_button(h, "clock-out"))
    last = client.dispatched[-1]
    assert (last.name, last.target, dict(last.args)) == (
        "attendance.clock_out", sent.target, {"note": "Off to the next booking"})
    assert texts_of(h, "attendance")[0] == "Not clocked in"
    assert "This week: 1 h 33 min" in texts_of(h, "attendance")


async def test_a_refused_clock_in_says_why() -> None:
    """The local check refuses a second open shift (another device of the
    same person clocked in first, and its event arrived)."""
    client = with_shifts(THERAPIST)
    h, card = await staff_card(client)
    await client.remote("shift", shift("other", "t1", local("2026-11-21", "16:40"), None))
    assert h.semantics("clock-out").visible
    await card._send("attendance.clock_in", "again")  # a stale tap
    (bar,) = [c for c in h.page._dialogs.controls if isinstance(c, ft.SnackBar)]
    assert "You're already clocked in since 16:40: clock out first." in h.texts(bar)


async def test_staff_see_their_shifts_and_hours_this_week() -> None:
    h, _ = await staff_card(with_shifts(THERAPIST, *WEEK[:2], WEEK[3]))
    texts = texts_of(h, "attendance")
    assert "This week: 15 h 50 min" in texts
    assert "Mon 16 Nov: 7 h 48 min" in texts and "Sat 21 Nov: 0 min" in texts
    assert "Sun 22 Nov: 0 min" not in texts  # days still to come aren't listed
    assert texts_of(h, "shift-a") == ["Mon 16 Nov", "09:12–17:00", "7 h 48 min", "12 min late",
                                      "Traffic on EDSA"]
    assert texts_of(h, "shift-b")[:3] == ["Tue 17 Nov", "08:58–17:00", "8 h 02 min"]
    assert not h.has_semantics("shift-old")  # last week's


async def test_a_driver_s_night_shift_and_an_open_one_on_the_phone() -> None:
    still_in = shift("now", "d1", local("2026-11-21", "14:30"), None, late=True, late_minutes=30)
    h, _ = await staff_card(with_shifts(DRIVER, WEEK[2], still_in), width=390, height=844)
    assert texts_of(h, "attendance")[:2] == ["Clocked in since 14:30 · 30 min late",
                                             "2 h 30 min so far."]
    assert texts_of(h, "shift-c")[:3] == ["Thu 19 Nov", "22:00–02:00 next day", "4 h"]
    texts = texts_of(h, "attendance")
    assert "Thu 19 Nov: 2 h" in texts and "Fri 20 Nov: 2 h" in texts  # split at midnight
    assert "This week: 6 h 30 min" in texts
    assert the_button(h, "clock-out").visible is not False


# ---- the operator's page -------------------------------------------------------------


async def operator_page(*shifts: Record) -> tuple[Harness, AttendancePage, FakeClient]:
    client = with_shifts(OPERATOR, *shifts)
    h = Harness(width=1440, height=900)
    made: list[AttendancePage] = []

    async def main(page: ft.Page) -> None:
        attendance = AttendancePage(page, client, now=lambda: client.now)
        client.subscribe(attendance.changed)
        made.append(attendance)
        page.add(attendance.root)

    await h.run(main)
    return h, made[0], client


async def test_who_is_in_now_and_hours_by_day_and_week() -> None:
    still_in = shift("now", "t1", local("2026-11-21", "15:45"), None)
    h, _, client = await operator_page(*WEEK, still_in)
    assert texts_of(h, "in-now") == ["Ana", "in since 15:45", "1 h 15 min so far"]
    assert texts_of(h, "week-t1") == [
        "7 h 48 min · late", "8 h 02 min", "—", "—", "—", "1 h 15 min", "—", "17 h 05 min"]
    assert texts_of(h, "week-d1") == ["—", "—", "—", "2 h", "2 h", "—", "—", "4 h"]
    assert (h.semantics("week-t1").content.controls[1].color  # type: ignore[attr-defined]
            == ft.Colors.AMBER_800)

    # Ben clocks in elsewhere: the operator's screen shows him in
    await client.remote("shift", shift("d-in", "d1", local("2026-11-21", "17:00"), None,
                                       late=True, late_minutes=50))
    assert [t for t in texts_of(h, "in-now") if t in ("Ana", "Ben")] == ["Ana", "Ben"]
    assert "50 min late" in texts_of(h, "in-d1")
    assert texts_of(h, "week-d1")[5] == "0 min · late"  # just begun: not "—"


async def test_one_person_s_shifts_and_the_week_before() -> None:
    h, page, _ = await operator_page(*WEEK)
    assert "Choose a person to see their shifts." in texts_of(h, "attendance-shifts")
    names = [b for b in descendants(h.semantics("week-t1")) if isinstance(b, ft.TextButton)]
    await h.click(names[0])
    assert texts_of(h, "attendance-shifts")[0] == "Ana's shifts this week"
    assert h.has_semantics("shift-a") and not h.has_semantics("shift-old")
    page.show_week(page.monday - timedelta(days=7))
    assert h.has_semantics("shift-old") and not h.has_semantics("shift-a")
    assert texts_of(h, "week-t1")[-1] == "3 h"
    assert (h.field("First day").value, h.field("Last day").value) == ("2026-11-09", "2026-11-15")


async def test_download_a_date_range_as_csv_through_the_browser() -> None:
    h, _, _ = await operator_page(*WEEK)
    await h.type_text(h.field("First day"), "2026-11-17")
    await h.type_text(h.field("Last day"), "2026-11-20")
    mark = h.mark()
    click = asyncio.create_task(h.click(h.button("Download CSV")))
    for _ in range(50):
        calls = [m for m in h.conn.messages[mark:] if m.action == MessageAction.INVOKE_METHOD]
        if calls:
            break
        await asyncio.sleep(0.01)
    (call,) = calls
    assert call.body.name == "save_file"
    assert call.body.args["file_name"] == "attendance-2026-11-17-to-2026-11-20.csv"
    rows = list(csv.reader(io.StringIO(call.body.args["src_bytes"].decode("utf-8"))))
    assert rows == [
        ["date", "name", "role", "clock_in", "clock_out", "hours", "late", "late_minutes",
         "expected_start", "note", "out_note"],
        ["2026-11-17", "Ana", "therapist", "2026-11-17 08:58", "2026-11-17 17:00", "8.03", "no",
         "0", "", "", ""],
        ["2026-11-19", "Ben", "driver", "2026-11-19 22:00", "2026-11-20 02:00", "4.00", "no",
         "0", "", "", ""],
    ]
    # the browser saved it
    h.session.handle_invoke_method_results(call.body.control_id, call.body.call_id, None, None)
    await click
    assert not h.field("First day").error and not texts_of(h, "attendance-page")[-1].startswith(
        "Please")


async def test_the_export_s_dates_are_checked_where_they_are_typed() -> None:
    h, _, _ = await operator_page(*WEEK)
    await h.type_text(h.field("First day"), "2026-11-20")
    await h.type_text(h.field("Last day"), "2026-11-17")
    mark = h.mark()
    await h.click(h.button("Download CSV"))
    assert "The range ends before it starts: swap the dates." in texts_of(h, "attendance-page")
    assert not [m for m in h.conn.messages[mark:] if m.action == MessageAction.INVOKE_METHOD]
    await h.type_text(h.field("Last day"), "soon")
    await h.click(h.button("Download CSV"))
    assert "Please give both days as YYYY-MM-DD." in texts_of(h, "attendance-page")


def test_clocking_in_and_out_read_as_sentences_in_the_operator_s_feed() -> None:
    snap = MemorySnapshot.of(staff=[staff(THERAPIST), staff(DRIVER)])
    late_in = shift("a", "t1", local("2026-11-16", "09:12"), None, late=True, late_minutes=12)
    night = WEEK[2]
    cases = [
        (ServerEvent(1, "shift", "a", "upsert", 1, late_in, "attendance.clock_in"),
         "Therapist Ana clocked in, 12 min late"),
        (ServerEvent(2, "shift", "c", "upsert", 1, {**night, "clock_out_at": None},
                     "attendance.clock_in"), "Driver Ben clocked in"),
        (ServerEvent(3, "shift", "c", "upsert", 2, night, "attendance.clock_out"),
         "Driver Ben clocked out after 4 h"),
    ]
    for event, text in cases:
        line = describe(event, snap)
        assert line is not None and (line.kind, line.text) == ("shift", text)
    assert describe(cases[2][0], snap, me="d1").text == "You clocked out after 4 h"  # type: ignore[union-attr]


async def test_an_open_shift_s_hours_move_on_while_in_view(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(attendance_view, "TICK_SECONDS", 0.01)
    client = with_shifts(THERAPIST, shift("now", "t1", local("2026-11-21", "16:00"), None))
    h, card = await staff_card(client)
    assert texts_of(h, "attendance")[1] == "1 h so far."
    ticking = asyncio.create_task(attendance_view.tick(card.root, card.refresh))
    try:
        client.now = NOW + timedelta(minutes=30)
        await asyncio.sleep(0.05)
        assert texts_of(h, "attendance")[1] == "1 h 30 min so far."
        card.root.visible = False  # a hidden section renders nothing; it catches up when shown
        client.now = NOW + timedelta(minutes=45)
        await asyncio.sleep(0.05)
        assert card.detail.value == "1 h 30 min so far."
    finally:
        ticking.cancel()
