"""The operator's staff page: search, duty, today's load (rolling over at
midnight), live lines."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import flet as ft
import pytest

from domain.records import Record
from domain.status import Status
from testkit.flet_harness import Harness, descendants
from tests.views.conftest import Mount
from tests.views.data import DRIVER, OPERATOR, THERAPIST, TODAY, appointment, staff, world
from tests.views.fake_client import FakeClient
from views.components import clock
from views.operator.staff import StaffPage
from views.operator.stats import Load, load, on_day

TOMORROW = (date.fromisoformat(TODAY) + timedelta(days=1)).isoformat()
CARLA: Record = {
    "id": "t2",
    "username": "therapist2",
    "role": "therapist",
    "name": "Carla",
    "specialization": "Hilot and reflexology",
    "pressure_preference": "firm",
}
DAN: Record = {
    "id": "d2",
    "username": "driver2",
    "role": "driver",
    "name": "Dan",
    "plate": "NAB 1234",
    "phone": "+63 917 555 0122",
}


def business() -> FakeClient:
    records = world(
        appointment("a1", Status.PENDING, start="09:00"),
        appointment("a2", Status.COMPLETED, start="11:00", pickup_driver_id=None),
        appointment("a3", Status.CANCELLED, start="13:00"),
        appointment("a4", Status.PENDING, date=TOMORROW),
        appointment(
            "a5",
            Status.PENDING,
            start="15:00",
            therapist_ids=["t2"],
            driver_id="d2",
            pickup_driver_id=None,
        ),
    )
    records["staff"] += [staff(CARLA), staff(DAN, on_duty=False)]
    return FakeClient(OPERATOR, records)


def line(h: Harness, person: str) -> str:
    return " | ".join(h.texts(h.semantics(f"staff-{person}")))


def shown(h: Harness, role: str) -> list[str]:
    group = h.semantics(f"staff-{role}s")
    return [str(s.identifier) for s in descendants(group) if isinstance(s, ft.Semantics)][1:]


async def test_lines_show_duty_and_todays_load(mount: Mount) -> None:
    h = await mount(business(), width=1440, height=900)
    assert shown(h, "therapist") == ["staff-t1", "staff-t2"]  # by name
    assert shown(h, "driver") == ["staff-d1", "staff-d2"]
    # a3 is cancelled and a4 is tomorrow: neither counts
    assert "Today: 2 appointments · 1 done · 1 to go" in line(h, "t1")
    assert "On duty" in line(h, "t1")
    assert "Hilot and reflexology · firm pressure" in line(h, "t2")
    assert "Today: 1 appointment · 0 done · 1 to go" in line(h, "t2")
    assert "Off duty" in line(h, "d2")
    assert "Plate NAB 1234 · +63 917 555 0122" in line(h, "d2")
    # Ben drove a1 and a2 out; a2 (completed, no pickup driver yet) is behind him
    assert "Today: 2 appointments · 1 done · 1 to go" in line(h, "d1")
    assert "2 therapists (2 on duty) · 2 drivers (1 on duty) · 1 operator" in h.texts(
        h.semantics("staff-page")
    )


async def test_search_filters_both_lists_with_empty_states(mount: Mount) -> None:
    h = await mount(business(), width=1440, height=900)
    search = h.field("Search staff")
    await h.type_text(search, "carla")
    assert shown(h, "therapist") == ["staff-t2"]
    assert "1 therapist (1 on duty) · 0 drivers (0 on duty) · 0 operators" in h.texts(
        h.semantics("staff-page")
    )
    assert shown(h, "driver") == []
    assert "No drivers match “carla”." in h.texts(h.semantics("staff-drivers"))

    await h.type_text(search, "nab 12")  # a plate, two words
    assert shown(h, "therapist") == []
    assert shown(h, "driver") == ["staff-d2"]

    await h.type_text(search, "")
    assert shown(h, "therapist") == ["staff-t1", "staff-t2"]


async def test_a_change_redraws_only_the_lines_it_concerns(mount: Mount) -> None:
    client = business()
    h = await mount(client, width=1440, height=900)
    carla = {c._i for c in descendants(h.semantics("staff-t2"))}
    mark = h.mark()
    a1 = client.view().get("appointment", "a1")
    assert a1 is not None
    await client.remote("appointment", {**a1, "version": 2, "status": Status.JOURNEY.value})
    await h.settle()
    assert "Today: 2 appointments · 1 done · 1 to go" in line(h, "t1")
    assert "On a trip" in line(h, "d1")
    patched = h.patched_ids(mark)
    assert patched and not patched & carla  # Carla's line was left alone

    # the appointment moves to tomorrow: it leaves today's load
    a1 = client.view().get("appointment", "a1")
    assert a1 is not None
    await client.remote("appointment", {**a1, "version": 3, "date": TOMORROW})
    await h.settle()
    assert "Today: 1 appointment · 1 done · 0 to go" in line(h, "t1")


async def test_operator_switches_a_driver_off_duty(mount: Mount) -> None:
    client = business()
    h = await mount(client, width=1440, height=900)
    (switch,) = [s for s in descendants(h.semantics("staff-d1")) if isinstance(s, ft.Switch)]
    assert switch.value is True
    await h.toggle(switch, False)
    assert [(c.name, c.target, dict(c.args)) for c in client.dispatched] == [
        ("staff.set_duty", "d1", {"on_duty": False})
    ]
    assert "Off duty" in line(h, "d1")
    assert "Saving…" in line(h, "d1")
    await client.ack()
    await h.settle()
    assert "Saving…" not in line(h, "d1")
    assert "2 therapists (2 on duty) · 2 drivers (0 on duty) · 1 operator" in h.texts(
        h.semantics("staff-page")
    )


async def test_no_staff_yet() -> None:
    h = Harness()
    client = FakeClient(OPERATOR, {"staff": [staff(OPERATOR)], "appointment": []})

    async def main(page: ft.Page) -> None:
        page.add(StaffPage(page, client).root)

    await h.run(main)
    assert "No therapists yet." in h.texts()
    assert "No drivers yet." in h.texts()


def test_load_for_therapists_and_drivers() -> None:
    ana, ben = staff(THERAPIST), staff(DRIVER)
    todays = on_day(
        [
            appointment("x1", Status.SESSION_IN_PROGRESS, pickup_driver_id=None),
            appointment("x2", Status.PICKUP_REQUESTED, pickup_driver_id=None),
            appointment("x3", Status.RETURN_JOURNEY),  # Ben brings Ana back
            appointment("x4", Status.TRANSPORT_COMPLETED),
            appointment("x5", Status.AUTO_CANCELLED),
            appointment("x6", Status.PENDING, date=TOMORROW),
        ],
        date.fromisoformat(TODAY),
    )
    assert load(ana, todays) == Load(total=4, done=3)  # completed sessions: x2, x3, x4
    # Ben is done with x1 and x2 (dropped off, no pickup), not with x3 (driving back)
    assert load(ben, todays) == Load(total=4, done=3)
    assert load(ben, todays).remaining == 1
    assert load(staff(OPERATOR), todays) == Load()
    assert load(ana, []) == Load(total=0, done=0)


async def test_todays_load_rolls_over_at_midnight_with_nothing_changing(
    mount: Mount, monkeypatch: pytest.MonkeyPatch
) -> None:
    day = [date.fromisoformat(TODAY)]
    monkeypatch.setattr(clock, "today", lambda: day[0])
    monkeypatch.setattr(clock, "DAY_WATCH_SECONDS", 0.01)
    h = await mount(business(), width=1440, height=900)
    assert "Today: 2 appointments · 1 done · 1 to go" in line(h, "t1")
    page = {c._i for c in descendants(h.semantics("staff-page"))}

    # the same day: the watch sends nothing
    mark = h.mark()
    await asyncio.sleep(0.05)
    await h.settle()
    assert not h.patched_ids(mark) & page

    # midnight, no event: tomorrow's a4 is today's load now
    day[0] += timedelta(days=1)
    for _ in range(200):  # the watch looks every 10 ms: give a busy machine 2 s
        await asyncio.sleep(0.01)
        await h.settle()
        if "Today: 1 appointment · 0 done · 1 to go" in line(h, "t1"):
            break
    assert "Today: 1 appointment · 0 done · 1 to go" in line(h, "t1")
    assert "Nothing booked today" in line(h, "t2")
    assert "Today: 1 appointment · 0 done · 1 to go" in line(h, "d1")  # Ben drives a4
