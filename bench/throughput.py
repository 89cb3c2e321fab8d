"""2. Throughput: commands applied per second by one server process on SQLite.

S concurrent senders (one keep-alive HTTP/1.1 connection each, a minimal
hand-written client on uvloop) post `client.create` commands back to back for
`seconds`: one per POST /api/commands, and in the batched rows 100 per POST
/api/commands/batch (what the client's sender does with a backlog). Counted
are "applied" answers. The server's CPU use comes from /proc (user + system
time over wall time: 100 % = one core). The load generator runs in this
process on the same 2 cores, so its own CPU share is reported too: when the
server is well below 100 % and the generator near it, the generator is the
limit. The server's CPU milliseconds per applied command are the figure that
depends least on how busy the machine is (1,500/s needs <= 0.67 ms on one core).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from urllib.parse import urlsplit

import orjson

from bench.common import (
    client_create,
    cpu_seconds,
    login,
    own_cpu,
    pid_of,
    run_loop,
    start_server,
)
from bench.report import Result, figure

TARGET = 1500.0  # commands/s, README "Performance targets"
BATCH = 100  # commands per request in the batched rows (the sender's default)


class _Conn:
    """One keep-alive HTTP/1.1 connection, written and read by hand: the load
    generator shares the 2 cores with the server, and httpx with 100 pooled
    connections cost more CPU per request than the server's whole command
    path (earlier runs: generator near a full core, server at 9 %)."""

    def __init__(self, url: str, token: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.head = (f"Host: {self.host}:{self.port}\r\nAuthorization: Bearer {token}\r\n"
                     f"Content-Type: application/json\r\n").encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(b"POST " + path.encode() + b" HTTP/1.1\r\n" + self.head
                          + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
                          + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def _drive(url: str, token: str, senders: int, seconds: float, pid: int,
                 batch: int = 1) -> tuple[float, float, float, int, list[float]]:
    """(applied/s, server CPU %, generator CPU %, errors, request latencies ms).
    batch 1: POST /api/commands; more: POST /api/commands/batch."""
    applied = errors = 0
    lat: list[float] = []
    measuring = False
    stop_at = 0.0

    async def sender(k: int) -> None:
        nonlocal applied, errors
        conn = _Conn(url, token)
        seq = 0
        cid = f"bench-tp-{senders}-{batch}-{k}-{time.time_ns()}"
        try:
            while time.perf_counter() < stop_at:
                t0 = time.perf_counter()
                if batch == 1:
                    seq += 1
                    status, body = await conn.post("/api/commands",
                                                   orjson.dumps(client_create(cid, seq)))
                    ok = int(status == 200 and b'"applied"' in body)
                    bad = 1 - ok
                else:
                    wires = [client_create(cid, seq + i + 1) for i in range(batch)]
                    seq += batch
                    status, body = await conn.post("/api/commands/batch",
                                                   orjson.dumps({"commands": wires}))
                    got = orjson.loads(body).get("results", []) if status == 200 else []
                    ok = sum(1 for r in got if r["status_code"] == 200)
                    bad = batch - ok
                if measuring:
                    applied += ok
                    errors += bad
                    lat.append((time.perf_counter() - t0) * 1000)
        finally:
            conn.close()

    warmup = min(1.0, seconds / 4)
    stop_at = time.perf_counter() + warmup + seconds
    tasks = [asyncio.create_task(sender(k)) for k in range(senders)]
    await asyncio.sleep(warmup)
    measuring = True
    c0, g0, t0 = cpu_seconds(pid), own_cpu(), time.perf_counter()
    await asyncio.sleep(seconds)
    measuring = False
    c1, g1, t1 = cpu_seconds(pid), own_cpu(), time.perf_counter()
    await asyncio.gather(*tasks)
    wall = t1 - t0
    return applied / wall, 100 * (c1 - c0) / wall, 100 * (g1 - g0) / wall, errors, lat


def run(levels: tuple[int, ...] = (1, 10, 100), seconds: float = 6.0,
        out_dir: Path | None = None, batched: tuple[int, ...] = (1, 10)) -> Result:
    """`levels`: concurrent senders of single commands; `batched`: concurrent
    senders of BATCH-command batches."""
    res = Result("throughput")
    srv = start_server("staff")
    rates: dict[str, float] = {}
    runs = [(s, 1) for s in levels] + [(s, BATCH) for s in batched]
    try:
        token = login(srv.url)["token"]
        for s, batch in runs:
            rate, cpu, gen, errors, lat = run_loop(
                _drive(srv.url, token, s, seconds, pid_of(srv), batch))
            lat.sort()
            p50 = lat[len(lat) // 2] if lat else float("nan")
            if batch == 1:
                label, metric = f"{s}", f"{s} concurrent sender(s): applied/s"
                target = TARGET if s == max(levels) else None
            else:
                label = f"{s} x {batch}/req"
                metric = f"{s} concurrent sender(s), {batch} per batch request: applied/s"
                target = TARGET if s == max(batched) else None
            rates[label] = rate
            per = 10 * cpu / rate if rate else float("nan")
            res.add(metric, rate, "cmd/s", target, higher_is_better=True,
                    note=f"server CPU {cpu:.0f} % ({per:.2f} ms per command), load generator "
                         f"CPU {gen:.0f} %, request p50 {p50:.1f} ms, {errors} errors")
    finally:
        srv.close()
    if out_dir is not None and rates:
        res.plots.append(_plot(rates, out_dir / "throughput.png"))
    return res


def _plot(rates: dict[str, float], path: Path) -> Path:
    with figure(path, figsize=(6, 3.5)) as (_, ax):
        xs = list(rates)
        ax.bar(xs, list(rates.values()),
               color=["tab:orange" if "/req" in x else "tab:blue" for x in xs])
        ax.axhline(TARGET, color="red", ls=":", label=f"target {TARGET:,.0f}/s")
        ax.set_xlabel(f"concurrent senders (single commands; batches of {BATCH})")
        ax.set_ylabel("commands applied / s")
        ax.set_title("Throughput, one server process, SQLite")
        ax.legend()
    return path
