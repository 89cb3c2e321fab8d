from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from domain.commands import Actor
from domain.records import Record
from store.messages import Message
from store.store import Store
from testkit.fake_server import DAY, NOW, OP, T1, T2, FakeServer, appointment, business, view_state
from tests.store.sync import catch_up, deliver, sync

BOOKING = {"client_id": "c1", "service_ids": ["s1"], "therapist_ids": ["t1"], "driver_id": "d1",
           "date": DAY, "start_time": "14:00", "end_time": "15:00", "location": "12 Rizal St"}


def shown(store: Store, aid: str) -> Record:
    record = store.view.get("appointment", aid)
    assert record is not None
    return record


def held(store: Store, aid: str) -> Record:
    record = store.cache.get("appointment", aid)
    assert record is not None
    return record


def open_store(place: Path | None, actor: Actor = T1, server: FakeServer | None = None) -> Store:
    store = Store(actor, directory=place, clock=lambda: NOW)
    if server is not None:
        store.bootstrap(server.bootstrap(actor))
    return store


@pytest.fixture
def server() -> FakeServer:
    srv = FakeServer(business())
    srv.snap.put("appointment", appointment("a1"))
    srv.snap.put("appointment", appointment("a2", start="11:00", end="12:00"))
    return srv


def test_local_action_shows_at_once_and_is_marked_pending(place: Path | None,
                                                          server: FakeServer) -> None:
    store = open_store(place, T1, server)
    result = store.dispatch("appointment.accept", "a1")
    assert result.ok and result.seq == 1
    assert shown(store, "a1")["status"] == "therapist_confirmed"
    assert held(store, "a1")["status"] == "pending"  # not confirmed yet
    assert store.view.is_pending("appointment", "a1")
    assert not store.view.is_pending("appointment", "a2")
    assert [e.name for e in store.queued()] == ["appointment.accept"]
    sync(store, server, T1)
    assert not store.view.is_pending("appointment", "a1")
    assert view_state(store) == server.visible(T1)
    assert store.messages[-1].kind == "success"
    store.close()


def test_impossible_action_is_refused_locally_and_not_queued(place: Path | None,
                                                             server: FakeServer) -> None:
    store = open_store(place, T1, server)
    result = store.dispatch("appointment.start_session", "a1")
    assert not result.ok and result.error is not None
    assert result.error.code == "invalid_transition"
    assert "Can't start the session" in (result.message or "")
    assert store.queued() == []
    assert shown(store, "a1")["status"] == "pending"
    store.close()


def test_rejection_while_another_update_arrives_does_not_clobber(place: Path | None,
                                                                 server: FakeServer) -> None:
    store = open_store(place, OP, server)
    # Operator edits the notes of a1 while offline.
    assert store.dispatch("appointment.update", "a1", {"notes": "ring twice"}).ok
    # Meanwhile on the server: t1 accepts, then someone else edits a1.
    server.act(T1, "appointment.accept", "a1")
    server.act(OP, "appointment.update", "a1", notes="gate code 1234")
    catch_up(store, server, OP)  # the events arrive first
    assert shown(store, "a1")["status"] == "therapist_confirmed"
    deliver(store, server, OP)  # our stale edit is refused (version conflict)
    assert store.messages[-1].kind == "rollback"
    assert store.messages[-1].code == "version_conflict"
    assert view_state(store) == server.visible(OP)
    assert shown(store, "a1")["notes"] == "gate code 1234"
    assert [e.seq for e in store.failed()] == [1]
    store.dismiss(1)
    assert store.failed() == []
    store.close()


def test_event_while_pending_rebases_the_pending_command(place: Path | None,
                                                         server: FakeServer) -> None:
    store = open_store(place, OP, server)
    assert store.dispatch("appointment.cancel", "a2", {"reason": "rain"}).ok
    server.act(T1, "appointment.accept", "a2")  # someone else, same record
    catch_up(store, server, OP)
    a2 = shown(store, "a2")
    # Both: the confirmed acceptance, and our pending cancel replayed on top.
    assert a2["accepted_by"] == "t1"
    assert a2["status"] == "cancelled" and a2["cancel_reason"] == "rain"
    assert a2["version"] == 3
    assert store.view.conflicts() == []
    deliver(store, server, OP)
    assert view_state(store) == server.visible(OP)
    store.close()


def test_pending_command_made_impossible_by_an_event_is_reported(place: Path | None,
                                                                 server: FakeServer) -> None:
    store = open_store(place, T1, server)
    told: list[Message] = []
    store.on_message(told.append)
    assert store.dispatch("appointment.accept", "a1").ok
    server.act(OP, "appointment.cancel", "a1", reason="client called")
    catch_up(store, server, T1)
    assert shown(store, "a1")["status"] == "cancelled"
    assert [m.kind for m in told] == ["conflict"]
    assert "may not go through" in told[0].text and "cancelled" in told[0].text
    assert store.view.is_pending("appointment", "a1")  # still waiting for the server's word
    deliver(store, server, T1)
    assert told[-1].kind == "rollback"
    assert view_state(store) == server.visible(T1)
    store.close()


