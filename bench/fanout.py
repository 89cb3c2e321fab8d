"""3. Fan-out and 6. memory per idle websocket.

One process holds every receiving socket and also sends the trigger, so
"trigger sent -> last socket has the frame" is measured on one clock
(perf_counter). Tandem: the trigger is POST /api/commands (`client.create`
by an operator; every socket is signed in as an operator, so each is in the
audience); the time therefore includes running and committing the command.
Reference: bench.bare_ws, a bare `websockets` server that broadcasts the same
bytes with `websockets.broadcast` on a "go" frame. Both servers are
subprocesses; the receivers are identical, so their cost (parsing the frames
in this one process) is in both figures and the ratio compares the servers.

Memory: server RSS (/proc/<pid>/statm) before the sockets and with all of
them connected and idle, divided by their number.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect

from bench.common import (
    ROOT,
    client_create,
    login,
    pct,
    pid_of,
    raise_nofile,
    rss_bytes,
    run_loop,
    start_server,
)
from bench.report import Result, figure
from testkit import loopback
from testkit.server import free_port

TARGET_MS = 250.0  # all 5,000 delivered
TARGET_RATIO = 1.5  # within 1.5x of raw websockets.broadcast
TARGET_SOCKETS = 5000


@dataclass
class Swarm:
    """N receiving sockets; `expect(marker)` then wait for all to see it."""

    url: str
    hello: str
    sockets: list[ClientConnection] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    marker: str = ""
    seen: int = 0
    first: float = 0.0
    done: asyncio.Event = field(default_factory=asyncio.Event)

    async def grow(self, n: int) -> None:
        async def one() -> None:
            ws = await connect(self.url, ping_interval=None, open_timeout=120,
                               close_timeout=1, max_size=2**20)
            await ws.send(self.hello)
            self.sockets.append(ws)
            self.tasks.append(asyncio.create_task(self._read(ws)))

        missing = n - len(self.sockets)
        for start in range(0, missing, 250):
            await asyncio.gather(*(one() for _ in range(min(250, missing - start))))

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for message in ws:
                if self.marker and self.marker in message:
                    if self.seen == 0:
                        self.first = time.perf_counter()
                    self.seen += 1
                    if self.seen == len(self.sockets):
                        self.done.set()
        except Exception:  # noqa: BLE001 - a dropped socket shows as a missing delivery
            pass

    async def measure(self, marker: str, trigger: Callable[[], Awaitable[None]],
                      timeout: float = 30.0) -> tuple[float, float, int]:
        """(ms to the first, ms to the last socket, deliveries)."""
        self.marker, self.seen, self.done = marker, 0, asyncio.Event()
        t0 = time.perf_counter()
        await trigger()
        with contextlib.suppress(TimeoutError):  # missing deliveries show in the count
            await asyncio.wait_for(self.done.wait(), timeout)
        t1 = time.perf_counter()
        return (self.first - t0) * 1000, (t1 - t0) * 1000, self.seen

    async def close(self) -> None:
        for t in self.tasks:
            t.cancel()
        await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def _tandem(sizes: tuple[int, ...], repeats: int) -> tuple[dict[int, list[float]], float,
                                                                 str, dict[int, list[float]]]:
    """Per size: last-delivery ms per repeat; RSS bytes per socket; the frame."""
    srv = start_server("staff")
    last: dict[int, list[float]] = {}
    first: dict[int, list[float]] = {}
    frame = ""
    try:
        token = login(srv.url)["token"]
        hello = json.dumps({"type": "hello", "token": token, "after": None})
        swarm = Swarm(srv.url.replace("http", "ws") + "/api/ws", hello)
        async with loopback.AsyncClient(base_url=srv.url, timeout=30,
                                     headers={"Authorization": f"Bearer {token}"}) as http:
            seq = 0

            async def post(target: str) -> None:
                nonlocal seq
                seq += 1
                r = await http.post("/api/commands", json=client_create("bench-fanout", seq,
                                                                        target))
                r.raise_for_status()

            await post(str(uuid.uuid4()))  # warm the command path
            rss0 = rss_bytes(pid_of(srv))
            for n in sizes:
                await swarm.grow(n)
                await asyncio.sleep(1.0)  # every hello handled, the sockets idle
                if n == max(sizes):
                    rss1 = rss_bytes(pid_of(srv))
                for _ in range(repeats):
                    target = str(uuid.uuid4())

                    async def trigger(t: str = target) -> None:
                        await post(t)

                    f, t, seen = await swarm.measure(target, trigger)
                    if seen < n:
                        t = float("nan")
                    first.setdefault(n, []).append(f)
                    last.setdefault(n, []).append(t)
                    await asyncio.sleep(0.3)
            # The exact bytes a socket got, for the reference server to send.
            r = await http.get("/api/events", params={"after": 0, "limit": 1000})
            ev = r.json()["events"][-1]
            frame = json.dumps({"type": "event", "event": ev}, separators=(",", ":"))
        await swarm.close()
    finally:
        srv.close()
    per_socket = (rss1 - rss0) / max(sizes)
    return last, per_socket, frame, first


async def _bare(sizes: tuple[int, ...], repeats: int, frame: str
                ) -> tuple[dict[int, list[float]], float]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "bench.bare_ws", str(port)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    last: dict[int, list[float]] = {}
    try:
        assert proc.stdout is not None
        proc.stdout.readline()
        url = f"ws://127.0.0.1:{port}"
        swarm = Swarm(url, "hello")
        control = await connect(url, ping_interval=None)
        rss0 = rss_bytes(proc.pid)
        for n in sizes:
            await swarm.grow(n)
            await asyncio.sleep(1.0)
            if n == max(sizes):
                rss1 = rss_bytes(proc.pid)
            for _ in range(repeats):
                marker = str(uuid.uuid4())
                payload = frame.replace('"event":{', f'"event":{{"bench":"{marker}",', 1)

                async def go(p: str = payload) -> None:
                    await control.send("go " + p)

                _, t, seen = await swarm.measure(marker, go)
                last.setdefault(n, []).append(t if seen >= n else float("nan"))
                await asyncio.sleep(0.3)
        await control.close()
        await swarm.close()
    finally:
        proc.terminate()
        proc.wait(10)
    return last, (rss1 - rss0) / max(sizes)


def run(sizes: tuple[int, ...] = (1000, 5000), repeats: int = 5,
        out_dir: Path | None = None) -> tuple[Result, Result]:
    raise_nofile(4 * max(sizes) + 1000)
    fan, mem = Result("fan-out"), Result("memory")
    # The receivers on uvloop: 5,000 receiving sockets in one Python process are
    # the slowest part of this benchmark (connecting them took minutes on a busy
    # machine); a faster loop shrinks that client cost in both figures.
    tandem, tandem_rss, frame, first = run_loop(_tandem(sizes, repeats))
    bare, bare_rss = run_loop(_bare(sizes, repeats, frame))
    big = max(sizes)
    for n in sizes:
        t, b = pct(tandem[n], 50), pct(bare[n], 50)
        is_target = n == TARGET_SOCKETS
        fan.add(f"{n:,} sockets: Tandem, last delivered (median of {repeats})", t, "ms",
                TARGET_MS if is_target else None,
                note=f"first delivered {pct(first[n], 50):.1f} ms; "
                     f"worst of {repeats}: {max(tandem[n]):.0f} ms")
        fan.add(f"{n:,} sockets: bare websockets.broadcast", b, "ms",
                note=f"worst of {repeats}: {max(bare[n]):.0f} ms")
        fan.add(f"{n:,} sockets: ratio Tandem / bare", t / b, "x",
                TARGET_RATIO if is_target else None)
    mem.add(f"server RSS per idle websocket ({big:,} connected)", tandem_rss / 1024, "KiB",
            note=f"bare websockets server: {bare_rss / 1024:.1f} KiB per socket")
    if out_dir is not None:
        fan.plots.append(_plot(sizes, tandem, bare, out_dir / "fanout.png"))
    return fan, mem


def _plot(sizes: tuple[int, ...], tandem: dict[int, list[float]],
          bare: dict[int, list[float]], path: Path) -> Path:
    with figure(path, figsize=(6, 3.5)) as (_, ax):
        xs = range(len(sizes))
        w = 0.38
        ax.bar([x - w / 2 for x in xs], [pct(tandem[n], 50) for n in sizes], w, label="Tandem")
        ax.bar([x + w / 2 for x in xs], [pct(bare[n], 50) for n in sizes], w,
               label="bare websockets.broadcast")
        ax.axhline(TARGET_MS, color="red", ls=":", label=f"target {TARGET_MS:.0f} ms")
        ax.set_xticks(list(xs), [f"{n:,}" for n in sizes])
        ax.set_xlabel("sockets")
        ax.set_ylabel("ms until the last socket has the event")
        ax.set_title("Fan-out of one event (median)")
        ax.legend()
    return path
