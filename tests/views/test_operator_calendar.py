"""The operator calendar: the grid computed from records (pure), and the view
in the harness — bookings in their therapist's column, availability shown,
an empty slot opening the booking dialog prefilled, live updates, day/week
navigation, a booking opening its edit dialog."""

from __future__ import annotations

from datetime import date
from typing import Any

import flet as ft
import pytest

from domain.commands import MemorySnapshot
from domain.records import Entity, Record
from domain.status import Status
from testkit.flet_harness import Harness, descendants
from tests.views.conftest import Mount
from tests.views.data import OPERATOR, TODAY, appointment, staff, world
from tests.views.fake_client import FakeClient
from views.operator import calendar as view
from views.operator.calendar_grid import (
    Booked,
    Free,
    day_grid,
    first_free,
    hhmm,
    on_day,
    shift,
    week_days,
    week_grid,
)

# A mount of the calendar section alone (the rest of the console isn't looked at here).
CALENDAR = ("calendar",)

BEA: Record = {"id": "t2", "username": "therapist2", "role": "therapist", "name": "Bea"}
TOMORROW = shift(TODAY, 1)
YESTERDAY = shift(TODAY, -1)


def slot(id: str, user: str, day: str, start: str, end: str, available: bool = True) -> Record:
    return {"id": id, "version": 1, "user_id": user, "date": day, "start_time": start,
            "end_time": end, "available": available}


def data(*appts: Record, slots: tuple[Record, ...] = ()) -> dict[Entity, list[Record]]:
    w = world(*appts)
    w["staff"].append(staff(BEA))
    w["availability"] = list(slots)
    w["client"] = [{"id": "c1", "version": 1, "first_name": "Maria", "last_name": "Santos",
                    "phone": "0917", "address": "3 Mango Road"}]
    return w


def snap(*appts: Record, slots: tuple[Record, ...] = ()) -> MemorySnapshot:
    return MemorySnapshot.of(**data(*appts, slots=slots))


# ---- the grid, pure ---------------------------------------------------------------------


def test_bookings_go_in_their_therapists_column_at_their_time() -> None:
    grid = day_grid(
        snap(
            appointment("a1", Status.PENDING, start="10:00", end_time="11:30"),
            appointment("a2", Status.THERAPIST_CONFIRMED, start="14:00", end_time="15:00",
                        therapist_ids=["t2"]),
            appointment("g", Status.PENDING, start="17:00", end_time="18:00",
                        therapist_ids=["t1", "t2"]),  # a group booking: both columns
            appointment("x", Status.CANCELLED, start="12:00", end_time="13:00"),
            appointment("other-day", Status.PENDING, date=TOMORROW),
        ),
        TODAY,
    )
    assert [staff_col.therapist["name"] for staff_col in grid.columns] == ["Ana", "Bea"]

    def booked(tid: str) -> list[tuple[str, str, tuple[str, ...]]]:
        return [(hhmm(b.start), hhmm(b.end), tuple(a["id"] for a in b.appointments))
                for b in grid.column(tid).blocks if isinstance(b, Booked)]

    assert booked("t1") == [("10:00", "11:30", ("a1",)), ("17:00", "18:00", ("g",))]
    assert booked("t2") == [("14:00", "15:00", ("a2",)), ("17:00", "18:00", ("g",))]
    # the cells tile the shown range without gaps, on the half-hour grid
    for col in grid.columns:
        t = grid.first
        for b in col.blocks:
            assert b.start == t
            t = b.end
        assert t == grid.last
    frees = [b for b in grid.column("t1").blocks if isinstance(b, Free)]
    assert all(b.end - b.start == 30 for b in frees)
    assert (grid.first, grid.last) == (7 * 60, 23 * 60)


