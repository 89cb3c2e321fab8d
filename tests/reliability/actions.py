"""Random valid actions against a staff-seeded server, as the people who may
run them (the devices of tests.reliability.wire). Not every pick applies
(a driver may be busy, a slot taken): callers count the applied ones.

Deliberately includes the moves that change who sees a record (reassigning a
rejected booking, swapping the driver), since those are where events leak.
"""

from __future__ import annotations

import random
import uuid
from typing import Any

from testkit.workload import TERMINAL, fresh_day, next_action, party_id, step_args
from tests.reliability.wire import Device, Reply


class Actions:
    def __init__(self, devices: dict[str, Device], seed: int) -> None:
        self.rng = random.Random(seed)
        self.by_name = devices
        self.by_id = {d.id: d for d in devices.values()}
        self.op = devices["operator"]
        boot = self.op.bootstrap()
        self.services = [s["id"] for s in boot["services"]]
        self.clients = [c["id"] for c in boot["clients"]]
        self.therapists = [s["id"] for s in boot["staff"] if s["role"] == "therapist"]
        self.drivers = [s["id"] for s in boot["staff"] if s["role"] == "driver"]
        self.appts: dict[str, dict[str, Any]] = {}
        self.applied = 0
        self.attempted = 0

    def _note(self, reply: Reply) -> Reply:
        self.attempted += 1
        if reply.applied:
            self.applied += 1
            rec = reply.body.get("record")
            if isinstance(rec, dict) and "therapist_ids" in rec:
                self.appts[rec["id"]] = rec
        return reply

    def _avail(self, user: str, day: str) -> None:
        self._note(self.op.cmd("availability.create", str(uuid.uuid4()), user_id=user,
                               date=day, start_time="06:00", end_time="23:30", available=True))

    def book(self) -> None:
        day, therapist = fresh_day(), self.rng.choice(self.therapists)
        self._avail(therapist, day)
        args: dict[str, Any] = {
            "client_id": self.rng.choice(self.clients), "service_ids": [self.services[0]],
            "therapist_ids": [therapist], "date": day, "start_time": "10:00",
            "end_time": "11:00", "location": "4 Random St"}
        if self.rng.random() < 0.8:
            args["driver_id"] = self.rng.choice(self.drivers)
        self._note(self.op.cmd("appointment.create", str(uuid.uuid4()), **args))

    def _party(self, appt: dict[str, Any], party: str) -> Device | None:
        who = party_id(appt, party, self.op.id)
        return self.by_id.get(who) if who else None

    def advance(self, appt: dict[str, Any]) -> None:
        action, party = next_action(appt, self.rng)
        if action == "confirm" and not appt.get("driver_id"):
            self.swap_driver(appt)
            return
        args = step_args(action, appt, self.rng, self.therapists, self.drivers)
        if args.get("therapist_id"):  # reassigned: make the new therapist available
            self._avail(args["therapist_id"], appt["date"])
        dev = self._party(appt, party)
        if dev is not None:
            self._note(dev.cmd("appointment." + action, appt["id"], **args))

    def swap_driver(self, appt: dict[str, Any]) -> None:
        others = [d for d in self.drivers if d != appt.get("driver_id")]
        self._note(self.op.cmd("appointment.update", appt["id"], appt["version"],
                               driver_id=self.rng.choice(others)))

    def staff_move(self) -> None:
        name = self.rng.choice([n for n in self.by_name if n != "operator"])
        dev = self.by_name[name]
        pick = self.rng.random()
        if pick < 0.3:
            self._note(dev.cmd("staff.set_duty", dev.id, on_duty=self.rng.random() < 0.7))
        elif pick < 0.6:
            self._note(dev.cmd("notification.mark_all_read"))
        else:
            self._note(dev.cmd("availability.create", str(uuid.uuid4()), user_id=dev.id,
                               date=fresh_day(), start_time="09:00", end_time="17:00",
                               available=True))

    def step(self) -> None:
        open_ = [a for a in self.appts.values() if a["status"] not in TERMINAL]
        pick = self.rng.random()
        if not open_ or pick < 0.15:
            self.book()
        elif pick < 0.22:
            self.swap_driver(self.rng.choice(open_))
        elif pick < 0.26:
            self._note(self.op.cmd("appointment.cancel", self.rng.choice(open_)["id"]))
        elif pick < 0.36:
            self.staff_move()
        else:
            self.advance(self.rng.choice(open_))
