"""Targeted refresh: only subscribers whose results changed are called, once."""

from __future__ import annotations

from pathlib import Path

from domain.commands import Actor
from domain.records import Record
from store.store import Store
from store.subscriptions import Delta, Query
from testkit.fake_server import DAY, NOW, OP, T1, FakeServer, appointment, business
from tests.store.sync import catch_up, deliver


def setup(place: Path | None, actor: Actor = OP) -> tuple[Store, FakeServer]:
    server = FakeServer(business())
    for n, start in enumerate(["09:00", "11:00", "13:00"]):
        server.snap.put("appointment", appointment(f"a{n}", start=start, end=start[:2] + ":50"))
    server.snap.put("appointment", appointment("other-day", day="2026-11-22", therapist="t2"))
    store = Store(actor, directory=place, clock=lambda: NOW)
    store.bootstrap(server.bootstrap(actor))
    return store, server


def pending_q() -> Query:
    return Query("appointment", lambda r: r["status"] == "pending",
                 lambda r: (r["date"], r["start_time"]),
                 name="pending acceptance")


def today_q() -> Query:
    return Query("appointment", lambda r: r["date"] == DAY, lambda r: r["start_time"],
                 name="today")


def test_an_event_on_one_appointment_calls_only_affected_subscribers(place: Path | None) -> None:
    store, server = setup(place)
    calls: dict[str, list[Delta]] = {k: [] for k in
                                     ("a0", "a1", "pending", "today", "confirmed", "avail")}
    store.subscribe("appointment", "a0", calls["a0"].append)
    store.subscribe("appointment", "a1", calls["a1"].append)
    pending = store.watch(pending_q(), calls["pending"].append)
    today = store.watch(today_q(), calls["today"].append)
    store.watch(Query("appointment", lambda r: r["status"] == "therapist_confirmed"),
                calls["confirmed"].append)
    store.watch(Query("availability", lambda r: r["user_id"] == "t1"), calls["avail"].append)
    assert [r["id"] for r in pending.rows()] == ["a0", "a1", "a2", "other-day"]

    server.act(T1, "appointment.accept", "a1")
    catch_up(store, server, OP)

    assert calls["a0"] == []
    assert calls["a1"] == [Delta("appointment", updated=frozenset({"a1"}))]
    assert calls["pending"] == [Delta("appointment", removed=frozenset({"a1"}))]
    assert calls["today"] == [Delta("appointment", updated=frozenset({"a1"}))]
    assert calls["confirmed"] == [Delta("appointment", added=frozenset({"a1"}))]
    assert calls["avail"] == []
    assert [r["id"] for r in pending.rows()] == ["a0", "a2", "other-day"]
    assert [r["id"] for r in today.rows()] == ["a0", "a1", "a2"]
    store.close()


def test_local_action_notifies_once_with_the_pending_mark(place: Path | None) -> None:
    store, server = setup(place, T1)
    seen: list[Delta] = []
    shown: list[Record | None] = []
    store.watch(today_q(), seen.append)
    store.subscribe("appointment", "a0",
                    lambda d: shown.append(store.view.get("appointment", "a0")))
    assert store.dispatch("appointment.accept", "a0").ok
    assert seen == [Delta("appointment", updated=frozenset({"a0"}))]
    assert shown[-1] is not None and shown[-1]["status"] == "therapist_confirmed"
    assert store.view.is_pending("appointment", "a0")
    # The ack: same record, now confirmed; only the "syncing" mark flips.
    deliver(store, server, T1)
    assert len(seen) == 2 and seen[-1] == Delta("appointment", updated=frozenset({"a0"}))
    assert not store.view.is_pending("appointment", "a0")
    # The event for our own change brings nothing new: nobody is called.
    catch_up(store, server, T1)
    assert len(seen) == 2
    store.close()


def test_a_batch_of_events_is_one_call(place: Path | None) -> None:
    store, server = setup(place)
    seen: list[Delta] = []
    store.watch(pending_q(), seen.append)
    server.act(OP, "appointment.cancel", "a0")
    server.act(OP, "appointment.cancel", "a2")
    catch_up(store, server, OP)
    assert seen == [Delta("appointment", removed=frozenset({"a0", "a2"}))]
    store.close()


def test_cancelled_subscription_is_not_called(place: Path | None) -> None:
    store, server = setup(place)
    seen: list[Delta] = []
    sub = store.subscribe("appointment", "a0", seen.append)
    sub.cancel()
    server.act(OP, "appointment.cancel", "a0")
    catch_up(store, server, OP)
    assert seen == []
    store.close()


def test_a_failing_subscriber_does_not_stop_the_others(place: Path | None) -> None:
    store, server = setup(place)
    seen: list[Delta] = []

    def broken(_: Delta) -> None:
        raise RuntimeError("view bug")

    store.subscribe("appointment", "a0", broken)
    store.subscribe("appointment", "a0", seen.append)
    server.act(OP, "appointment.cancel", "a0")
    catch_up(store, server, OP)
    assert len(seen) == 1
    store.close()


def test_queries_look_only_at_changed_records(place: Path | None) -> None:
    """Efficiency, observed: a query predicate runs once per changed record,
    not over the whole cache."""
    store, server = setup(place)
    evaluated: list[str] = []

    def where(r: Record) -> bool:
        evaluated.append(r["id"])
        return bool(r["status"] == "pending")

    store.watch(Query("appointment", where), lambda d: None)
    evaluated.clear()
    server.act(OP, "appointment.cancel", "a2")
    catch_up(store, server, OP)
    assert evaluated == ["a2"]
    store.close()
