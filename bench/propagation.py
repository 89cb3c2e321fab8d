"""1. Propagation: a command sent on client A, applied in every other client's store.

N operator clients (real services.client.Client on real store.Store) connect to
one server, spread over worker processes of at most PER_PROCESS clients. One
extra client sends `client.create` commands, one at a time, `interval` apart;
every other client is in the event's audience. Latency per (command,
recipient) = time.time() when the recipient's store applied the event minus
time.time() just before the sender's dispatch (tap -> outbox -> HTTP ->
server -> websocket -> apply). p50/p95/p99 are over all those pairs.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from bench.common import ROOT, cpu_seconds, login, pct, pid_of, start_server
from bench.report import Result, figure

PER_PROCESS = 250
TARGET_P50_MS, TARGET_P99_MS = 15.0, 50.0  # README "Performance targets", at 1,000 clients


def _read(out: IO[str], timeout: float) -> dict[str, Any]:
    import select

    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("a propagation worker did not answer in time")
        ready, _, _ = select.select([out], [], [], left)
        if ready:
            line = out.readline()
            if not line:
                raise RuntimeError("a propagation worker exited early (see its stderr)")
            data: dict[str, Any] = json.loads(line)
            return data


@dataclass
class Measured:
    lat: list[float]  # ms, every (command, recipient) pair
    last: list[float]  # ms, per command: its last recipient
    missing: int  # pairs that never arrived
    online: int  # clients online
    client_cpu: float  # CPU seconds of all client processes from "ready" to the report
    server_cpu: float  # CPU seconds of the server over the same span


def measure(url: str, login_file: Path, n: int, commands: int, interval: float,
            data_root: Path, server_pid: int | None = None) -> Measured:
    procs_n = max(1, math.ceil(n / PER_PROCESS))
    counts = [n // procs_n + (1 if i < n % procs_n else 0) for i in range(procs_n)]
    procs: list[subprocess.Popen[str]] = []
    try:
        for i, k in enumerate(counts):
            cmd = [sys.executable, "-m", "bench.propagation_worker", url, str(login_file),
                   str(data_root / f"n{n}-p{i}"), str(k)] + (["--sender"] if i == 0 else [])
            procs.append(subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.PIPE,
                                          stdout=subprocess.PIPE, text=True))
        ready = []
        for p in procs:
            assert p.stdout is not None
            ready.append(int(_read(p.stdout, 400)["ready"]))
        s0 = cpu_seconds(server_pid) if server_pid else 0.0
        sender = procs[0]
        assert sender.stdin is not None and sender.stdout is not None
        sender.stdin.write(json.dumps({"op": "act", "n": commands, "interval": interval}) + "\n")
        sender.stdin.flush()
        sent: dict[str, float] = _read(sender.stdout, commands * interval + 120)["sent"]
        ids = list(sent)
        for p, k in zip(procs, ready, strict=True):
            assert p.stdin is not None
            p.stdin.write(json.dumps({"op": "report", "ids": ids, "expect": k, "wait": 30}) + "\n")
            p.stdin.flush()
        lat: list[float] = []
        last: dict[str, float] = {}
        got = 0
        client_cpu = 0.0
        for p in procs:
            assert p.stdout is not None
            report = _read(p.stdout, 120)
            client_cpu += float(report.get("cpu", 0.0))
            arrivals: dict[str, list[float]] = report["arrivals"]
            for id, times in arrivals.items():
                got += len(times)
                for t in times:
                    ms = (t - sent[id]) * 1000
                    lat.append(ms)
                    last[id] = max(last.get(id, 0.0), ms)
        server_cpu = cpu_seconds(server_pid) - s0 if server_pid else 0.0
        return Measured(lat, list(last.values()), sum(ready) * len(ids) - got, sum(ready),
                        client_cpu, server_cpu)
    finally:
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


PLAN = {  # N -> (commands, seconds between commands)
    10: (50, 0.1),
    100: (30, 0.4),
    1000: (15, 1.5),
}


def run(sizes: tuple[int, ...] = (10, 100, 1000), plan: dict[int, tuple[int, float]] | None = None,
        out_dir: Path | None = None) -> Result:
    res = Result("propagation")
    plan = plan or PLAN
    srv = start_server("staff")
    per_n: dict[int, list[float]] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="tandem-prop-") as tmp:
            login_file = Path(tmp) / "login.json"
            login_file.write_text(json.dumps(login(srv.url)))
            for n in sizes:
                commands, interval = plan.get(n, (10, 0.2))
                try:
                    m = measure(srv.url, login_file, n, commands, interval, Path(tmp),
                                pid_of(srv))
                except (TimeoutError, RuntimeError) as exc:  # keep the sizes that worked
                    res.add(f"N={n:,} clients: p99", float("nan"), "ms",
                            TARGET_P99_MS if n >= 1000 else None,
                            note=f"did not complete: {exc}")
                    continue
                lat, last = m.lat, m.last
                per_n[n] = lat
                big = n >= 1000
                res.add(f"N={n:,} clients: p50", pct(lat, 50), "ms",
                        TARGET_P50_MS if big else None)
                res.add(f"N={n:,} clients: p95", pct(lat, 95), "ms")
                res.add(f"N={n:,} clients: p99", pct(lat, 99), "ms",
                        TARGET_P99_MS if big else None)
                res.add(f"N={n:,} clients: last recipient p50", pct(last, 50), "ms",
                        note=f"{m.online:,} of {n:,} clients online; "
                             f"{commands} commands, {interval * 1000:.0f} ms apart, "
                             f"{len(lat):,} deliveries, {m.missing} missing")
                res.add(f"N={n:,} clients: client CPU per delivery",
                        1000 * m.client_cpu / max(1, len(lat)), "ms",
                        note=f"all client processes, ready to report; server CPU "
                             f"{1000 * m.server_cpu / max(1, commands):.1f} ms per command "
                             f"(command + fan-out to {n:,} sockets)")
    finally:
        srv.close()
    if out_dir is not None and per_n:
        res.plots.append(_plot(per_n, out_dir / "propagation.png"))
    return res


def _plot(per_n: dict[int, list[float]], path: Path) -> Path:
    with figure(path, figsize=(7, 4)) as (_, ax):
        for n, lat in per_n.items():
            xs = sorted(lat)
            ys = [(i + 1) / len(xs) * 100 for i in range(len(xs))]
            ax.plot(xs, ys, label=f"N={n:,}")
        ax.axvline(TARGET_P50_MS, color="grey", ls=":", label="p50 target")
        ax.axvline(TARGET_P99_MS, color="red", ls=":", label="p99 target")
        ax.set_xscale("log")
        ax.set_xlabel("send on A -> applied in recipient's store (ms, log)")
        ax.set_ylabel("% of deliveries")
        ax.set_title("Propagation latency (CDF)")
        ax.legend()
    return path
