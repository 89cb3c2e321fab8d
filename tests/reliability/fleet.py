"""Headless clients (the real services.client.Client) doing random valid work,
with exactly-once witnesses, and the checks that they converged.

Witnesses: every operator client edits only the client records it created, each
edit writing a unique `notes` text; every staff client adds availability slots
with fresh ids. A command applied twice would show up as two events carrying
the same witness, a lost one as none.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

from domain.records import Entity
from services.client import Client
from tests.reliability.wire import fresh_day
from tests.support.server import DEMO_PASSWORD, ServerProcess

LISTS: dict[Entity, str] = {"appointment": "appointments", "availability": "availability",
                            "staff": "staff", "client": "clients", "service": "services",
                            "notification": "notifications"}


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


def log_rows(srv: ServerProcess) -> list[dict[str, Any]]:
    con = sqlite3.connect(srv.database_url.removeprefix("sqlite:///"))
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute("SELECT * FROM events ORDER BY seq")]
    finally:
        con.close()


def check_exactly_once(srv: ServerProcess, workers: list[Worker]) -> int:
    """Every witness queued (and not refused) is in the log exactly once."""
    notes: dict[str, int] = {}
    slots: dict[str, int] = {}
    for row in log_rows(srv):
        data = orjson.loads(row["data"]) if row["data"] else None
        if row["entity"] == "client" and row["cause"] == "client.update" and data:
            notes[data.get("notes")] = notes.get(data.get("notes"), 0) + 1
        if row["entity"] == "availability" and row["cause"] == "availability.create":
            slots[row["id"]] = slots.get(row["id"], 0) + 1
    checked = 0
    for w in workers:
        assert not w.client.failed(), (w.name, [(e.name, e.error) for e in w.client.failed()])
        for text in w.notes:
            assert notes.get(text) == 1, (w.name, text, notes.get(text))
        for sid in w.slots:
            assert slots.get(sid) == 1, (w.name, sid, slots.get(sid))
        checked += len(w.notes) + len(w.slots)
    return checked


def visible(client: Client) -> dict[tuple[str, str], int]:
    return {(entity, r["id"]): r["version"] for entity in LISTS for r in client.view.all(entity)}


def server_view(srv: ServerProcess, token: str) -> dict[tuple[str, str], int]:
    r = httpx.get(srv.url + "/api/sync/bootstrap", headers={"Authorization": f"Bearer {token}"},
                  timeout=60)
    r.raise_for_status()
    boot = r.json()
    return {(entity, rec["id"]): rec["version"] for entity, key in LISTS.items()
            for rec in boot[key]}


async def converge(srv: ServerProcess, workers: list[Worker], timeout: float = 180) -> None:
    """Each client's store equals what the server's bootstrap gives its user."""
    for w in workers:
        await w.client.wait_idle(timeout)
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    pending = list(workers)
    diff: Any = None
    while pending:
        w = pending[0]
        want = await asyncio.to_thread(server_view, srv, w.client.session.token)
        have = visible(w.client)
        if have == want:
            pending.pop(0)
            continue
        diff = (w.name, sorted(set(have.items()) ^ set(want.items()))[:6])
        assert loop.time() < end, f"client did not converge: {diff}"
        await asyncio.sleep(0.5)


async def stop_all(workers: list[Worker]) -> None:
    await asyncio.gather(*(w.client.stop() for w in workers), return_exceptions=True)


def check_database(srv: ServerProcess) -> None:
    """The SQLite file is intact and its event log gap-free up to the head."""
    con = sqlite3.connect(srv.database_url.removeprefix("sqlite:///"))
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        seqs = [r[0] for r in con.execute("SELECT seq FROM events ORDER BY seq")]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "gap in the event log"
        assert con.execute("SELECT seq FROM log_head").fetchone()[0] == seqs[-1]
    finally:
        con.close()
