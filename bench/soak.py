"""7. Soak: N headless clients doing random valid work at a human pace against
one server process for M minutes (`python -m bench soak`; not part of `all`).

The clients are the real services.client.Client on store.Store, spread over
worker processes of at most PER_PROCESS (bench.soak_worker), in teams of six
devices, one per staff-seed user: a team's operator books on fresh days and
each step of a team's appointment (accept or reject, confirm, start, journey,
payment, pickup, return; reviews, reassignments, driver swaps, cancellations)
is taken by the team's device whose turn it is, after it saw the step before
in its own store; every device also does side work now and then (client
records, availability, duty, marking notifications read). Each device looks
at its screen every `think` seconds on average (exponential). No two devices
race for a record, so every command should be applied: a refusal is an error.
With two drivers for the whole fleet a driver is seldom free when a pickup is
requested; the team's operator then cancels it (assigning one by hand could
race another team's operator). No server job runs during the soak.

Every SAMPLE_S seconds: the server's RSS and CPU (/proc), the load average,
and from the workers what was acknowledged and delivered since the last
sample. Command latency = tap (dispatch) -> the server's answer arrives in
that client's store. Propagation latency = tap on A -> the resulting record
version applied in B's store, over every other device that sees it
(time.monotonic(), one clock for every process of the machine). Both include
the clients' side: up to 50 clients share a worker process and its event loop
(on a phone, one), so each worker also reports its worst event-loop lag and
GC pause per sample, and freezes its heap after each sample (gc.freeze) so a
full collection doesn't rescan 50 clients' stores. A request that got no
answer at all is resent by the client (same client_id and seq); those are
counted apart from errors, with httpcore's reason.

At the end the devices stop, their outboxes drain, and each client's store
must equal the server's bootstrap for its user; every witness (client
record note, availability id) must be in the event log exactly once.
Memory is flat if the average RSS of the last minute, and the highest
sample after the warm-up minute, are within 10 % of the first minute after
the warm-up (for runs under 4 minutes a "minute" is a quarter of the run).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from bench.common import (
    ROOT,
    client_create,
    cpu_seconds,
    login,
    pct,
    pid_of,
    rss_bytes,
    start_server,
)
from bench.propagation import _read
from bench.report import Result, figure, table
from bench.soak_worker import TEAM
from testkit import loopback
from testkit.server import ServerProcess
from testkit.workload import LISTS, witness_problems

PER_PROCESS = 50
SAMPLE_S = 10.0
TARGET_RSS_PCT = 10.0
RING = 10_000  # events the server's hub keeps in memory (server/hub.py, ring_size)
SECTION = Path(__file__).with_name("soak.md")  # kept in BENCHMARKS.md by bench.markdown
NOTES = Path(__file__).with_name("soak_notes.md")  # hand-written: what the runs showed
BEGIN, END = "<!-- soak:begin -->", "<!-- soak:end -->"


@dataclass
class Sample:
    k: int  # 1, 2, ...: covers ((k - 1) * sample_s, k * sample_s] after the start
    t: float  # seconds since the devices started
    rss: int  # server, bytes
    cpu: float  # server CPU over the interval, % of one core
    load: float  # 1-minute load average
    cmd: list[float] = field(default_factory=list)  # ms, acknowledged in this interval
    prop: list[float] = field(default_factory=list)  # ms, delivered in this interval
    probe: list[float] = field(default_factory=list)  # ms, server round trips (Probe)
    applied: int = 0
    refused: int = 0
    retried: int = 0
    link_lost: int = 0
    exceptions: int = 0
    problems: int = 0
    online: int = 0
    queued: int = 0
    workers_rss: int = 0
    seq: int = 0  # events in the server's log
    records: int = 0  # distinct records in the server's log (the server keeps them in memory)
    lag_max: float = 0.0  # worst event-loop lag of any worker process, ms
    gc_max: float = 0.0  # longest GC pause of any worker process, ms


@dataclass
class Soak:
    """Everything a run measured (the report and the plot are made from this)."""

    clients: int
    minutes: float
    think: float
    sample_s: float
    procs: int = 0
    online_at_start: int = 0
    samples: list[Sample] = field(default_factory=list)
    dispatched: int = 0
    refused: dict[str, int] = field(default_factory=dict)
    retried: dict[str, int] = field(default_factory=dict)
    causes: dict[str, int] = field(default_factory=dict)  # failed HTTP steps (httpcore)
    not_queued: dict[str, int] = field(default_factory=dict)
    unmatched: int = 0  # arrivals of versions no command had as its own record (side effects)
    idle: int = 0
    failed: int = 0
    not_converged: list[str] = field(default_factory=list)
    witnesses: int = 0
    witness_problems: list[str] = field(default_factory=list)
    server_records: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)  # appointments at the end
    events: int = 0
    seq_at_start: int = 0  # events in the log before the devices started (the seed's)
    server_log_errors: int = 0
    load_start: str = ""
    load_end: str = ""
    seconds: float = 0.0
    failure: str = ""

    @property
    def window(self) -> float:
        """The "minute" of the report: 60 s, or a quarter of a short run
        (a whole number of samples)."""
        w = min(60.0, self.minutes * 60 / 4)
        return max(1, round(w / self.sample_s)) * self.sample_s

    def bins(self) -> list[list[Sample]]:
        """Samples per window (index 0 is the warm-up)."""
        out: list[list[Sample]] = []
        for s in self.samples:
            i = int((s.k - 1) * self.sample_s // self.window)
            while len(out) <= i:
                out.append([])
            out[i].append(s)
        return out

    def total(self, name: str) -> int:
        return sum(int(getattr(s, name)) for s in self.samples)


class Workers:
    """The worker processes, one JSON line each way."""

    def __init__(self, cfgs: list[dict[str, Any]], logs: Path) -> None:
        self.procs: list[subprocess.Popen[str]] = []
        self.logs: list[Path] = []
        for cfg in cfgs:
            log = logs / f"worker-{cfg['index']}.log"
            self.logs.append(log)
            conf = logs / f"worker-{cfg['index']}.json"  # tokens stay off the command line
            conf.write_text(json.dumps(cfg))
            with log.open("w") as err:
                self.procs.append(subprocess.Popen(
                    [sys.executable, "-m", "bench.soak_worker", str(conf)], cwd=ROOT,
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, text=True))

    def send(self, msg: dict[str, Any]) -> None:
        for p in self.procs:
            assert p.stdin is not None
            p.stdin.write(json.dumps(msg) + "\n")
            p.stdin.flush()

    def ask(self, msg: dict[str, Any], key: str, timeout: float) -> list[Any]:
        self.send(msg)
        return [self.read(p.stdout, key, timeout) for p in self.procs]

    def read(self, out: IO[str] | None, key: str, timeout: float) -> Any:
        assert out is not None
        try:
            return _read(out, timeout)[key]
        except (TimeoutError, RuntimeError) as exc:
            raise RuntimeError(f"{exc}; {self.tail()}") from exc

    def tail(self) -> str:
        return " | ".join(log.read_text(errors="replace")[-600:] for log in self.logs
                          if log.exists() and log.stat().st_size)

    def close(self) -> None:
        for p in self.procs:
            if p.stdin is not None:
                p.stdin.close()
        for p in self.procs:
            try:
                p.wait(60)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


class Probe:
    """An idle process's view of the server: a few operator commands per sample
    over plain HTTP from this (otherwise sleeping) process, so the server's
    round trip shows without the worker processes' own delays."""

    def __init__(self, url: str, token: str) -> None:
        self.http = loopback.Client(base_url=url, timeout=60,
                                 headers={"Authorization": f"Bearer {token}"})
        self.client_id, self.seq = str(uuid.uuid4()), 0
        self.target, self.version = str(uuid.uuid4()), 0
        self.post(client_create(self.client_id, 0, self.target))
        self.version = 1

    def post(self, body: dict[str, Any]) -> float:
        t = time.monotonic()
        r = self.http.post("/api/commands", json=body)
        ms = (time.monotonic() - t) * 1000
        if r.status_code != 200:
            raise RuntimeError(f"probe command refused: {r.status_code} {r.text[:200]}")
        return ms

    def measure(self, n: int, sent: dict[str, float]) -> list[float]:
        out = []
        for _ in range(n):
            self.seq += 1
            sent[f"{self.target}:{self.version + 1}"] = time.monotonic()  # devices see it too
            out.append(self.post({
                "client_id": self.client_id, "seq": self.seq, "name": "client.update",
                "target": self.target, "base_version": self.version,
                "args": {"notes": f"probe {self.seq}"}}))
            self.version += 1
        return out

    def close(self) -> None:
        self.http.close()