def test_availability_marks_cells_and_widens_the_day() -> None:
    grid = day_grid(
        snap(
            appointment("a1", Status.PENDING, start="10:15", end_time="10:45"),
            slots=(
                slot("v1", "t1", TODAY, "09:00", "12:00"),
                slot("v2", "t1", TODAY, "13:00", "14:00", available=False),
                slot("v3", "t2", TODAY, "05:30", "06:30"),  # early: the day starts at 05:30
                slot("v4", "t2", YESTERDAY, "22:00", "01:00"),  # past midnight into today
            ),
        ),
        TODAY,
    )
    assert grid.first == 0  # yesterday's late slot reaches 00:00-01:00 today
    cells = {hhmm(b.start): b for b in grid.column("t1").blocks if isinstance(b, Free)}
    assert cells["09:00"].available and cells["11:30"].available
    assert not cells["08:30"].available and not cells["12:00"].available
    assert not cells["13:00"].available  # an "off" slot is not availability
    # a booking off the half-hour grid: cells realign around it
    assert (cells["10:00"].end, cells["10:45"].end) == (10 * 60 + 15, 11 * 60)
    bea = {hhmm(b.start): b for b in grid.column("t2").blocks if isinstance(b, Free)}
    assert bea["00:00"].available and bea["00:30"].available and not bea["01:00"].available
    assert bea["05:30"].available and not bea["06:30"].available


def test_on_day_clips_a_slot_to_the_day() -> None:
    late = slot("v", "t1", YESTERDAY, "23:00", "02:00")
    assert on_day(TODAY, late) == (0, 120)
    assert on_day(YESTERDAY, late) == (23 * 60, 1440)
    assert on_day(TOMORROW, late) is None
    assert on_day(TODAY, {"date": TODAY, "start_time": "nonsense", "end_time": "10:00"}) is None


def test_week_grid_is_a_therapist_by_day_table() -> None:
    monday = week_days(TODAY)[0]
    grid = week_grid(
        snap(
            appointment("a1", Status.PENDING, start="09:00", end_time="10:00", date=monday),
            slots=(slot("v1", "t1", monday, "09:00", "12:00"),),
        ),
        TODAY,
    )
    assert len(grid.days) == 7 and grid.days[0] == monday and TODAY in grid.days
    ana = grid.rows[0].cells[0]
    assert [a["id"] for a in ana.bookings] == ["a1"]
    assert ana.available == ((9 * 60, 12 * 60),)
    assert ana.first_free == 10 * 60  # 09:00 is taken
    assert grid.rows[1].cells[0].first_free is None  # Bea has no hours that day
    assert first_free([(0, 60)], [(0, 60)]) is None


# ---- the view, in the harness -------------------------------------------------------------


def calendar(h: Harness) -> ft.Semantics:
    return h.semantics("calendar")


def column_appts(h: Harness, tid: str) -> list[str]:
    col = h.semantics(f"calendar-column-{tid}")
    return [str(s.identifier).removeprefix("calendar-appt-") for s in descendants(col)
            if isinstance(s, ft.Semantics) and str(s.identifier).startswith("calendar-appt-")]


def cell(h: Harness, tid: str, start: str, day: str = TODAY) -> ft.Container:
    hits = [c for c in descendants(calendar(h))
            if isinstance(c, ft.Container) and c.data == (tid, day, start)]
    assert len(hits) == 1, f"{len(hits)} cells for {tid} {day} {start}"
    return hits[0]


def dialog_of(h: Harness) -> ft.AlertDialog:
    d = h.semantics("booking-dialog").parent
    assert isinstance(d, ft.AlertDialog)
    return d


def checked(h: Harness, label: str) -> Any:
    return next(c for c in h.by_type(ft.Checkbox) if c.label == label).value


