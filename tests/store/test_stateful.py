"""Random interleavings of local commands, server events, acks, rejections,
lost answers, reconnects (catch-up or re-bootstrap) and restarts, for two
users at once. Whatever happens: once every outbox drains and every event is
received, view == confirmed == what the server says each user may see."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from domain import ENTITIES, Actor, DomainError, MemorySnapshot, apply
from store.store import Store
from tests.store.fakes import NOW, OP, T1, T2, FakeServer, appointment, business, view_state
from tests.store.sync import catch_up

IDS = ["a0", "a1", "a2", "a3"]
NEW_IDS = ["n0", "n1", "n2"]
THERAPIST_ACTIONS = ["accept", "reject", "start_session", "request_payment", "complete",
                     "request_pickup"]
OPERATOR_ACTIONS = ["cancel", "start", "verify_payment", "update", "review_rejection",
                    "create"]
DRIVERLESS = {"accept", "start_session", "request_payment", "complete"}
ARGS: dict[str, dict[str, Any]] = {
    "reject": {"reason": "too far"},
    "verify_payment": {"method": "cash", "amount": 900},
    "request_pickup": {"urgency": "normal"},
    "review_rejection": {"decision": "deny"},
    "cancel": {"reason": "rain"},
}


def booking(therapist: str, start: str) -> dict[str, Any]:
    return {"client_id": "c1", "service_ids": ["s1"], "therapist_ids": [therapist],
            "driver_id": "d1", "date": "2026-11-21", "start_time": start,
            "end_time": start[:2] + ":45", "location": "12 Rizal St"}


class Sync(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.server = FakeServer(business())
        for n, aid in enumerate(IDS):
            self.server.snap.put("appointment", appointment(
                aid, start=f"{9 + n:02d}:00", end=f"{9 + n:02d}:50",
                therapist="t1" if n % 2 == 0 else "t2",
                status="session_in_progress" if n == 3 else "pending"))
        self.dir = Path(tempfile.mkdtemp(prefix="tandem-stateful-"))
        self.actors = {"op": OP, "t1": T1}
        self.stores = {name: self._open(name) for name in self.actors}
        for name, store in self.stores.items():
            store.bootstrap(self.server.bootstrap(self.actors[name]))

    def _open(self, name: str) -> Store:
        return Store(self.actors[name], directory=self.dir / name, clock=lambda: NOW)

    def teardown(self) -> None:
        try:
            for _ in range(3):  # everything drains and everyone catches up
                for name, store in self.stores.items():
                    while (entry := store.next_command()) is not None:
                        self._answer(name, entry.seq, store)
                for name, store in self.stores.items():
                    catch_up(store, self.server, self.actors[name])
            for name, store in self.stores.items():
                actor = self.actors[name]
                assert store.queued() == []
                assert view_state(store) == self.server.visible(actor), name
                confirmed = {e: dict(store.cache.tables.get(e, {})) for e in view_state(store)}
                assert confirmed == self.server.visible(actor), name
                assert store.view.pending_keys == set()
        finally:
            for store in self.stores.values():
                store.close()
            shutil.rmtree(self.dir, ignore_errors=True)

    def _answer(self, name: str, seq: int, store: Store, lose: bool = False) -> None:
        entry = store.outbox.get(seq)
        assert entry is not None
        status, body = self.server.command(self.actors[name], entry.wire())
        if lose:
            return  # applied (or refused) on the server, but the answer never arrives
        if body["status"] == "applied":
            store.acknowledge(seq, body)
        else:
            store.reject(seq, body["code"], body["message"])

    # Local actions ---------------------------------------------------------
    @rule(action=st.sampled_from(THERAPIST_ACTIONS), aid=st.sampled_from(IDS))
    def therapist_acts(self, action: str, aid: str) -> None:
        store = self.stores["t1"]
        before = len(store.queued())
        result = store.dispatch(f"appointment.{action}", aid, ARGS.get(action, {}))
        assert len(store.queued()) == before + (1 if result.ok else 0)

    @rule(action=st.sampled_from(OPERATOR_ACTIONS), aid=st.sampled_from(IDS + NEW_IDS),
          hour=st.integers(9, 12))
    def operator_acts(self, action: str, aid: str, hour: int) -> None:
        store = self.stores["op"]
        if action == "create":
            args = booking("t1" if hour % 2 else "t2", f"{hour:02d}:00")
        elif action == "update":
            args = {"notes": f"note {hour}"}
        else:
            args = ARGS.get(action, {})
        result = store.dispatch(f"appointment.{action}", aid, args)
        if result.ok:
            assert store.view.is_pending("appointment", aid)

    # The rest of the world ---------------------------------------------------
    @rule(action=st.sampled_from(THERAPIST_ACTIONS + ["cancel", "update"]),
          aid=st.sampled_from(IDS), who=st.sampled_from(["op", "t1", "t2"]))
    def someone_else_acts_on_the_server(self, action: str, aid: str, who: str) -> None:
        actor: Actor = {"op": OP, "t1": T1, "t2": T2}[who]
        args = {"notes": "from elsewhere"} if action == "update" else ARGS.get(action, {})
        with contextlib.suppress(DomainError):
            self.server.act(actor, f"appointment.{action}", aid, **args)

    # The network -------------------------------------------------------------
    @precondition(lambda self: any(s.next_command() for s in self.stores.values()))
    @rule(name=st.sampled_from(["op", "t1"]), lose=st.booleans())
    def send_one(self, name: str, lose: bool) -> None:
        store = self.stores[name]
        entry = store.next_command()
        if entry is not None:
            self._answer(name, entry.seq, store, lose)

    @rule(name=st.sampled_from(["op", "t1"]), how_many=st.integers(0, 4))
    def receive_events(self, name: str, how_many: int) -> None:
        store = self.stores[name]
        events = self.server.events(self.actors[name], store.cursor or 0)
        store.apply_events(events[:how_many])

    @rule(name=st.sampled_from(["op", "t1"]))
    def rebootstrap(self, name: str) -> None:
        self.stores[name].bootstrap(self.server.bootstrap(self.actors[name]))

    @rule(name=st.sampled_from(["op", "t1"]), flush=st.booleans())
    def restart(self, name: str, flush: bool) -> None:
        """The app restarts: the outbox is always on disk, the cache only if
        it was flushed (else an older cache comes back)."""
        store = self.stores[name]
        if not flush:
            store.cache.storage._flushed = store.cache.storage._generation  # skip the write
        store.close()
        self.stores[name] = self._open(name)
        if self.stores[name].needs_bootstrap:
            self.stores[name].bootstrap(self.server.bootstrap(self.actors[name]))

    # Always --------------------------------------------------------------------
    @invariant()
    def view_is_confirmed_with_pending_replayed_from_scratch(self) -> None:
        """The incremental rebase must equal the naive one: copy the confirmed
        records, apply every pending command in order, skip those that fail."""
        for store in self.stores.values():
            snap = MemorySnapshot({e: dict(rows) for e, rows in store.cache.tables.items()
                                   if e in ENTITIES})
            for p in store.view.pending:
                with contextlib.suppress(DomainError):
                    snap.commit(apply(snap, store.actor, p.command, p.now))
            expected = {e: dict(snap.tables.get(e, {})) for e in ENTITIES}
            assert view_state(store) == expected

    @invariant()
    def no_pending_means_view_is_confirmed(self) -> None:
        for store in self.stores.values():
            if not store.queued():
                assert view_state(store) == {
                    e: dict(store.cache.tables.get(e, {})) for e in view_state(store)}
                assert store.view.pending_keys == set()


Sync.TestCase.settings = settings(max_examples=40, stateful_step_count=30)
test_sync = Sync.TestCase
