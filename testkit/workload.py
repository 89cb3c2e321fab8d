"""Random valid work for headless Tandem clients, and the checks that they
converged. Shared by the reliability suites (tests/reliability) and the soak
benchmark (bench/soak.py, whose clients live in other processes).

- `fresh_day()`: a date no other booking of this process uses; a process that
  runs next to others calls `start_days_at(n)` first so their days differ.
- `Worker`: one real services.client.Client doing side work with
  exactly-once witnesses: an operator edits only the client records it
  created, each edit writing a unique `notes` text; staff add availability
  slots with fresh ids. A command applied twice shows up as two events
  carrying the same witness, a lost one as none (`witness_problems`).
- `NEXT` / `next_action` / `step_args`: the appointment main path as (action,
  party), with the side paths (reject, review) picked at random.
- `converge`: each client's store equals the server's bootstrap for its user.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import sqlite3
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from domain.records import Entity
from services.client import Client
from testkit import loopback
from testkit.server import DEMO_PASSWORD

_days = itertools.count()


def start_days_at(n: int) -> None:
    """Let this process's fresh days start at `n` (another process uses 0...)."""
    global _days
    _days = itertools.count(n)


def fresh_day() -> str:
    """A date no other booking of this process uses (no clashes between cells)."""
    n = next(_days)
    return f"{2035 + n // 280}-{1 + (n // 28) % 10:02d}-{1 + n % 28:02d}"


# --- the lifecycle as (action, party) ------------------------------------------------

NEXT: dict[str, tuple[str, str]] = {  # status -> (action, party)
    "pending": ("accept", "therapist"),
    "therapist_confirmed": ("confirm", "driver"),
    "driver_confirmed": ("start", "operator"),
    "in_progress": ("start_journey", "driver"),
    "journey": ("arrive", "driver"),
    "arrived": ("drop_off", "driver"),
    "dropped_off": ("start_session", "therapist"),
    "session_in_progress": ("request_payment", "therapist"),
    "awaiting_payment": ("verify_payment", "operator"),
    "payment_verified": ("complete", "therapist"),
    "completed": ("request_pickup", "therapist"),
    "pickup_requested": ("assign_pickup_driver", "operator"),
    "driver_assigned_pickup": ("confirm_pickup", "pickup"),
    "return_journey": ("complete_return", "pickup"),
    "rejected": ("review_rejection", "operator"),
}
TERMINAL = frozenset({"transport_completed", "cancelled", "auto_cancelled"})


def party_id(appt: dict[str, Any], party: str, operator_id: str) -> str | None:
    """The user id who acts for `party` on `appt` (None: nobody assigned)."""
    who: str | None = {"operator": operator_id,
                       "therapist": (appt.get("therapist_ids") or [None])[0],
                       "driver": appt.get("driver_id"),
                       "pickup": appt.get("pickup_driver_id")}[party]
    return who


def next_action(appt: dict[str, Any], rng: random.Random,
                reject_rate: float = 0.25) -> tuple[str, str]:
    """(action, party) for the appointment's status; a pending one is
    sometimes rejected instead of accepted."""
    action, party = NEXT[appt["status"]]
    if appt["status"] == "pending" and rng.random() < reject_rate:
        action = "reject"
    return action, party


def step_args(action: str, appt: dict[str, Any], rng: random.Random,
              therapists: Sequence[str], drivers: Sequence[str]) -> dict[str, Any]:
    """Valid args for `action` on `appt` (a reassignment names another therapist,
    who must be made available on the appointment's date first)."""
    if action == "reject":
        return {"reason": "clash"}
    if action == "review_rejection":
        decision = rng.choice(["deny", "accept", "reassign"])
        args: dict[str, Any] = {"decision": decision}
        if decision == "reassign":
            args["therapist_id"] = rng.choice([t for t in therapists
                                               if t not in appt["therapist_ids"]])
        return args
    if action == "verify_payment":
        return {"method": "gcash", "amount": 2000, "receipt_ref": "R-1"}
    if action == "request_pickup":
        return {"urgency": rng.choice(["normal", "urgent"])}
    if action == "assign_pickup_driver":
        return {"driver_id": rng.choice(list(drivers))}
    return {}


# --- headless clients doing side work with witnesses -----------------------------------

LISTS: dict[Entity, str] = {"appointment": "appointments", "availability": "availability",
                            "staff": "staff", "client": "clients", "service": "services",
                            "notification": "notifications", "material": "materials",
                            "stock_move": "stock_moves", "shift": "shifts"}