async def test_day_view_shows_bookings_and_availability_and_books_a_free_slot(
    mount: Mount,
) -> None:
    client = FakeClient(
        OPERATOR,
        data(
            appointment("a1", Status.PENDING, start="10:00", end_time="11:00",
                        client_name="Liza Mendoza"),
            appointment("a2", Status.DRIVER_CONFIRMED, start="15:00", end_time="16:00",
                        therapist_ids=["t2"], client_name="Carlo Bautista"),
            slots=(slot("v1", "t1", TODAY, "08:00", "20:00"),),
        ),
    )
    h = await mount(client, width=1440, height=900, only=CALENDAR)
    assert column_appts(h, "t1") == ["a1"]
    assert column_appts(h, "t2") == ["a2"]
    assert "Liza Mendoza" in h.texts(h.semantics("calendar-column-t1"))
    assert cell(h, "t1", "12:30").bgcolor != cell(h, "t2", "12:30").bgcolor  # on / off
    assert cell(h, "t1", "11:00").tooltip == "Book Ana at 11:00"
    assert cell(h, "t2", "11:00").tooltip == "Bea isn't available at 11:00"

    await h.click(cell(h, "t1", "11:00"))
    dialog = dialog_of(h)
    assert dialog.open
    assert checked(h, "Ana") is True and checked(h, "Bea") is False
    assert h.field("Date").value == TODAY
    assert h.field("Start").value == "11:00"

    # book it: it shows in Ana's column at once (optimistic)
    picker = next(d for d in h.by_type(ft.Dropdown) if d.label == "Client")
    h.session.apply_patch(picker._i, {"value": "c1"})
    await h.session.dispatch_event(picker._i, "select", "c1")
    await h.toggle(next(c for c in h.by_type(ft.Checkbox) if c.label == "Swedish massage"), True)
    await h.type_text(h.field("End"), "12:00")
    await h.click(h.button("Book"))
    assert not dialog.open
    (new,) = [a for a in client.view().all("appointment") if a["id"] not in ("a1", "a2")]
    assert column_appts(h, "t1") == ["a1", new["id"]]
    assert cell(h, "t1", "12:00")  # the free cells start again after it


async def test_live_updates_and_navigation(mount: Mount) -> None:
    a1 = appointment("a1", Status.PENDING, start="10:00", end_time="11:00")
    client = FakeClient(OPERATOR, data(a1))
    h = await mount(client, width=1440, height=900, only=CALENDAR)
    assert column_appts(h, "t1") == ["a1"]

    # another operator moves it to Bea; availability arrives for Ana
    await client.remote("appointment", {**a1, "version": 2, "therapist_ids": ["t2"]})
    await client.remote("availability", slot("v1", "t1", TODAY, "08:00", "12:00"))
    await h.settle()
    assert column_appts(h, "t1") == [] and column_appts(h, "t2") == ["a1"]
    assert cell(h, "t1", "10:00").tooltip == "Book Ana at 10:00"
    # cancelled: the slot is free again
    await client.remote("appointment", {**a1, "version": 3, "therapist_ids": ["t2"],
                                        "status": "cancelled"})
    await h.settle()
    assert column_appts(h, "t2") == []

    # a booking on a day not shown costs the calendar no patch
    mark = h.mark()
    await client.remote("appointment", appointment("far", Status.PENDING, date=shift(TODAY, 30)))
    await h.settle()
    assert not h.patched_ids(mark) & {c._i for c in descendants(calendar(h))}

    await h.click(next(b for b in h.by_type(ft.IconButton) if b.tooltip == "Next day"))
    assert cell(h, "t1", "10:00", day=TOMORROW)
    await h.click(next(b for b in h.by_type(ft.OutlinedButton) if b.content == "Today"))
    assert cell(h, "t1", "10:00", day=TODAY)

    # week view: a compact table; its Book button prefills the first free hour
    picker = next(iter(h.by_type(ft.SegmentedButton)))
    h.session.apply_patch(picker._i, {"selected": ["week"]})
    await h.session.dispatch_event(picker._i, "change", ["week"])
    await h.settle()
    assert h.has_semantics(f"calendar-week-t1-{TODAY}")
    assert not h.has_semantics("calendar-column-t1")
    week_cell = h.semantics(f"calendar-week-t1-{TODAY}")
    assert "08:00–12:00" in h.texts(week_cell)
    book = next(b for b in descendants(week_cell) if isinstance(b, ft.TextButton))
    assert book.data == ("t1", TODAY, "08:00")
    await h.click(book)
    assert dialog_of(h).open and h.field("Start").value == "08:00"
    h.page.pop_dialog()
    await h.settle()

    # a day header goes back to that day's columns
    monday = week_days(TODAY)[0]
    label = date.fromisoformat(monday).strftime("%a %d")
    header = next(b for b in h.by_type(ft.TextButton) if b.content == label)
    await h.click(header)
    assert cell(h, "t1", "10:00", day=monday)


def booking_line(h: Harness, appt_id: str) -> ft.Container:
    line = h.semantics(f"calendar-appt-{appt_id}").content
    assert isinstance(line, ft.Container) and line.data == appt_id
    return line


def title_of(dialog: ft.AlertDialog) -> str:
    assert isinstance(dialog.title, ft.Text)
    return str(dialog.title.value)


