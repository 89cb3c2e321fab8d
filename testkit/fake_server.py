"""An in-memory twin of the server for pure store tests: the same
`domain.apply`, a MemorySnapshot, an event log with audience filtering and
exactly-once by (client_id, seq). A fake, not a mock: it decides like the
real server and tests assert on resulting state."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from domain import Actor, Command, DomainError, MemorySnapshot, Record, apply
from domain.policy import can_see
from domain.records import ENTITIES, Entity
from store.cache import BOOTSTRAP_FIELDS
from store.view import command_entity

DAY = "2026-11-21"
NOW = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)
OP = Actor("op", "operator")
T1, T2 = Actor("t1", "therapist"), Actor("t2", "therapist")
D1 = Actor("d1", "driver")


def staff(actor: Actor, name: str) -> Record:
    return {"id": actor.id, "version": 1, "role": actor.role, "name": name, "active": True,
            "on_duty": True}


def appointment(aid: str, *, start: str = "09:00", end: str = "10:00", status: str = "pending",
                therapist: str = "t1", day: str = DAY) -> Record:
    return {
        "id": aid, "version": 1, "status": status, "client_id": "c1", "client_name": "Maria Santos",
        "service_ids": ["s1"], "therapist_ids": [therapist], "accepted_ids": [], "driver_id": "d1",
        "pickup_driver_id": None, "date": day, "start_time": start, "end_time": end,
        "location": "12 Rizal St", "notes": None, "response_deadline": "2026-11-21T23:00:00Z",
        "created_at": "2026-11-21T05:00:00Z", "created_by": "op", "updated_at": None,
        "rejection": None, "payment": None, "materials": [], "pickup": None, "cancel_reason": None,
    }


def business(appointments: int = 0) -> MemorySnapshot:
    snap = MemorySnapshot.of(
        staff=[staff(OP, "Olive"), staff(T1, "Ana"), staff(T2, "Bea"), staff(D1, "Dan")],
        client=[{"id": "c1", "version": 1, "first_name": "Maria", "last_name": "Santos",
                 "phone": "0917", "address": "12 Rizal St"}],
        service=[{"id": "s1", "version": 1, "name": "Swedish", "minutes": 60, "price": 900}],
        availability=[
            {"id": "av1", "version": 1, "user_id": "t1", "date": DAY, "start_time": "00:00",
             "end_time": "00:00", "available": True},
            {"id": "av2", "version": 1, "user_id": "t2", "date": DAY, "start_time": "00:00",
             "end_time": "00:00", "available": True},
        ],
    )
    for n in range(appointments):
        # Spread over past days so they don't clash with today's bookings.
        day = (datetime(2026, 1, 1) + timedelta(days=n % 300)).date().isoformat()
        snap.put("appointment", appointment(f"old{n}", day=day, status="transport_completed"))
    return snap


@dataclass
class FakeServer:
    snap: MemorySnapshot = field(default_factory=business)
    now: datetime = NOW
    log: list[dict[str, Any]] = field(default_factory=list)
    answers: dict[tuple[str, int], tuple[int, dict[str, Any]]] = field(default_factory=dict)
    applied: list[tuple[str, int]] = field(default_factory=list)

    @property
    def cursor(self) -> int:
        return len(self.log)

    def bootstrap(self, actor: Actor) -> dict[str, Any]:
        payload: dict[str, Any] = {"cursor": self.cursor}
        for fld, entity in BOOTSTRAP_FIELDS.items():
            payload[fld] = [copy.deepcopy(r) for r in self.snap.all(entity)
                            if can_see(actor, entity, r)]
        return payload

    def command(self, actor: Actor, wire: dict[str, Any]) -> tuple[int, Any]:
        key = (wire["client_id"], wire["seq"])
        if key in self.answers:
            return self.answers[key]
        cmd = Command(wire["name"], wire["target"], wire["args"], wire["base_version"],
                      wire["client_id"], wire["seq"])
        try:
            outcome = apply(self.snap, actor, cmd, self.now)
        except DomainError as exc:
            answer: tuple[int, Any] = (exc.status, exc.to_wire())
        else:
            self._commit(outcome.changes, cmd.name)
            self.applied.append(key)
            changes = [{"entity": c.entity, "id": c.id, "op": c.op,
                        "version": (c.record or c.previous or {}).get("version"),
                        "data": copy.deepcopy(c.record)}
                       for c in outcome.changes
                       if can_see(actor, c.entity, c.record or c.previous or {})]
            answer = (200, {"status": "applied", "record": copy.deepcopy(outcome.record),
                            "changes": changes, "cursor": self.cursor})
        self.answers[key] = answer
        return answer

    def act(self, actor: Actor, name: str, target: str | None = None, **args: Any) -> None:
        """Someone else acts directly on the server (must succeed)."""
        entity = command_entity(name)
        current = self.snap.get(entity, target) if target and entity else None
        base = current["version"] if current and name.endswith(".update") else None
        outcome = apply(self.snap, actor, Command(name, target, args, base, "other",
                                                  len(self.log) + 1000), self.now)
        self._commit(outcome.changes, name)

    def _commit(self, changes: Any, cause: str) -> None:
        for c in changes:
            self.log.append({"entity": c.entity, "id": c.id, "op": c.op,
                             "record": copy.deepcopy(c.record), "previous": c.previous,
                             "cause": cause})
            if c.op == "delete":
                self.snap.remove(c.entity, c.id)
            else:
                self.snap.put(c.entity, c.record)

    def events(self, actor: Actor, after: int) -> list[dict[str, Any]]:
        """What `actor` receives after `after`, as wire events."""
        out = []
        for n, e in enumerate(self.log[after:], start=after + 1):
            new, old = e["record"], e["previous"]
            sees_new = new is not None and can_see(actor, e["entity"], new)
            sees_old = old is not None and can_see(actor, e["entity"], old)
            if not (sees_new or sees_old):
                continue
            data = copy.deepcopy(new) if sees_new else None
            version = (new or old or {}).get("version")
            out.append({"seq": n, "entity": e["entity"], "id": e["id"],
                        "op": "upsert" if data is not None else "delete",
                        "version": version, "data": data, "cause": e["cause"]})
        return out

    def visible(self, actor: Actor) -> dict[Entity, dict[str, Record]]:
        return {e: {r["id"]: r for r in self.snap.all(e) if can_see(actor, e, r)}
                for e in ENTITIES}


def view_state(store: Any) -> dict[Entity, dict[str, Record]]:
    return {e: {r["id"]: r for r in store.view.all(e)} for e in ENTITIES}


def confirmed_state(store: Any) -> dict[Entity, dict[str, Record]]:
    return {e: dict(store.cache.tables.get(e, {})) for e in ENTITIES}
