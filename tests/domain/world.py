"""An in-memory business to run domain commands against (a fake, not a mock)."""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from domain import Actor, Command, MemorySnapshot, Outcome, Record, apply

DAY = "2026-11-21"
NOW = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)

OP = Actor("op", "operator")
T1, T2, T3 = Actor("t1", "therapist"), Actor("t2", "therapist"), Actor("t3", "therapist")
D1, D2 = Actor("d1", "driver"), Actor("d2", "driver")
SYSTEM = Actor("system", "system")


def staff(actor: Actor, name: str, **extra: Any) -> Record:
    return {
        "id": actor.id,
        "version": 1,
        "role": actor.role,
        "name": name,
        "active": True,
        "on_duty": True,
        **extra,
    }


def slot(
    sid: str,
    user: str,
    start: str = "08:00",
    end: str = "20:00",
    day: str = DAY,
    available: bool = True,
) -> Record:
    return {
        "id": sid,
        "version": 1,
        "user_id": user,
        "date": day,
        "start_time": start,
        "end_time": end,
        "available": available,
    }


def business() -> MemorySnapshot:
    return MemorySnapshot.of(
        staff=[
            staff(OP, "Olive Operator"),
            staff(T1, "Ana Reyes"),
            staff(T2, "Bea Cruz"),
            staff(T3, "Cara Lim"),
            staff(D1, "Dan Santos", last_available_at="2026-11-21T05:00:00Z"),
            staff(D2, "Eli Tan", last_available_at="2026-11-21T04:00:00Z"),
        ],
        client=[
            {
                "id": "c1",
                "version": 1,
                "first_name": "Maria",
                "last_name": "Santos",
                "phone": "0917",
                "address": "12 Rizal St",
            }
        ],
        service=[
            {"id": "s1", "version": 1, "name": "Swedish", "minutes": 60, "price": 900},
            {"id": "s2", "version": 1, "name": "Shiatsu", "minutes": 90, "price": 1200},
        ],
        availability=[slot("av1", "t1"), slot("av2", "t2"), slot("av3", "t3")],
    )


def booking(**over: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "client_id": "c1",
        "service_ids": ["s1"],
        "therapist_ids": ["t1"],
        "driver_id": "d1",
        "date": DAY,
        "start_time": "14:00",
        "end_time": "15:00",
        "location": "12 Rizal St, Makati",
    }
    args.update(over)
    return {k: v for k, v in args.items() if v is not None}


@dataclass
class World:
    """A snapshot plus a clock; `do` applies a command and commits it."""

    snap: MemorySnapshot = field(default_factory=business)
    now: datetime = NOW
    seq: itertools.count[int] = field(default_factory=itertools.count)

    def command(
        self, name: str, target: str | None = None, base_version: int | None = None, **args: Any
    ) -> Command:
        return Command(name, target, args, base_version, client_id="test", seq=next(self.seq))

    def do(
        self,
        actor: Actor,
        name: str,
        target: str | None = None,
        base_version: int | None = None,
        **args: Any,
    ) -> Outcome:
        outcome = apply(
            self.snap, actor, self.command(name, target, base_version, **args), self.now
        )
        self.snap.commit(outcome)
        return outcome

    def state(self) -> dict[str, dict[str, Record]]:
        return copy.deepcopy({k: dict(v) for k, v in self.snap.tables.items()})

    def appt(self, aid: str = "a1") -> Record:
        record = self.snap.get("appointment", aid)
        assert record is not None
        return record

    def later(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)


# The main path: who does what, and what it needs, in order.
MAIN_PATH: list[tuple[Actor, str, dict[str, Any], str]] = [
    (T1, "accept", {}, "therapist_confirmed"),
    (D1, "confirm", {}, "driver_confirmed"),
    (OP, "start", {}, "in_progress"),
    (D1, "start_journey", {}, "journey"),
    (D1, "arrive", {}, "arrived"),
    (D1, "drop_off", {}, "dropped_off"),
    (T1, "start_session", {}, "session_in_progress"),
    (T1, "request_payment", {}, "awaiting_payment"),
    (OP, "verify_payment", {"method": "cash", "amount": 900}, "payment_verified"),
    (T1, "complete", {"materials": [{"name": "oil", "quantity": 1}]}, "completed"),
    (T1, "request_pickup", {"urgency": "normal"}, "driver_assigned_pickup"),
    (D2, "confirm_pickup", {}, "return_journey"),
    (D2, "complete_return", {}, "transport_completed"),
]


def world_at(status: str, **booking_over: Any) -> World:
    """A world with appointment a1 driven to `status` by real commands."""
    w = World()
    w.do(OP, "appointment.create", "a1", **booking(**booking_over))
    if status == "pending":
        return w
    if status == "rejected":
        w.do(T1, "appointment.reject", "a1", reason="Too far")
        return w
    if status == "cancelled":
        w.do(OP, "appointment.cancel", "a1")
        return w
    if status == "auto_cancelled":
        w.later(31)
        w.do(SYSTEM, "appointments.auto_cancel_overdue")
        return w
    if status == "pickup_requested":
        w.snap.put("staff", {**staff(D2, "Eli Tan"), "on_duty": False})
        w.snap.put("staff", {**staff(D1, "Dan Santos"), "on_duty": False})
    for actor, action, args, to in MAIN_PATH:
        if status == "pickup_requested" and action == "request_pickup":
            w.do(actor, f"appointment.{action}", "a1", **args)
            return w
        w.do(actor, f"appointment.{action}", "a1", **args)
        if to == status:
            return w
    raise AssertionError(f"unknown status {status}")