async def test_clicking_a_booking_opens_its_edit_dialog(mount: Mount) -> None:
    client = FakeClient(
        OPERATOR,
        data(
            appointment("a1", Status.THERAPIST_CONFIRMED, start="10:00", end_time="11:00",
                        client_name="Maria Santos", location="3 Mango Road"),
            appointment("done", Status.TRANSPORT_COMPLETED, start="14:00", end_time="15:00"),
            slots=(slot("v1", "t1", TODAY, "08:00", "20:00"),),
        ),
    )
    h = await mount(client, width=1440, height=900, only=CALENDAR)

    await h.click(booking_line(h, "a1"))
    dialog = dialog_of(h)
    assert dialog.open and title_of(dialog) == "Edit appointment"
    assert (h.field("Date").value, h.field("Start").value, h.field("End").value) == (
        TODAY, "10:00", "11:00")
    assert h.field("Location").value == "3 Mango Road"
    assert checked(h, "Ana") is True and checked(h, "Swedish massage") is True

    # half an hour longer: only what changed is sent, and the block grows at once
    await h.type_text(h.field("End"), "11:30")
    await h.click(h.button("Save changes"))
    assert not dialog.open
    assert [(c.name, c.target, dict(c.args)) for c in client.dispatched] == [
        ("appointment.update", "a1", {"end_time": "11:30"})
    ]
    assert "10:00–11:30" in h.texts(h.semantics("calendar-appt-a1"))
    assert cell(h, "t1", "11:30")  # free again after it

    # what is over can't be edited: no click, no dialog
    assert booking_line(h, "done").on_click is None
    await h.click(booking_line(h, "done"))
    assert not [d for d in h.page._dialogs.controls if isinstance(d, ft.AlertDialog) and d.open]


async def test_a_booking_in_the_week_view_opens_its_edit_dialog(mount: Mount) -> None:
    a1 = appointment("a1", Status.PENDING, start="10:00", end_time="11:00")
    client = FakeClient(OPERATOR, data(a1))
    h = await mount(client, width=1440, height=900, only=CALENDAR)
    # another operator moved it meanwhile: the dialog opens on the record as it is now
    await client.remote("appointment", {**a1, "version": 2, "location": "7 Acacia Lane"})
    await h.settle()
    picker = next(iter(h.by_type(ft.SegmentedButton)))
    h.session.apply_patch(picker._i, {"selected": ["week"]})
    await h.session.dispatch_event(picker._i, "change", ["week"])
    await h.settle()
    (chip,) = [c for c in descendants(h.semantics(f"calendar-week-t1-{TODAY}"))
               if isinstance(c, ft.Container) and c.data == "a1"]
    await h.click(chip)
    assert title_of(dialog_of(h)) == "Edit appointment"
    assert h.field("Location").value == "7 Acacia Lane"


async def test_a_change_the_grid_cannot_show_is_not_recomputed(
    mount: Mount, monkeypatch: pytest.MonkeyPatch
) -> None:
    a1 = appointment("a1", Status.PENDING, start="10:00", end_time="11:00")
    client = FakeClient(OPERATOR, data(a1))
    h = await mount(client, width=1440, height=900, only=CALENDAR)
    computed: list[str] = []

    def counted(snap: Any, day: str) -> Any:
        computed.append(day)
        return day_grid(snap, day)

    monkeypatch.setattr(view, "day_grid", counted)
    far = appointment("far", Status.PENDING, date=shift(TODAY, 30))
    await client.remote("appointment", far)
    await client.remote("appointment", {**far, "version": 2, "start_time": "15:00"})
    await h.settle()
    assert computed == []
    # moved onto the day shown, then away again: drawn, then gone
    await client.remote("appointment", {**far, "version": 3, "date": TODAY})
    await h.settle()
    assert column_appts(h, "t1") == ["a1", "far"]
    await client.remote("appointment", {**far, "version": 4, "date": TOMORROW})
    await h.settle()
    assert column_appts(h, "t1") == ["a1"]
    # the day before reaches into the shown day (a booking past midnight)
    await client.remote("appointment", {**far, "version": 5, "date": YESTERDAY})
    await h.settle()
    assert computed == [TODAY] * 3
