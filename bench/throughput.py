"""2. Throughput: commands applied per second by one server process on SQLite.

S concurrent senders (httpx, one keep-alive connection each) post
`client.create` commands back to back for `seconds`; counted are 200
"applied" answers. The server's CPU use comes from /proc (user + system time
over wall time: 100 % = one core). The load generator runs in this process
on the same 2 cores, so its own CPU share is reported too: when the server is
well below 100 % and the generator near it, the generator is the limit. The
server's CPU milliseconds per applied command are the figure that depends
least on how busy the machine is (1,500/s needs <= 0.67 ms on one core).
"""

from __future__ import annotations

import asyncio
import resource
import time
from pathlib import Path

import httpx

from bench.common import client_create, cpu_seconds, login, pid_of, start_server
from bench.report import Result

TARGET = 1500.0  # commands/s, DESIGN.md


def _own_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def _drive(url: str, token: str, senders: int, seconds: float,
                 pid: int) -> tuple[float, float, float, int, list[float]]:
    """(applied/s, server CPU %, generator CPU %, errors, latencies ms)."""
    limits = httpx.Limits(max_connections=senders, max_keepalive_connections=senders)
    headers = {"Authorization": f"Bearer {token}"}
    applied = errors = 0
    lat: list[float] = []
    measuring = False
    stop_at = 0.0
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits,
                                 timeout=30) as http:
        async def sender(k: int) -> None:
            nonlocal applied, errors
            seq = 0
            cid = f"bench-tp-{senders}-{k}-{time.time_ns()}"
            while time.perf_counter() < stop_at:
                seq += 1
                t0 = time.perf_counter()
                r = await http.post("/api/commands", json=client_create(cid, seq))
                if measuring:
                    if r.status_code == 200:
                        applied += 1
                        lat.append((time.perf_counter() - t0) * 1000)
                    else:
                        errors += 1

        warmup = min(1.0, seconds / 4)
        stop_at = time.perf_counter() + warmup + seconds
        tasks = [asyncio.create_task(sender(k)) for k in range(senders)]
        await asyncio.sleep(warmup)
        measuring = True
        c0, g0, t0 = cpu_seconds(pid), _own_cpu(), time.perf_counter()
        await asyncio.sleep(seconds)
        measuring = False
        c1, g1, t1 = cpu_seconds(pid), _own_cpu(), time.perf_counter()
        await asyncio.gather(*tasks)
    wall = t1 - t0
    return applied / wall, 100 * (c1 - c0) / wall, 100 * (g1 - g0) / wall, errors, lat


def run(levels: tuple[int, ...] = (1, 10, 100), seconds: float = 6.0,
        out_dir: Path | None = None) -> Result:
    res = Result("throughput")
    srv = start_server("staff")
    rates: dict[int, float] = {}
    try:
        token = login(srv.url)["token"]
        for s in levels:
            rate, cpu, gen, errors, lat = asyncio.run(
                _drive(srv.url, token, s, seconds, pid_of(srv)))
            rates[s] = rate
            lat.sort()
            p50 = lat[len(lat) // 2] if lat else float("nan")
            res.add(f"{s} concurrent sender(s): applied/s", rate, "cmd/s",
                    TARGET if s == max(levels) else None, higher_is_better=True,
                    note=f"server CPU {cpu:.0f} % ({10 * cpu / rate if rate else float('nan'):.2f} "
                     f"ms per command), load generator CPU {gen:.0f} %, "
                         f"request p50 {p50:.1f} ms, {errors} errors")
    finally:
        srv.close()
    if out_dir is not None and rates:
        res.plots.append(_plot(rates, out_dir / "throughput.png"))
    return res


def _plot(rates: dict[int, float], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    xs = [str(s) for s in rates]
    ax.bar(xs, list(rates.values()), color="tab:blue")
    ax.axhline(TARGET, color="red", ls=":", label=f"target {TARGET:,.0f}/s")
    ax.set_xlabel("concurrent senders")
    ax.set_ylabel("commands applied / s")
    ax.set_title("Throughput, one server process, SQLite")
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