def test_queued_commands_survive_restart_and_replay(tmp_path: Path, server: FakeServer) -> None:
    store = open_store(tmp_path, T1, server)
    store.dispatch("appointment.accept", "a1")
    store.dispatch("appointment.reject", "a2", {"reason": "too far"})
    store.close()
    again = Store(T1, directory=tmp_path, clock=lambda: NOW)
    assert shown(again, "a1")["status"] == "therapist_confirmed"
    assert shown(again, "a2")["status"] == "rejected"
    assert [e.seq for e in again.queued()] == [1, 2]
    sync(again, server, T1)
    assert server.applied == [(again.outbox.client_id, 1), (again.outbox.client_id, 2)]
    assert view_state(again) == server.visible(T1)
    again.close()


def test_redelivery_after_lost_ack_is_applied_once(place: Path | None, server: FakeServer) -> None:
    store = open_store(place, T1, server)
    entry_seq = store.dispatch("appointment.accept", "a1").seq
    entry = store.outbox.get(entry_seq or 0)
    assert entry is not None
    server.command(T1, entry.wire())  # applied, but the answer is lost
    sync(store, server, T1)  # sent again: same answer, applied once
    assert len(server.applied) == 1
    assert view_state(store) == server.visible(T1)
    store.close()


def test_corrupt_cache_asks_for_bootstrap_and_keeps_the_outbox(tmp_path: Path,
                                                               server: FakeServer) -> None:
    store = open_store(tmp_path, T1, server)
    store.dispatch("appointment.accept", "a1")
    store.close()
    (tmp_path / "cache.json").write_bytes(b"\x00garbage")
    again = Store(T1, directory=tmp_path, clock=lambda: NOW)
    assert again.needs_bootstrap
    assert again.messages[0].kind == "problem" and again.messages[0].code == "cache_corrupt"
    assert len(again.queued()) == 1
    sync(again, server, T1)  # bootstrap, then the queued accept still goes out
    deliver(again, server, T1)
    assert view_state(again) == server.visible(T1)
    assert shown(again, "a1")["status"] == "therapist_confirmed"
    again.close()


def test_local_create_uses_the_same_ids_as_the_server(place: Path | None,
                                                      server: FakeServer) -> None:
    store = open_store(place, OP, server)
    assert store.dispatch("appointment.create", "new1", BOOKING).ok
    local: Record | None = store.view.get("appointment", "new1")
    assert local is not None and local["status"] == "pending"
    sync(store, server, OP)
    assert store.view.get("appointment", "new1") == server.snap.get("appointment", "new1")
    assert view_state(store) == server.visible(OP)
    store.close()


def test_double_booking_is_caught_against_pending_creates(place: Path | None,
                                                          server: FakeServer) -> None:
    store = open_store(place, OP, server)
    assert store.dispatch("appointment.create", "n1", BOOKING).ok
    second = store.dispatch("appointment.create", "n2", BOOKING)
    assert not second.ok and second.error is not None and second.error.code == "double_booked"
    assert store.dispatch("appointment.create", "n3", {**BOOKING, "therapist_ids": ["t2"]}).ok
    store.close()


def test_reset_confirmed_then_bootstrap_keeps_pending(place: Path | None,
                                                      server: FakeServer) -> None:
    store = open_store(place, T2, server)
    server.snap.put("appointment", appointment("b1", therapist="t2"))
    store.bootstrap(server.bootstrap(T2))
    store.dispatch("appointment.accept", "b1")
    store.reset_confirmed()
    assert store.needs_bootstrap
    store.bootstrap(server.bootstrap(T2))
    assert shown(store, "b1")["status"] == "therapist_confirmed"
    store.close()


def test_an_action_the_disk_cannot_take_fails_cleanly(tmp_path: Path, server: FakeServer,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A full disk: the outbox can't write the command down, so the action
    is refused with words for the user; nothing is queued or shown."""
    store = open_store(tmp_path, T1, server)
    before = view_state(store)

    def full(fd: int, data: bytes | memoryview) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full)
    result = store.dispatch("appointment.accept", "a1")
    monkeypatch.undo()
    assert not result.ok and result.seq is None
    assert result.error is not None and result.error.code == "not_saved"
    assert result.message is not None and "couldn't be saved" in result.message
    assert store.queued() == [] and not store.view.is_pending("appointment", "a1")
    assert view_state(store) == before
    again = store.dispatch("appointment.accept", "a1")  # space again: it goes through
    assert again.ok and again.seq == 1
    sync(store, server, T1)
    assert view_state(store) == server.visible(T1)
    store.close()


def test_a_refusal_says_who_what_and_why_in_one_sentence(place: Path | None,
                                                         server: FakeServer) -> None:
    # was: "Accept (appointment) didn't go through: Can't accept the appointment: it's cancelled."
    store = open_store(place, T1, server)
    assert store.dispatch("appointment.accept", "a1").ok  # offline, meanwhile:
    server.act(OP, "appointment.cancel", "a1", reason="rain")
    deliver(store, server, T1)
    told = store.messages[-1]
    client = shown(store, "a1")["client_name"]
    assert told.kind == "rollback"
    assert told.text == f"Couldn't accept {client}'s 09:00 booking: it's cancelled."
    store.close()
