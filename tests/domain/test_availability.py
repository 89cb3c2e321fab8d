"""Availability: no overlaps per person, past-midnight slots, on/off, bulk."""

from __future__ import annotations

import pytest

from domain.errors import Forbidden, InvalidArgs, NotFound, Overlap, VersionConflict
from tests.domain.world import DAY, OP, T1, T2, World


def fresh() -> World:
    w = World()
    for sid in ("av1", "av2", "av3"):
        w.snap.remove("availability", sid)
    return w


def add(w: World, sid: str, start: str, end: str, day: str = DAY, **extra: object) -> None:
    w.do(T1, "availability.create", sid, date=day, start_time=start, end_time=end, **extra)


def test_staff_add_their_own_slots() -> None:
    w = fresh()
    add(w, "s1", "09:00", "12:00")
    slot = w.snap.get("availability", "s1")
    assert slot == {
        "id": "s1",
        "version": 1,
        "user_id": "t1",
        "date": DAY,
        "start_time": "09:00",
        "end_time": "12:00",
        "available": True,
    }


def test_adjacent_slots_are_fine_overlapping_ones_are_not() -> None:
    w = fresh()
    add(w, "s1", "09:00", "12:00")
    add(w, "s2", "12:00", "13:00")
    with pytest.raises(Overlap, match="09:00 to 12:00"):
        add(w, "s3", "11:00", "12:30")
    assert w.snap.get("availability", "s3") is None


def test_a_slot_past_midnight_overlaps_the_next_mornings_slot() -> None:
    w = fresh()
    add(w, "night", "22:00", "02:00")
    with pytest.raises(Overlap):
        add(w, "early", "01:00", "05:00", day="2026-11-22")
    add(w, "later", "02:00", "05:00", day="2026-11-22")


def test_other_peoples_slots_never_clash() -> None:
    w = fresh()
    add(w, "s1", "09:00", "12:00")
    w.do(T2, "availability.create", "s2", date=DAY, start_time="09:00", end_time="12:00")


def test_staff_cannot_set_someone_elses_but_operators_can() -> None:
    w = fresh()
    with pytest.raises(Forbidden):
        w.do(
            T1,
            "availability.create",
            "s1",
            user_id="t2",
            date=DAY,
            start_time="09:00",
            end_time="10:00",
        )
    w.do(
        OP,
        "availability.create",
        "s1",
        user_id="t2",
        date=DAY,
        start_time="09:00",
        end_time="10:00",
    )
    with pytest.raises(InvalidArgs):
        w.do(OP, "availability.create", "s2", date=DAY, start_time="09:00", end_time="10:00")
    with pytest.raises(NotFound):
        w.do(T1, "availability.delete", "s1")  # t2's: t1 can't see it


def test_toggle_edit_and_delete_with_versions() -> None:
    w = fresh()
    add(w, "s1", "09:00", "12:00")
    w.do(T1, "availability.update", "s1", base_version=1, available=False)
    assert w.snap.get("availability", "s1")["available"] is False  # type: ignore[index]
    with pytest.raises(VersionConflict):
        w.do(T1, "availability.update", "s1", base_version=1, available=True)
    w.do(T1, "availability.update", "s1", base_version=2, end_time="13:00")
    assert w.snap.get("availability", "s1")["version"] == 3  # type: ignore[index]
    out = w.do(T1, "availability.delete", "s1")
    assert out.changes[0].op == "delete" and w.snap.get("availability", "s1") is None


def test_an_edit_cannot_make_an_overlap() -> None:
    w = fresh()
    add(w, "s1", "09:00", "12:00")
    add(w, "s2", "13:00", "15:00")
    with pytest.raises(Overlap):
        w.do(T1, "availability.update", "s1", base_version=1, end_time="13:30")


def test_bulk_add_for_a_day_gets_stable_ids_and_checks_overlaps() -> None:
    w = fresh()
    slots = [
        {"start_time": "08:00", "end_time": "10:00"},
        {"start_time": "13:00", "end_time": "17:00"},
    ]
    cmd = w.command("availability.bulk_create", None, date=DAY, slots=slots)
    assert cmd.derived_id(0) == cmd.derived_id(0) != cmd.derived_id(1)
    out = w.do(T1, "availability.bulk_create", date=DAY, slots=slots)
    assert len(out.changes) == 2 and all(
        c.record and c.record["user_id"] == "t1" for c in out.changes
    )
    with pytest.raises(Overlap):
        w.do(
            T1,
            "availability.bulk_create",
            date=DAY,
            slots=[
                {"start_time": "18:00", "end_time": "19:00"},
                {"start_time": "18:30", "end_time": "20:00"},
            ],
        )
    with pytest.raises(InvalidArgs, match="between 1 and"):
        w.do(T1, "availability.bulk_create", date=DAY, slots=[])


@pytest.mark.parametrize(
    "bad",
    [
        {"start_time": "9:00"},
        {"end_time": "24:00"},
        {"date": "2026-02-30"},
        {"start_time": "10:00", "end_time": "10:00"},
        {"available": "yes"},
    ],
)
def test_bad_slot_values_are_refused(bad: dict[str, object]) -> None:
    w = fresh()
    args: dict[str, object] = {"date": DAY, "start_time": "09:00", "end_time": "12:00", **bad}
    with pytest.raises(InvalidArgs):
        w.do(T1, "availability.create", "s1", **args)
