"""Booking checks read appointments and availability by day (`on_days`):
the cache answers from an index, and a pending command that read some days
is replayed when a record moves onto or off one of them, confirmed or
pending. Checked against the naive answers: a filter over everything, and
every pending command applied from scratch."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.apply import apply
from domain.commands import MemorySnapshot
from domain.errors import DomainError
from domain.records import ENTITIES, Entity
from store.cache import Cache
from store.store import Store
from testkit.fake_server import DAY, NOW, OP, FakeServer, appointment, business, view_state
from tests.store.sync import catch_up, deliver

DAYS = [(date.fromisoformat(DAY) + timedelta(days=n)).isoformat() for n in range(-3, 4)]


@pytest.fixture(params=["memory", "file"])
def cache(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cache]:
    c = Cache(tmp_path / "cache.json" if request.param == "file" else None)
    yield c
    c.close()


def by_filter(c: Cache, entity: Entity, days: list[str]) -> set[str]:
    return {r["id"] for r in c.all(entity) if r.get("date") in days}


def by_index(c: Cache, entity: Entity, days: list[str]) -> set[str]:
    return {r["id"] for r in c.on_days(entity, days)}


def test_the_index_follows_every_kind_of_write(cache: Cache) -> None:
    cache.replace_all({"cursor": 1, "appointments": [
        appointment(f"a{n}", day=DAYS[n % 7]) for n in range(20)]})
    cache.put("appointment", {**appointment("a1", day=DAYS[5]), "version": 2})  # moved
    cache.put("appointment", {**appointment("a2", day=DAYS[5]), "version": 0})  # older: ignored
    cache.delete("appointment", "a3", 2)
    cache.apply_event({"seq": 2, "entity": "appointment", "id": "a4", "op": "upsert",
                       "version": 2, "data": {**appointment("a4", day=DAYS[0]), "version": 2}})
    cache.apply_event({"seq": 3, "entity": "appointment", "id": "a5", "op": "delete",
                       "version": 2, "data": None})
    cache.put("appointment", {**appointment("new", day=DAYS[6])})
    for days in ([DAYS[0]], [DAYS[5], DAYS[6]], DAYS, ["2020-01-01"]):
        assert by_index(cache, "appointment", days) == by_filter(cache, "appointment", days)
    assert by_index(cache, "appointment", [DAYS[5]]) >= {"a1"}
    assert "a1" not in by_index(cache, "appointment", [DAYS[1]])
    cache.clear()
    assert by_index(cache, "appointment", DAYS) == set()


def test_a_reopened_file_cache_has_its_index(tmp_path: Path) -> None:
    c = Cache(tmp_path / "cache.json")
    c.replace_all({"cursor": 1, "appointments": [appointment("a1", day=DAYS[2])],
                   "availability": [{"id": "s1", "version": 1, "user_id": "t1", "date": DAYS[2],
                                     "start_time": "09:00", "end_time": "10:00",
                                     "available": True}]})
    c.flush()
    c.close()
    again = Cache(tmp_path / "cache.json")
    try:
        assert by_index(again, "appointment", [DAYS[2]]) == {"a1"}
        assert by_index(again, "availability", [DAYS[2]]) == {"s1"}
    finally:
        again.close()


# --- replays follow records across days --------------------------------------


def the_business() -> FakeServer:
    snap = business()
    for n, day in enumerate(DAYS):
        for who in ("t1", "t2"):
            snap.put("availability", {"id": f"av-{who}-{n}", "version": 1, "user_id": who,
                                      "date": day, "start_time": "06:00", "end_time": "22:00",
                                      "available": True})
    for n in range(4):
        snap.put("appointment", appointment(f"x{n}", day=DAYS[n], start="10:00", end="11:00"))
    return FakeServer(snap)


def booking(day: str, hour: int, who: str = "t1") -> dict[str, Any]:
    return {"client_id": "c1", "service_ids": ["s1"], "therapist_ids": [who], "driver_id": "d1",
            "date": day, "start_time": f"{hour:02d}:00", "end_time": f"{hour:02d}:45",
            "location": "12 Rizal St"}


def scratch(store: Store) -> dict[str, dict[str, Any]]:
    """The naive view: confirmed records, then every pending command applied."""
    snap = MemorySnapshot({e: dict(rows) for e, rows in store.cache.tables.items()
                           if e in ENTITIES})
    for p in store.view.pending:
        with contextlib.suppress(DomainError):
            snap.commit(apply(snap, store.actor, p.command, p.now))
    return {e: dict(snap.tables.get(e, {})) for e in ENTITIES}


def conflicted(store: Store) -> set[str]:
    return {p.entry.target or "" for p in store.view.conflicts()}


def test_a_booking_waiting_to_sync_clashes_when_someone_moves_a_booking_onto_its_day() -> None:
    server = the_business()
    store = Store(OP, clock=lambda: NOW)
    store.bootstrap(server.bootstrap(OP))
    assert store.dispatch("appointment.create", "mine", booking(DAYS[6], 10)).ok
    # elsewhere, x0 moves from three days before to the same hour that day
    server.act(OP, "appointment.update", "x0", date=DAYS[6])
    catch_up(store, server, OP)
    assert conflicted(store) == {"mine"}
    assert view_state(store) == scratch(store)
    # and back: the clash is gone, the booking shows again
    server.act(OP, "appointment.update", "x0", date=DAYS[0])
    catch_up(store, server, OP)
    assert conflicted(store) == set()
    assert store.view.get("appointment", "mine") is not None
    assert view_state(store) == scratch(store)
    store.close()


def test_a_refused_move_puts_the_booking_back_in_the_way() -> None:
    server = the_business()
    store = Store(OP, clock=lambda: NOW)
    store.bootstrap(server.bootstrap(OP))
    # we move x3 away, then book its old hour: fine while the move stands
    assert store.dispatch("appointment.update", "x3", {"date": DAYS[5]}).ok
    assert store.dispatch("appointment.create", "mine", booking(DAYS[3], 10)).ok
    server.act(OP, "appointment.cancel", "x3", reason="the client called")
    catch_up(store, server, OP)
    deliver(store, server, OP, count=1)  # the move: refused (it's cancelled now)
    assert store.failed()[0].target == "x3"
    # x3 is cancelled, so it is in nobody's way: the booking stands
    assert conflicted(store) == set()
    assert view_state(store) == scratch(store)
    store.close()


def test_a_refused_move_off_the_day_brings_the_clash_back() -> None:
    server = the_business()
    store = Store(OP, clock=lambda: NOW)
    store.bootstrap(server.bootstrap(OP))
    stale = server.snap.get("appointment", "x2")
    assert stale is not None
    server.act(OP, "appointment.update", "x2", notes="a newer version we haven't seen")
    # our move is based on the old version: the server will refuse it
    assert store.dispatch("appointment.update", "x2", {"date": DAYS[6]}).ok
    assert store.dispatch("appointment.create", "mine", booking(DAYS[2], 10)).ok
    deliver(store, server, OP, count=1)
    assert [e.target for e in store.failed()] == ["x2"]
    assert conflicted(store) == {"mine"}, "x2 is back at 10:00 that day"
    assert view_state(store) == scratch(store)
    store.close()


def test_a_move_of_ours_that_can_no_longer_be_made_brings_the_clash_back() -> None:
    """A chain: an event makes our move impossible; the record is back on
    the day a later booking of ours read, though neither the event nor the
    move's old target is on that day."""
    server = the_business()
    store = Store(OP, clock=lambda: NOW)
    store.bootstrap(server.bootstrap(OP))
    assert store.dispatch("appointment.update", "x3", {"date": DAYS[6]}).ok
    assert store.dispatch("appointment.create", "mine", booking(DAYS[3], 10)).ok
    assert conflicted(store) == set()
    server.act(OP, "availability.update", "av-t1-6", available=False)
    catch_up(store, server, OP)
    assert conflicted(store) == {"x3", "mine"}
    assert view_state(store) == scratch(store)
    store.close()


