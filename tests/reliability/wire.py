"""A small real HTTP client for the reliability suites (one device = one
client_id with a growing seq, like the outbox), and a booking helper."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from testkit import loopback
from testkit.server import DEMO_PASSWORD, ServerProcess
from testkit.workload import fresh_day

__all__ = ["Device", "Reply", "book", "fresh_day"]


@dataclass
class Reply:
    status: int
    body: dict[str, Any]

    @property
    def applied(self) -> bool:
        return self.status == 200 and self.body.get("status") == "applied"

    @property
    def record(self) -> dict[str, Any]:
        rec = self.body.get("record")
        assert isinstance(rec, dict), self.body
        return rec


@dataclass
class Device:
    srv: ServerProcess
    username: str
    password: str = DEMO_PASSWORD
    client_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    seq: int = 0
    token: str = ""
    user: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.http = loopback.Client(base_url=self.srv.url, timeout=60)
        r = self.http.post("/api/auth/login",
                           json={"username": self.username, "password": self.password})
        assert r.status_code == 200, r.text
        self.token, self.user = r.json()["token"], r.json()["user"]
        self.http.headers["Authorization"] = f"Bearer {self.token}"

    @property
    def id(self) -> str:
        return str(self.user["id"])

    def cmd(self, name: str, target: str | None = None, base_version: int | None = None,
            **args: Any) -> Reply:
        self.seq += 1
        body = {"client_id": self.client_id, "seq": self.seq, "name": name, "target": target,
                "args": args, "base_version": base_version}
        r = self.http.post("/api/commands", json=body)
        return Reply(r.status_code, r.json())

    def ok(self, name: str, target: str | None = None, base_version: int | None = None,
           **args: Any) -> dict[str, Any]:
        reply = self.cmd(name, target, base_version, **args)
        assert reply.applied, (self.username, name, reply.body)
        return reply.record

    def bootstrap(self) -> dict[str, Any]:
        r = self.http.get("/api/sync/bootstrap")
        assert r.status_code == 200, r.text
        data: dict[str, Any] = r.json()
        return data

    def close(self) -> None:
        self.http.close()


def book(op: Device, *, therapist: str, driver: str | None, client_id: str,
         service_id: str) -> dict[str, Any]:
    """A pending booking on a fresh day (the therapist made available first)."""
    day = fresh_day()
    op.ok("availability.create", str(uuid.uuid4()), user_id=therapist, date=day,
          start_time="07:00", end_time="23:00", available=True)
    args: dict[str, Any] = {"client_id": client_id, "service_ids": [service_id],
                            "therapist_ids": [therapist], "date": day, "start_time": "10:00",
                            "end_time": "11:00", "location": "1 Test St, Manila"}
    if driver:
        args["driver_id"] = driver
    return op.ok("appointment.create", str(uuid.uuid4()), **args)
