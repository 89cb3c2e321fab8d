"""Shared helpers: the real server as a subprocess, percentiles, /proc readings.

Latencies that cross processes use `time.time()` (one wall clock on one
machine); durations inside one process use `time.perf_counter()`.
"""

from __future__ import annotations

import asyncio
import os
import resource
import statistics
import uuid
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any, TypeVar

from testkit import loopback
from testkit.server import DEMO_PASSWORD, ServerProcess

ROOT = Path(__file__).resolve().parents[1]
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
T = TypeVar("T")


def raise_nofile(wanted: int = 20_000) -> int:
    """Lift the open-files soft limit towards `wanted` (children inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(wanted, hard) if hard != resource.RLIM_INFINITY else wanted
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def start_server(seed: str | None = "staff", *, env: dict[str, str] | None = None,
                 args: tuple[str, ...] = ()) -> ServerProcess:
    """`python -m server` on a free loopback port with a fresh SQLite file.
    Jobs are slowed down so they don't run during a measurement."""
    raise_nofile()
    srv = ServerProcess(seed=seed, env=env, startup_timeout=120,
                        args=("--pickup-interval", "3600",
                              "--auto-cancel-interval", "3600", *args))
    return srv.start()


def pid_of(srv: ServerProcess) -> int:
    assert srv.proc is not None
    return srv.proc.pid


def cpu_seconds(pid: int) -> float:
    """user + system CPU time of a process (from /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_bytes(pid: int) -> int:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE


def own_cpu() -> float:
    """user + system CPU seconds of this process."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def run_loop(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` on uvloop when installed (the loop uvicorn runs the server
    on), else on asyncio's own. For the benchmarks' client side: it shares
    the 2 cores with the server here, and the stock loop's own work per frame
    or request (futures, timers, task switches) was much of its CPU."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


def login(url: str, username: str = "operator", password: str = DEMO_PASSWORD) -> dict[str, Any]:
    r = loopback.post(url + "/api/auth/login", json={"username": username, "password": password},
                   timeout=30)
    r.raise_for_status()
    body: dict[str, Any] = r.json()
    return body


def pct(values: Sequence[float], p: float) -> float:
    """The p-th percentile (nearest rank), NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def mean(values: Sequence[float]) -> float:
    return statistics.fmean(values) if values else float("nan")


def client_create(client_id: str, seq: int, target: str | None = None) -> dict[str, Any]:
    """A wire `client.create` (operators only; its event goes to every operator)."""
    return {"client_id": client_id, "seq": seq, "name": "client.create",
            "target": target or str(uuid.uuid4()), "base_version": None,
            "args": {"first_name": "Bench", "last_name": f"Client {seq}",
                     "phone": "+63 917 000 0000", "address": "1 Loopback St, Localhost"}}


def machine() -> dict[str, str]:
    import platform
    import sys

    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 2**20:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return {"nproc": str(os.cpu_count()), "cpu": cpu, "memory": mem,
            "python": sys.version.split()[0], "platform": platform.platform(),
            "load average at start": load}