def plan(clients: int, procs: int) -> list[tuple[int, list[str]]]:
    """(teams, solo usernames) per worker process: whole teams of six spread
    evenly, the remainder as solo devices on the last process."""
    teams, solo = divmod(clients, len(TEAM))
    split = [teams // procs + (1 if i < teams % procs else 0) for i in range(procs)]
    return [(k, list(TEAM[:solo]) if i == procs - 1 else []) for i, k in enumerate(split)]


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def run(clients: int = 200, minutes: float = 10.0, think: float = 5.0,
        sample_s: float = SAMPLE_S, out_dir: Path | None = None,
        seed: int = 7, png: str = "soak.png") -> tuple[Result, Soak]:
    started = time.monotonic()
    soak = Soak(clients, minutes, think, sample_s, load_start=_load())
    never = str(int(minutes * 60 * 10 + 3600))  # no server job runs during the soak
    srv = start_server("staff", args=("--pickup-interval", never, "--auto-cancel-interval",
                                      never, "--response-minutes", "1440"))
    try:
        with tempfile.TemporaryDirectory(prefix="tandem-soak-") as tmp:
            _soak(srv, soak, Path(tmp), seed)
    except Exception as exc:  # report what was measured so far
        soak.failure = repr(exc)[:600]
    finally:
        soak.server_log_errors = sum(("Traceback" in line or " ERROR " in line)
                                     for line in srv.output().splitlines())
        srv.close()
        soak.load_end = _load()
        soak.seconds = time.monotonic() - started
    res = report(soak)
    if out_dir is not None and soak.samples:
        res.plots.append(plot(soak, out_dir / png))
    return res, soak


def _soak(srv: ServerProcess, soak: Soak, tmp: Path, seed: int) -> None:
    sample_s = soak.sample_s
    logins = {name: login(srv.url, name) for name in TEAM}
    soak.procs = max(1, math.ceil(soak.clients / PER_PROCESS))
    day_span = 2_000_000 // soak.procs  # fresh days of different processes never meet
    cfgs = [{"url": srv.url, "logins": logins, "root": str(tmp / f"p{i}"), "index": i,
             "teams": teams, "solo": solo, "think": soak.think, "seed": seed * 100 + i,
             "day_base": i * day_span}
            for i, (teams, solo) in enumerate(plan(soak.clients, soak.procs))]
    workers = Workers(cfgs, tmp)
    try:
        ready = [workers.read(p.stdout, "ready", 600) for p in workers.procs]
        soak.online_at_start = sum(ready)
        duration = soak.minutes * 60
        pid = pid_of(srv)
        sent: dict[str, float] = {}
        waiting: dict[str, tuple[list[float], int]] = {}  # arrivals not paired yet, age
        db = sqlite3.connect(f"file:{srv.database_url.removeprefix('sqlite:///')}?mode=ro",
                             uri=True)
        probe = Probe(srv.url, logins["operator"]["token"])
        soak.seq_at_start = db.execute("SELECT count(*) FROM events").fetchone()[0]
        workers.send({"op": "go", "until": duration + 120})  # bounded even if we vanish
        t_go = time.monotonic()
        cpu0, t0 = cpu_seconds(pid), t_go
        tick = 1
        while True:
            time.sleep(max(0.0, t_go + tick * sample_s - time.monotonic()))
            if srv.proc is not None and srv.proc.poll() is not None:
                raise RuntimeError(f"the server exited: {srv.output()[-1000:]}")
            now = time.monotonic()
            cpu1 = cpu_seconds(pid)
            s = Sample(tick, now - t_go, rss_bytes(pid), (cpu1 - cpu0) / max(1e-6, now - t0) * 100,
                       os.getloadavg()[0])
            cpu0, t0 = cpu1, now
            s.seq, s.records = db.execute(
                "SELECT count(*), count(DISTINCT entity || ':' || id) FROM events").fetchone()
            s.probe = probe.measure(3, sent)
            _merge(soak, s, workers.ask({"op": "sample"}, "sample", 180), sent, waiting)
            soak.samples.append(s)
            print(f"  soak {s.t:5.0f} s: server {s.rss / 2**20:6.1f} MB, cpu {s.cpu:4.0f} %, "
                  f"{s.applied / sample_s:5.1f} cmd/s, cmd p50 {pct(s.cmd, 50):6.1f} ms, "
                  f"prop p50 {pct(s.prop, 50):6.1f} ms, load {s.load:.1f}, "
                  f"worker lag {s.lag_max:.0f} ms, gc {s.gc_max:.0f} ms, "
                  f"errors {s.refused + s.retried + s.exceptions + s.problems}", flush=True)
            if tick * sample_s >= duration - 1e-6:
                break
            tick += 1
        db.close()
        probe.close()
        stopped = workers.ask({"op": "stop", "wait": 120}, "stopped", 400)
        last = Sample(tick + 1, time.monotonic() - t_go, rss_bytes(pid), 0.0, os.getloadavg()[0])
        _merge(soak, last, stopped, sent, waiting)
        soak.samples[-1].cmd += last.cmd  # the drain's tail counts, but makes no sample
        soak.samples[-1].prop += last.prop
        for name in ("applied", "refused", "retried", "link_lost", "exceptions", "problems"):
            setattr(soak.samples[-1], name, getattr(soak.samples[-1], name) + getattr(last, name))
        soak.unmatched += sum(len(v[0]) for v in waiting.values())
        soak.idle = sum(int(x["idle"]) for x in stopped)
        soak.failed = sum(int(x["failed"]) for x in stopped)
        converged = workers.ask({"op": "converge", "timeout": 180}, "converged", 900)
        soak.not_converged = [p for x in converged for p in x["problems"]]
        notes = [t for x in stopped for t in x["notes"]]
        slots = [i for x in stopped for i in x["slots"]]
        soak.witnesses = len(notes) + len(slots)
        soak.witness_problems = witness_problems(srv.database_url, notes, slots)
        boot = loopback.get(srv.url + "/api/sync/bootstrap", timeout=120, headers={
            "Authorization": f"Bearer {logins['operator']['token']}"}).json()
        soak.server_records = {key: len(boot[key]) for key in LISTS.values()}
        for appt in boot["appointments"]:
            soak.statuses[appt["status"]] = soak.statuses.get(appt["status"], 0) + 1
        con = sqlite3.connect(srv.database_url.removeprefix("sqlite:///"))
        try:
            soak.events = int(con.execute("SELECT count(*) FROM events").fetchone()[0])
        finally:
            con.close()
    finally:
        workers.close()


def _merge(soak: Soak, s: Sample, answers: list[dict[str, Any]], sent: dict[str, float],
           waiting: dict[str, tuple[list[float], int]]) -> None:
    """Fold the workers' answers into sample `s`; pair sends with arrivals."""
    for a in answers:
        sent.update(a["sent"])
        s.cmd += [ms for _, ms in a["cmd"]]
        c = a["counts"]
        soak.dispatched += int(c.get("dispatched", 0))
        s.applied += int(c.get("applied", 0))
        s.retried += int(c.get("retried", 0))
        s.link_lost += int(c.get("link_lost", 0))
        s.exceptions += int(c.get("exceptions", 0))
        s.problems += int(c.get("problem", 0))
        s.refused += sum(a["refused"].values())
        for code, n in a["refused"].items():
            soak.refused[code] = soak.refused.get(code, 0) + n
        for code, n in a["retried"].items():
            soak.retried[code] = soak.retried.get(code, 0) + n
        for cause, n in a["causes"].items():
            soak.causes[cause] = soak.causes.get(cause, 0) + n
        s.lag_max = max(s.lag_max, float(a["lag_max"]))
        s.gc_max = max(s.gc_max, float(a["gc_max"]))
        for code, n in a["not_queued"].items():
            soak.not_queued[code] = soak.not_queued.get(code, 0) + n
        s.online += int(a["online"])
        s.queued += int(a["queued"])
        s.workers_rss += int(a["rss"])
        for key, times in a["arrivals"].items():
            waiting.setdefault(key, ([], 0))[0].extend(times)
    for key in list(waiting):
        times, age = waiting[key]
        if key in sent:
            s.prop += [(t - sent[key]) * 1000 for t in times]
            del waiting[key]
        elif age >= 3:  # no command's own record: a side effect (a driver's idle stamp)
            soak.unmatched += len(times)
            del waiting[key]
        else:
            waiting[key] = (times, age + 1)


def _ratio(a: float, b: float) -> float:
    return a / b if b and not math.isnan(a) and not math.isnan(b) else float("nan")


def verdicts(soak: Soak) -> dict[str, float]:
    """The headline figures (NaN where a run was too short to have them)."""
    bins = soak.bins()
    first = bins[1] if len(bins) > 2 else []
    last = bins[-1] if len(bins) > 2 else []
    after = [s for b in bins[1:] for s in b]
    mb = 2**20

    def avg(ss: list[Sample]) -> float:
        return sum(s.rss for s in ss) / len(ss) / mb if ss else float("nan")

    def p(ss: list[Sample], attr: str, q: float) -> float:
        return pct([x for s in ss for x in getattr(s, attr)], q)

    r_first, r_last = avg(first), avg(last)
    added = (sum(s.records for s in last) / len(last) - sum(s.records for s in first) / len(first)
             if first and last else 0)
    r_max = max((s.rss for s in after), default=0) / mb or float("nan")
    mid = bins[len(bins) // 2] if len(bins) > 3 else []
    late = (sum(s.records for s in last) / len(last) - sum(s.records for s in mid) / len(mid)
            if mid and last else 0)
    ring = next((s.t for s in soak.samples if s.seq - soak.seq_at_start >= RING), float("nan"))
    return {
        "rss_first": r_first, "rss_last": r_last, "rss_max": r_max,
        "rss_growth": (_ratio(r_last, r_first) - 1) * 100,
        "rss_max_growth": (_ratio(r_max, r_first) - 1) * 100,
        "records_added": added,
        "kib_per_record": _ratio((r_last - r_first) * 1024, added),
        "late_kib_per_record": _ratio((r_last - avg(mid)) * 1024, late),
        "ring_full_s": ring,
        "cmd_p95_drift": _ratio(p(last, "cmd", 95), p(first, "cmd", 95)),
        "prop_p95_drift": _ratio(p(last, "prop", 95), p(first, "prop", 95)),
    }


def report(soak: Soak) -> Result:
    res = Result("soak")
    v = verdicts(soak)
    after = [s for b in soak.bins()[1:] for s in b]
    cmd = [x for s in after for x in s.cmd]
    prop = [x for s in after for x in s.prop]
    applied = soak.total("applied")
    network = soak.retried.get("network", 0)  # no answer at all: resent, same (client_id, seq)
    errors = (soak.total("refused") + soak.total("retried") - network
              + soak.total("exceptions") + soak.total("problems") + soak.failed
              + soak.server_log_errors)
    w = int(soak.window)
    res.add("clients online at start", soak.online_at_start, "",
            note=f"of {soak.clients:,}; worker processes: {soak.procs}; "
                 f"a look every {soak.think:g} s on average per client")
    res.add("commands applied", applied, "",
            note=f"{applied / max(1.0, soak.minutes * 60):.1f}/s over {soak.minutes:g} min; "
                 f"{soak.dispatched:,} queued; {soak.events:,} events in the log")
    res.add(f"server RSS: last {w} s vs first {w} s after warm-up", v["rss_growth"], "%",
            TARGET_RSS_PCT, note=f"{v['rss_first']:.1f} MB -> {v['rss_last']:.1f} MB, while "
            f"{v['records_added']:,.0f} records were added ({v['kib_per_record']:.1f} KiB each)")
    res.add(f"server RSS: highest sample vs first {w} s after warm-up", v["rss_max_growth"],
            "%", TARGET_RSS_PCT, note=f"max {v['rss_max']:.1f} MB")
    res.add("server RSS growth per record added, second half of the run",
            v["late_kib_per_record"], "KiB",
            note="the server keeps every current record in memory (server/state.py) and the "
                 f"last {RING:,} events (server/hub.py); that ring was full at "
                 + (f"{v['ring_full_s'] / 60:.1f} min" if not math.isnan(v["ring_full_s"])
                    else "no point of this run"))
    res.add("command p50 (tap -> server's answer in the store)", pct(cmd, 50), "ms",
            note="after the warm-up")
    res.add("command p95", pct(cmd, 95), "ms", note=f"{len(cmd):,} commands")
    res.add(f"command p95: last {w} s / first {w} s after warm-up", v["cmd_p95_drift"], "x")
    probe = [x for s in after for x in s.probe]
    res.add("server round trip from an idle process, p50", pct(probe, 50), "ms",
            note="POST /api/commands (client.update), 3 per sample, after the warm-up")
    res.add("server round trip from an idle process, p95", pct(probe, 95), "ms",
            note=f"max {max(probe, default=float('nan')):.0f} ms")
    res.add("propagation p50 (tap on A -> applied in B's store)", pct(prop, 50), "ms",
            note="after the warm-up")
    res.add("propagation p95", pct(prop, 95), "ms", note=f"{len(prop):,} deliveries")
    res.add(f"propagation p95: last {w} s / first {w} s after warm-up",
            v["prop_p95_drift"], "x")
    res.add("errors: refused, 5xx, exceptions, undrained", errors, "", 0.0,
            note=f"refused {soak.total('refused')} {soak.refused or ''}, "
                 f"5xx / busy {soak.total('retried') - network}, "
                 f"exceptions {soak.total('exceptions')}, "
                 f"problems {soak.total('problems')}, still failed {soak.failed}, "
                 f"server log errors {soak.server_log_errors}"
                 + (f"; RUN FAILED: {soak.failure}" if soak.failure else ""))
    res.add("commands resent after a request got no answer", network, "", 0.0,
            note=(f"causes: {soak.causes}; " if soak.causes else "")
            + "resent with the same (client_id, seq); the witnesses below show each "
              "applied once")
    res.add("clients whose store != their user's bootstrap", len(soak.not_converged)
            + soak.clients - soak.online_at_start, "", 0.0,
            note=f"{soak.idle:,} of {soak.clients:,} outboxes drained; "
                 + ("; ".join(soak.not_converged[:2]) or "all equal"))
    res.add("witnesses not exactly once in the log", len(soak.witness_problems), "", 0.0,
            note=f"{soak.witnesses:,} checked" + (f": {soak.witness_problems[:3]}"
                                                    if soak.witness_problems else ""))
    lags = sorted(s.lag_max for s in after)
    res.add("worker processes: worst event-loop lag per sample, median", pct(lags, 50), "ms",
            note=f"max {max(lags, default=float('nan')):.0f} ms; longest GC pause "
                 f"{max((s.gc_max for s in after), default=float('nan')):.0f} ms "
                 "(the clients' side of the latencies: many clients share a process here)")
    res.add("websocket links lost (then resumed)", soak.total("link_lost"), "",
            note=f"load average {soak.load_start} at start, {soak.load_end} at end")
    res.notes.append(f"not queued (the domain said no on the device): {soak.not_queued}")
    res.notes.append(f"appointments at the end by status: {soak.statuses}")
    return res


def _mmss(seconds: float) -> str:
    return f"{int(seconds) // 60}:{int(seconds) % 60:02d}"


def minutes_table(soak: Soak) -> str:
    w = soak.window
    head = ["window", "commands/s", "command p50", "command p95", "propagation p50",
            "propagation p95", "server round trip p50 / max", "server RSS", "records",
            "server CPU", "load (1 min)", "worker loop lag max", "links lost", "errors"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---:|" * len(head)]
    for i, b in enumerate(soak.bins()):
        if not b:
            continue
        cmd = [x for s in b for x in s.cmd]
        prop = [x for s in b for x in s.prop]
        probe = [x for s in b for x in s.probe]
        errors = sum(s.refused + s.retried + s.exceptions + s.problems for s in b)
        lines.append(
            f"| {_mmss(i * w)}-{_mmss((i + 1) * w)}{' warm-up' if i == 0 else ''} "
            f"| {sum(s.applied for s in b) / (len(b) * soak.sample_s):.1f} "
            f"| {pct(cmd, 50):.1f} ms | {pct(cmd, 95):.1f} ms "
            f"| {pct(prop, 50):.1f} ms | {pct(prop, 95):.1f} ms "
            f"| {pct(probe, 50):.1f} / {max(probe, default=float('nan')):.0f} ms "
            f"| {sum(s.rss for s in b) / len(b) / 2**20:.1f} MB | {b[-1].records:,} "
            f"| {sum(s.cpu for s in b) / len(b):.0f} % "
            f"| {sum(s.load for s in b) / len(b):.1f} | {max(s.lag_max for s in b):.0f} ms "
            f"| {sum(s.link_lost for s in b)} "
            f"| {errors} |")
    return "\n".join(lines)


def plot(soak: Soak, path: Path) -> Path:
    v = verdicts(soak)
    ts = [s.t / 60 for s in soak.samples]
    with figure(path, 3, 1, figsize=(8, 8), sharex=True, dpi=90) as (_, (ax1, ax2, ax3)):
        ax1.plot(ts, [s.rss / 2**20 for s in soak.samples], marker=".", label="server RSS")
        if not math.isnan(v["rss_first"]):
            ax1.axhspan(v["rss_first"] * 0.9, v["rss_first"] * 1.1, color="green", alpha=0.1,
                        label="first minute after warm-up +/- 10 %")
        ax1.axvspan(0, soak.window / 60, color="grey", alpha=0.15, label="warm-up")
        ax1.set_ylabel("MB")
        ax1.legend(loc="lower right", fontsize=8)
        ax1b = ax1.twinx()
        ax1b.plot(ts, [s.records for s in soak.samples], color="purple", ls=":")
        ax1b.set_ylabel("records in the log (dotted)", color="purple")
        ax1.set_title(f"Soak: {soak.clients} clients, {soak.minutes:g} min, one server process")
        for attr, name in (("cmd", "command"), ("prop", "propagation")):
            for q, ls in ((50, "-"), (95, "--")):
                ax2.plot(ts, [pct(getattr(s, attr), q) for s in soak.samples], ls=ls,
                         marker=".", label=f"{name} p{q}")
        ax2.plot(ts, [max(s.probe, default=float("nan")) for s in soak.samples], color="black",
                 lw=0.8, label="server round trip (idle probe), max")
        ax2.set_yscale("log")
        ax2.set_ylabel("ms per sample (log)")
        ax2.legend(loc="upper left", fontsize=8, ncol=2)
        ax3.plot(ts, [s.applied / soak.sample_s for s in soak.samples], marker=".",
                 label="commands applied/s")
        ax3.plot(ts, [s.cpu for s in soak.samples], label="server CPU %")
        ax3.set_ylabel("per s  |  % of a core")
        ax3b = ax3.twinx()
        ax3b.plot(ts, [s.load for s in soak.samples], color="red", ls=":", label="load (1 min)")
        ax3b.set_ylabel("load average", color="red")
        ax3.set_xlabel("minutes since the clients started acting")
        ax3.legend(loc="upper left", fontsize=8)
    return path


def section(res: Result, soak: Soak, png: Path | None) -> str:
    """The soak section of BENCHMARKS.md (kept in bench/soak.md)."""
    v = verdicts(soak)
    flat = all(x <= TARGET_RSS_PCT for x in (v["rss_growth"], v["rss_max_growth"]))
    lines = [
        BEGIN,
        f"## Soak: {soak.clients:,} clients for {soak.minutes:g} minutes",
        "",
        f"Last run: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {soak.seconds:.0f} s in all, "
        f"`python -m bench soak --clients {soak.clients} --minutes {soak.minutes:g}` "
        f"(written by that command into `bench/soak.md`; `bench all` keeps it). "
        f"Load average (1, 5, 15 min) at start: {soak.load_start}; at end: {soak.load_end}, "
        f"on {os.cpu_count()} cores shared with other engineers' work; the workers' clients "
        "run on the same cores as the server.",
        "",
        table([res]),
        "",
        f"Memory {'flat' if flat else 'NOT flat'} within {TARGET_RSS_PCT:g} %; "
        f"server records at the end: "
        + ", ".join(f"{k} {n:,}" for k, n in soak.server_records.items())
        + f"; {soak.events:,} events in the log; {soak.unmatched:,} arrivals not timed (record "
        "versions that were a side effect, not a command's own record: e.g. a driver's idle "
        "stamp on drop-off, seen by every client). Appointments at the end by "
        "status: " + ", ".join(f"{k} {n:,}" for k, n in sorted(soak.statuses.items()))
        + ". Not queued because the domain refused on the device (the workload's own "
        f"misses, not errors): {soak.not_queued or 'none'}.",
        "",
        f"Per {soak.window:g} s (the first is the warm-up; latencies of what was "
        "acknowledged / delivered in it):",
        "",
        minutes_table(soak),
        "",
    ]
    if png is not None:
        lines += [f"![soak]({os.path.relpath(png, ROOT)})", ""]
    if NOTES.exists():
        lines += [NOTES.read_text().strip(), ""]
    lines += ["### How the soak works", "", (__doc__ or "").strip(), "", END]
    return "\n".join(lines)


def save_section(text: str, benchmarks: Path) -> None:
    """The soak section of `benchmarks` (replaced, or added before the findings)."""
    doc = benchmarks.read_text() if benchmarks.exists() else ""
    if BEGIN in doc and END in doc:
        head, rest = doc.split(BEGIN, 1)
        doc = head + text + rest.split(END, 1)[1]
    elif "\n## Findings" in doc:
        head, rest = doc.split("\n## Findings", 1)
        doc = head + "\n" + text + "\n\n## Findings" + rest
    else:
        doc = doc.rstrip() + "\n\n" + text + "\n"
    benchmarks.write_text(doc)


def main(clients: int | None, minutes: float | None, quick: bool, out: Path,
         markdown: Path | None) -> int:
    """`python -m bench soak`: print the table, write the plot, and (full runs
    or --markdown) the BENCHMARKS.md section."""
    n = clients or (20 if quick else 200)
    m = minutes or (1.0 if quick else 10.0)
    print(f"== soak: {n} clients, {m:g} min ...", flush=True)
    res, soak = run(n, m, think=5.0, sample_s=5.0 if m < 4 else SAMPLE_S, out_dir=out,
                    png="soak-quick.png" if quick else "soak.png")  # keep the full run's
    print(table([res]))
    print()
    print(minutes_table(soak))
    for note in res.notes:
        print(note)
    text = section(res, soak, res.plots[0] if res.plots else None)
    if not quick:  # bench.markdown includes bench/soak.md when `bench all` rewrites the file
        SECTION.write_text(text + "\n")
        print(f"wrote {SECTION}")
        markdown = markdown or ROOT / "BENCHMARKS.md"
    if markdown is not None:
        save_section(text, markdown)
        print(f"wrote the soak section of {markdown}")
    return 0 if not soak.failure else 1
