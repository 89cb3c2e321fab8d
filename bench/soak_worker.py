"""One process hosting K headless Tandem clients (real services/ + store/) that
do random valid work at a human pace, for bench.soak.

Driven over stdin/stdout, one JSON object per line:

    argv  a JSON file with the config: url, logins {username: login answer}, root, index,
          teams, solo [usernames], think (mean seconds between looks), seed,
          day_base
    out   {"ready": online, "clients": K}
    in    {"op": "go", "until": s}      start acting; stop by itself after s
    in    {"op": "sample"}   out {"sample": {...}}   what happened since the last one
    in    {"op": "stop", "wait": s}   out {"stopped": {...}}  stop acting, outboxes drained
    in    {"op": "converge", "timeout": s}   out {"converged": {...}}
    EOF   stop the clients and exit

Clients come in teams of six, one device for each staff-seed user (operator,
three therapists, two drivers). A team's operator books on fresh days, and
each step of a team's appointment is taken by that team's device of the user
whose turn it is, after it saw the step before in its own store. So no two
devices ever race for the same record and every command is one the server
should apply: anything refused is an error. Clients beyond whole teams
("solo") only do side work (testkit.workload.Worker).

Times are time.monotonic() (CLOCK_MONOTONIC is one clock for all processes of
the machine), so bench.soak can pair a send here with an arrival elsewhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import logging
import os
import random
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from bench.clients import emit, resume, start_in_batches, stop_all
from bench.common import rss_bytes
from services.client import Client, Dispatched
from store.cache import Key
from store.changed import RecordChange
from store.messages import Message
from testkit.workload import (
    TERMINAL,
    Worker,
    converge,
    fresh_day,
    next_action,
    party_id,
    start_days_at,
    step_args,
)

TEAM = ("operator", "therapist1", "driver1", "therapist2", "driver2", "therapist3")
MAX_OPEN = 2  # appointments a team's operator keeps going at once
REJECT_RATE = 0.1
SIDE_WORK = 0.3  # chance that a look with nothing to do for the team ends in side work
TRACKED = frozenset({"appointment", "availability", "client", "staff"})


@dataclass
class Stats:
    """What happened since the last sample (everything but the totals is reset)."""
    cmd: list[tuple[float, float]] = field(default_factory=list)  # (t ack, ms)
    sent: dict[str, float] = field(default_factory=dict)  # "id:version" -> t dispatch
    arrivals: defaultdict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    counts: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)  # server said no: code -> n
    retried: Counter[str] = field(default_factory=Counter)  # no answer / 5xx: code -> n
    causes: Counter[str] = field(default_factory=Counter)  # failed HTTP steps, by exception
    not_queued: Counter[str] = field(default_factory=Counter)  # domain said no locally

    def take(self) -> dict[str, Any]:
        out = {"cmd": self.cmd, "sent": self.sent, "arrivals": self.arrivals,
               "counts": dict(self.counts), "refused": dict(self.refused),
               "retried": dict(self.retried), "causes": dict(self.causes),
               "not_queued": dict(self.not_queued)}
        self.cmd, self.sent, self.arrivals = [], {}, defaultdict(list)
        self.counts, self.refused, self.not_queued = Counter(), Counter(), Counter()
        self.retried, self.causes = Counter(), Counter()
        return out


STATS = Stats()


class Retries(logging.Handler):
    """Counts the sender's "keeping seq for later" (5xx, network error), by code."""

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("sender: keeping seq"):
            STATS.counts["retried"] += 1
            verdict = record.args[1] if isinstance(record.args, tuple) else None
            STATS.retried[str(getattr(verdict, "code", "?"))] += 1


class TransportFailures(logging.Handler):
    """Why a request got no answer: httpcore's own trace ("….failed
    exception=RemoteProtocolError(…)"), counted by exception class."""

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if ".failed exception=" in text:
            cause = text.split(".failed exception=", 1)[1].split("(", 1)[0]
            STATS.causes[f"{text.split('.failed', 1)[0]}: {cause}"] += 1