@dataclass
class Worker:
    client: Client
    name: str
    rng: random.Random
    mine: list[str] = field(default_factory=list)  # client records it created
    notes: list[str] = field(default_factory=list)  # every notes text it queued
    slots: list[str] = field(default_factory=list)  # every availability id it queued

    def act(self) -> None:
        c = self.client
        if c.actor.role == "operator":
            if not self.mine or self.rng.random() < 0.3:
                cid = str(uuid.uuid4())
                if c.dispatch_now("client.create", cid, {
                        "first_name": "Fleet", "last_name": self.name,
                        "phone": "+63 900 000 4444", "address": "7 Fleet St"}).ok:
                    self.mine.append(cid)
                return
            target = self.rng.choice(self.mine)
            text = f"{self.name}-{uuid.uuid4().hex[:10]}"
            if c.dispatch_now("client.update", target, {"notes": text}).ok:
                self.notes.append(text)
        else:
            sid = str(uuid.uuid4())
            if c.dispatch_now("availability.create", sid, {
                    "user_id": c.actor.id, "date": fresh_day(), "start_time": "09:00",
                    "end_time": "17:00", "available": True}).ok:
                self.slots.append(sid)


async def start_fleet(url_for: Any, names: list[str], root: Path,
                      seed: int) -> list[Worker]:
    workers = []
    for i, name in enumerate(names):
        client = await Client.start(url_for(i), name, DEMO_PASSWORD,
                                    data_dir=root / f"c{i}", timeout=10.0)
        workers.append(Worker(client, f"{name}{i}", random.Random(seed + i)))
    return workers


async def stop_all(workers: list[Worker]) -> None:
    await asyncio.gather(*(w.client.stop() for w in workers), return_exceptions=True)


# --- checks ----------------------------------------------------------------------------

def visible(client: Client) -> dict[tuple[str, str], int]:
    return {(entity, r["id"]): r["version"] for entity in LISTS for r in client.view().all(entity)}


def server_view(url: str, token: str) -> dict[tuple[str, str], int]:
    r = loopback.get(url + "/api/sync/bootstrap", headers={"Authorization": f"Bearer {token}"},
                  timeout=60)
    r.raise_for_status()
    boot = r.json()
    return {(entity, rec["id"]): rec["version"] for entity, key in LISTS.items()
            for rec in boot[key]}


async def converge(url: str, clients: Sequence[Client], timeout: float = 180) -> list[str]:
    """Wait until each client's store equals what the server's bootstrap gives its
    user. Returns what still differs after `timeout` (empty: all converged).
    Clients sharing a token (one user's devices) share one bootstrap per pass."""
    for c in clients:
        await c.wait_idle(timeout)
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    views: dict[str, dict[tuple[str, str], int]] = {}
    pending = list(clients)
    while pending and loop.time() < end:
        c = pending[0]
        token = c.session.token
        if token not in views:
            views[token] = await asyncio.to_thread(server_view, url, token)
        if visible(c) == views[token]:
            pending.pop(0)
            continue
        views.pop(token)  # maybe the server moved on: ask again
        await asyncio.sleep(0.5)
    problems = []
    for c in pending:
        want = await asyncio.to_thread(server_view, url, c.session.token)
        have = visible(c)
        if have != want:
            problems.append(f"{c.user.get('username')}: "
                            f"{sorted(set(have.items()) ^ set(want.items()))[:6]}")
    return problems


def witness_counts(database_url: str) -> tuple[dict[str, int], dict[str, int]]:
    """How often each `notes` text (client.update) and each availability id
    (availability.create) is in the server's SQLite event log."""
    con = sqlite3.connect(database_url.removeprefix("sqlite:///"))
    notes: dict[str, int] = {}
    slots: dict[str, int] = {}
    try:
        for entity, id, cause, raw in con.execute(
                "SELECT entity, id, cause, data FROM events ORDER BY seq"):
            if entity == "client" and cause == "client.update" and raw:
                text = orjson.loads(raw).get("notes")
                notes[text] = notes.get(text, 0) + 1
            if entity == "availability" and cause == "availability.create":
                slots[id] = slots.get(id, 0) + 1
    finally:
        con.close()
    return notes, slots


def witness_problems(database_url: str, notes: Iterable[str],
                     slots: Iterable[str]) -> list[str]:
    """Every witness queued (and not refused) is in the log exactly once."""
    in_log_notes, in_log_slots = witness_counts(database_url)
    problems = [f"notes {t!r} x{in_log_notes.get(t, 0)}" for t in notes
                if in_log_notes.get(t) != 1]
    problems += [f"slot {s} x{in_log_slots.get(s, 0)}" for s in slots
                 if in_log_slots.get(s) != 1]
    return problems
