"""The availability form forgives: swapped times are not taken for a 23-hour
slot, a slot past midnight is asked for and shown as such, and a deleted
slot can be brought back."""

from __future__ import annotations

import flet as ft

from testkit.flet_harness import Harness, descendants
from tests.views.conftest import Mount
from tests.views.data import THERAPIST, TODAY, world
from tests.views.fake_client import FakeClient
from views.components.availability import NEXT_DAY, next_day_problem


def slot_rows(h: Harness) -> list[ft.Semantics]:
    return [s for s in h.by_type(ft.Semantics) if str(s.identifier or "").startswith("slot-")]


def next_day_box(h: Harness) -> ft.Checkbox:
    hits = [c for c in h.by_type(ft.Checkbox) if c.label == NEXT_DAY]
    assert len(hits) == 1
    return hits[0]


async def add(h: Harness, start: str, end: str) -> None:
    await h.type_text(h.field("Start"), start)
    await h.type_text(h.field("End"), end)
    await h.click(h.button("Add slot"))


async def test_swapped_times_are_refused_in_words(mount: Mount) -> None:
    # was: saved as 14:00–13:00, a slot of 23 hours
    client = FakeClient(THERAPIST, world())
    h = await mount(client)
    await add(h, "14:00", "13:00")
    assert not client.dispatched
    assert not slot_rows(h)
    assert (
        "The end time 13:00 is before the start time 14:00. "
        f"If the slot ends the next day, tick “{NEXT_DAY}”."
    ) in h.texts(h.semantics("availability"))


async def test_a_slot_past_midnight_is_asked_for_and_shown_as_such(mount: Mount) -> None:
    client = FakeClient(THERAPIST, world())
    h = await mount(client)
    await h.toggle(next_day_box(h), True)
    await add(h, "22:00", "02:00")
    [row] = slot_rows(h)
    assert row.label == "Slot 22:00–02:00 next day, available"
    assert "22:00–02:00 next day" in h.texts(row)
    slot = next(client.view().all("availability"))
    assert (slot["date"], slot["start_time"], slot["end_time"]) == (TODAY, "22:00", "02:00")
    assert next_day_box(h).value is False  # the form is ready for the next one


def test_the_next_day_rule() -> None:
    assert next_day_problem("09:00", "12:00", False) is None
    assert next_day_problem("22:00", "02:00", True) is None
    assert next_day_problem("09:00", "12:00", True) == (
        f"09:00–12:00 ends the same day: untick “{NEXT_DAY}”."
    )
    assert next_day_problem("nonsense", "12:00", True) is None  # the domain's words then


async def test_a_deleted_slot_comes_back_with_undo(mount: Mount) -> None:
    client = FakeClient(THERAPIST, world())
    h = await mount(client)
    await add(h, "09:00", "12:00")
    [row] = slot_rows(h)
    switch = next(c for c in descendants(row) if isinstance(c, ft.Switch))
    await h.toggle(switch, False)  # an "off" slot comes back off
    delete = next(
        c
        for c in descendants(slot_rows(h)[0])
        if isinstance(c, ft.Semantics) and str(c.label).startswith("Delete slot")
    )
    await h.click(delete.content)  # type: ignore[arg-type]
    assert not slot_rows(h)

    [bar] = [d for d in h.page._dialogs.controls if isinstance(d, ft.SnackBar) and d.open]
    assert bar.action == "Undo"
    await h.session.dispatch_event(bar._i, "action", None)
    await h.settle()

    [back] = slot_rows(h)
    assert back.label == "Slot 09:00–12:00, off"
    sent = [c.name for c in client.dispatched]
    assert sent[-2:] == ["availability.delete", "availability.create"]