class Stalls:
    """How long this process's event loop and garbage collector held everyone
    up: many clients share one process here, unlike phones (each sample: the
    worst loop lag and the GC time, ms)."""

    def __init__(self) -> None:
        self.lag_max = 0.0
        self.gc_ms = 0.0
        self.gc_max = 0.0
        self._gc_t = 0.0
        gc.callbacks.append(self._gc)

    def _gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_t = time.perf_counter()
        elif self._gc_t:
            ms = (time.perf_counter() - self._gc_t) * 1000
            self.gc_ms += ms
            self.gc_max = max(self.gc_max, ms)

    async def watch_loop(self, every: float = 0.05) -> None:
        while True:
            t = time.monotonic()
            await asyncio.sleep(every)
            self.lag_max = max(self.lag_max, (time.monotonic() - t - every) * 1000)

    def take(self) -> dict[str, float]:
        out = {"lag_max": self.lag_max, "gc_ms": self.gc_ms, "gc_max": self.gc_max}
        self.lag_max = self.gc_ms = self.gc_max = 0.0
        return out


class SoakClient(Client):
    """The real client, timing each dispatch for the latency figures."""

    dispatching = False
    own: set[str]
    t0: dict[int, float]

    def dispatch_now(self, name: str, target: str | None = None,
                     args: Mapping[str, Any] | None = None) -> Dispatched:
        t = time.monotonic()
        self.dispatching = True  # its own optimistic change is not an arrival
        try:
            result = super().dispatch_now(name, target, args)
        finally:
            self.dispatching = False
        if not result.ok:
            STATS.not_queued[result.error.code if result.error else "?"] += 1
            return result
        STATS.counts["dispatched"] += 1
        if result.seq is not None:
            self.t0[result.seq] = t
        if result.record is not None:
            key = f"{result.record['id']}:{result.record['version']}"
            self.own.add(key)
            STATS.sent[key] = t
        return result

    def watch_all(self) -> None:
        self.own, self.t0 = set(), {}
        self.on_change(self._changed)
        self.on_message(self._told)
        self.on_status(self._link)

    def _changed(self, changes: Mapping[Key, RecordChange]) -> None:
        if self.dispatching:
            return
        now = time.monotonic()
        for (entity, _), (_, after) in changes.items():
            if after is not None and entity in TRACKED:
                key = f"{after['id']}:{after['version']}"
                if key not in self.own:
                    STATS.arrivals[key].append(now)

    def _told(self, message: Message) -> None:
        if message.kind == "success" and message.seq is not None:
            t = self.t0.pop(message.seq, None)
            if t is not None:
                now = time.monotonic()
                STATS.cmd.append((now, (now - t) * 1000))
            STATS.counts["applied"] += 1
        elif message.kind == "rollback":
            STATS.refused[message.code or "?"] += 1
        else:
            STATS.counts[message.kind] += 1  # conflict (a warning) / problem

    def _link(self, status: str) -> None:
        if status != "online":
            STATS.counts["link_lost"] += 1


@dataclass
class Team:
    tag: str
    users: dict[str, str]  # username -> user id
    devices: dict[str, Device] = field(default_factory=dict)  # user id -> device
    appts: set[str] = field(default_factory=set)  # booked by this team, not yet over

    @property
    def therapists(self) -> list[str]:
        return [self.users[u] for u in TEAM if u.startswith("therapist")]

    @property
    def drivers(self) -> list[str]:
        return [self.users[u] for u in TEAM if u.startswith("driver")]