STEP = st.one_of(
    st.tuples(st.just("book"), st.integers(0, 6), st.integers(8, 12),
              st.sampled_from(["t1", "t2"])),
    st.tuples(st.just("move_here"), st.integers(0, 3), st.integers(0, 6), st.integers(8, 12)),
    st.tuples(st.just("move_there"), st.integers(0, 3), st.integers(0, 6), st.integers(8, 12)),
    st.tuples(st.just("availability"), st.sampled_from(["t1", "t2"]), st.integers(0, 6),
              st.booleans()),
    st.tuples(st.just("send"), st.integers(1, 3), st.just(0), st.just(0)),
    st.tuples(st.just("receive"), st.just(0), st.just(0), st.just(0)),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(STEP, min_size=8, max_size=30))
def test_replays_by_day_equal_replaying_everything(steps: list[tuple[Any, ...]]) -> None:
    server = the_business()
    store = Store(OP, clock=lambda: NOW)
    store.bootstrap(server.bootstrap(OP))
    booked = 0
    try:
        for kind, a, b, c in steps:
            if kind == "book":
                store.dispatch("appointment.create", f"b{booked}", booking(DAYS[a], b, c))
                booked += 1
            elif kind == "move_here":  # we move one (it may be refused later)
                store.dispatch("appointment.update", f"x{a}",
                               {"date": DAYS[b], "start_time": f"{c:02d}:00",
                                "end_time": f"{c:02d}:50"})
            elif kind == "move_there":  # someone else moves one on the server
                with contextlib.suppress(DomainError):
                    server.act(OP, "appointment.update", f"x{a}", date=DAYS[b],
                               start_time=f"{c:02d}:00", end_time=f"{c:02d}:50")
            elif kind == "availability":  # someone turns a day on or off
                slot = server.snap.get("availability", f"av-{a}-{b}")
                if slot is not None and slot["available"] != c:
                    with contextlib.suppress(DomainError):  # (overlaps the seed's slot)
                        server.act(OP, "availability.update", f"av-{a}-{b}", available=c)
            elif kind == "send":
                deliver(store, server, OP, count=a)
            else:
                catch_up(store, server, OP)
            assert view_state(store) == scratch(store)
    finally:
        store.close()


class _Watched(dict[str, Any]):
    """A table that counts how often it is read whole."""

    reads = 0

    def items(self):  # type: ignore[no-untyped-def, override]
        self.reads += 1
        return super().items()


def test_the_index_is_built_on_the_first_question_not_at_open() -> None:
    # a cold start draws the first screen without asking by day (bench device)
    from store.days import DayIndex

    table = _Watched({f"a{n}": appointment(f"a{n}", day=DAYS[n % 7]) for n in range(10)})
    index = DayIndex()
    index.rebuild("appointment", table)
    new = appointment("late", day=DAYS[1])
    table["late"] = new
    index.move("appointment", "late", None, new)  # a write before anyone asked
    assert table.reads == 0
    assert set(index.ids("appointment", [DAYS[1]])) == {"a1", "a8", "late"}
    assert set(index.ids("appointment", [DAYS[1], DAYS[2]])) == {"a1", "a8", "late", "a2", "a9"}
    assert table.reads == 1  # once