@dataclass
class Device:
    worker: Worker
    team: Team | None

    @property
    def client(self) -> SoakClient:
        c = self.worker.client
        assert isinstance(c, SoakClient)
        return c

    def look(self) -> None:
        """One look at the screen: take a turn, book, maybe do side work."""
        if self.team is not None:
            if self.take_turn():
                return
            if self.client.actor.role == "operator" and len(self.team.appts) < MAX_OPEN:
                self.book()
                return
        if self.worker.rng.random() < SIDE_WORK:
            self.side_work()

    def side_work(self) -> None:
        c, rng = self.client, self.worker.rng
        pick = rng.random()
        if c.actor.role != "operator" and pick < 0.25 and any(
                not n.get("read") for n in c.view().all("notification")):
            c.dispatch_now("notification.mark_all_read")
            return
        if c.actor.role != "operator" and pick > 0.9:
            c.dispatch_now("staff.set_duty", c.actor.id, {"on_duty": True})
            return
        self.worker.act()  # witnessed: a client record edit, or an availability slot

    def take_turn(self) -> bool:
        assert self.team is not None
        c, team = self.client, self.team
        me = c.actor.id
        mine = []
        for aid in list(team.appts):
            appt = c.get("appointment", aid)
            if appt is None or c.is_pending("appointment", aid):
                continue
            if appt["status"] in TERMINAL:
                if c.actor.role == "operator":  # it sees them all: the team's books
                    team.appts.discard(aid)
                continue
            _, party = next_action(appt, self.worker.rng, 0.0)
            if party_id(appt, party, team.users["operator"]) == me:
                mine.append(appt)
        if not mine:
            return False
        self.step(self.worker.rng.choice(mine))
        return True

    def step(self, appt: dict[str, Any]) -> None:
        assert self.team is not None
        c, rng, team = self.client, self.worker.rng, self.team
        status = appt["status"]
        if status == "pickup_requested":
            # No driver was free when the therapist asked (two drivers for the
            # whole fleet). Assigning one by hand could race another team's
            # operator for the same driver; the client goes home by taxi.
            c.dispatch_now("appointment.cancel", appt["id"], {"reason": "no driver free"})
            return
        if status == "driver_confirmed":
            pick = rng.random()
            if pick < 0.05:
                c.dispatch_now("appointment.cancel", appt["id"], {"reason": "client cancelled"})
                return
            if pick < 0.15:  # swap the driver: the old one must lose sight of it
                drivers = [d for d in team.drivers if d != appt.get("driver_id")]
                c.dispatch_now("appointment.update", appt["id"],
                               {"driver_id": rng.choice(drivers)})
                return
        action, _ = next_action(appt, rng, REJECT_RATE)
        args = step_args(action, appt, rng, team.therapists, team.drivers)
        other = args.get("therapist_id")
        if other and not any(a.get("user_id") == other and a.get("date") == appt["date"]
                             for a in c.view().all("availability")):
            c.dispatch_now("availability.create", str(uuid.uuid4()), {
                "user_id": other, "date": appt["date"], "start_time": "06:00",
                "end_time": "23:30", "available": True})
        c.dispatch_now("appointment." + action, appt["id"], args)

    def book(self) -> None:
        assert self.team is not None
        c, rng, team = self.client, self.worker.rng, self.team
        day, therapist = fresh_day(), rng.choice(team.therapists)
        clients = [r["id"] for r in itertools.islice(c.view().all("client"), 20)]
        services = sorted(r["id"] for r in c.view().all("service"))
        if not clients or not services:
            return
        c.dispatch_now("availability.create", str(uuid.uuid4()), {
            "user_id": therapist, "date": day, "start_time": "06:00", "end_time": "23:30",
            "available": True})
        aid = str(uuid.uuid4())
        if c.dispatch_now("appointment.create", aid, {
                "client_id": rng.choice(clients), "service_ids": [services[0]],
                "therapist_ids": [therapist], "driver_id": rng.choice(team.drivers),
                "date": day, "start_time": "10:00", "end_time": "11:00",
                "location": "5 Soak St, Loopback", "notes": team.tag}).ok:
            team.appts.add(aid)


async def start_devices(cfg: dict[str, Any]) -> list[Device]:
    url, root = cfg["url"], Path(cfg["root"])
    logins: dict[str, dict[str, Any]] = cfg["logins"]
    users = {name: str(body["user"]["id"]) for name, body in logins.items()}
    plan: list[tuple[str, Team | None]] = []
    for t in range(int(cfg["teams"])):
        team = Team(f"soak p{cfg['index']} t{t}", users)
        plan += [(name, team) for name in TEAM]
    plan += [(name, None) for name in cfg["solo"]]

    async def one(i: int) -> Device:
        name, team = plan[i]
        rng = random.Random(int(cfg["seed"]) * 1000 + i)
        # The cache is saved every 30-60 s, not every 0.5 s, and not in step:
        # 50 devices in one process would otherwise measure JSON dumps.
        client = await resume(SoakClient, url, name, logins[name], root / f"c{i}",
                              flush_interval=rng.uniform(30.0, 60.0))
        client.watch_all()
        device = Device(Worker(client, f"p{cfg['index']}c{i}", rng), team)
        if team is not None:
            team.devices[client.actor.id] = device
        return device

    return await start_in_batches(len(plan), one, lambda d: d.client, 300)


async def act(device: Device, think: float, until: float) -> None:
    rng = device.worker.rng
    await asyncio.sleep(rng.uniform(0, think))  # spread the first looks out
    while time.monotonic() < until:
        try:
            device.look()
        except Exception:
            STATS.counts["exceptions"] += 1
            logging.getLogger("bench.soak").exception("a device's look failed")
        await asyncio.sleep(rng.expovariate(1 / think))


def sample(devices: list[Device], stalls: Stalls) -> dict[str, Any]:
    out = STATS.take()
    out.update(stalls.take())
    out["online"] = sum(d.client.status == "online" for d in devices)
    out["queued"] = sum(len(d.client.queued()) for d in devices)
    out["rss"] = rss_bytes(os.getpid())
    return out


async def main(cfg: dict[str, Any]) -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    sender_log = logging.getLogger("services.sender")
    sender_log.setLevel(logging.INFO)
    sender_log.addHandler(Retries())
    transport_log = logging.getLogger("httpcore")
    transport_log.setLevel(logging.DEBUG)
    transport_log.propagate = False  # counted, not printed
    transport_log.addHandler(TransportFailures())
    start_days_at(int(cfg["day_base"]))
    stalls = Stalls()
    devices = await start_devices(cfg)
    watcher = asyncio.create_task(stalls.watch_loop())
    clients = [d.client for d in devices]
    emit({"ready": sum(c.status == "online" for c in clients), "clients": len(clients)})
    loops: list[asyncio.Task[None]] = []
    try:
        while True:
            line = await asyncio.to_thread(sys.stdin.readline)
            if not line:
                return
            cmd = orjson.loads(line)
            op = cmd["op"]
            if op == "go":
                until = time.monotonic() + float(cmd["until"])
                loops = [asyncio.create_task(act(d, float(cfg["think"]), until))
                         for d in devices]
            elif op == "sample":
                emit({"sample": sample(devices, stalls)})
                # A full collection would rescan every client's store in this
                # process (50 here, one on a phone): keep what survived so far
                # out of later collections.
                gc.freeze()
            elif op == "stop":
                for task in loops:
                    task.cancel()
                await asyncio.gather(*loops, return_exceptions=True)
                idle = 0
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(float(cmd.get("wait", 120))):
                        for c in clients:
                            await c.wait_idle(3600)
                            idle += 1
                final = sample(devices, stalls)
                final["idle"] = idle
                final["failed"] = sum(len(c.failed()) for c in clients)
                final["notes"] = [t for d in devices for t in d.worker.notes]
                final["slots"] = [s for d in devices for s in d.worker.slots]
                emit({"stopped": final})
            elif op == "converge":
                problems = await converge(cfg["url"], clients, float(cmd.get("timeout", 120)))
                emit({"converged": {"clients": len(clients), "problems": problems}})
    finally:
        watcher.cancel()
        for task in loops:
            task.cancel()
        await stop_all(clients, 30)


if __name__ == "__main__":
    asyncio.run(main(orjson.loads(Path(sys.argv[1]).read_bytes())))
