"""Back online: how long after the server is reachable again a client's link
says "online".

A real client (services.client.Client) reaches the real server through a
relay on loopback. The relay goes down (its port refuses connections, as a
stopped server's does) for a while, then comes back; measured from the
moment it listens again until the listener reports "online". Two retry
schedules while nothing answers, in alternating trials: the growing backoff
alone (before: up to 15 s between tries) and `backoff.probes` (after: at
most a second apart).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator

from bench.common import pct, start_server
from bench.report import Result
from services.backoff import backoff, probes
from services.client import Client
from testkit.server import DEMO_PASSWORD, free_port

TARGET_S = 1.0
DOWN_FOR = (2.0, 6.0)  # seconds the server is unreachable


class Relay:
    """TCP relay to the server that can refuse connections like a stopped one."""

    def __init__(self, upstream: int) -> None:
        self.upstream, self.port = upstream, free_port()
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.StreamWriter] = set()

    async def up(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def down(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for w in list(self._pipes):
            w.transport.abort()
        self._pipes.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream)
        except OSError:
            writer.transport.abort()
            return
        self._pipes |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


async def _trial(relay: Relay, client: Client, down_for: float) -> float:
    await relay.down()
    await asyncio.sleep(down_for)
    await relay.up()
    back = time.perf_counter()
    while client.status != "online":
        await asyncio.sleep(0.01)
    return time.perf_counter() - back


async def _measure(trials: int) -> dict[tuple[str, float], list[float]]:
    schedules: dict[str, Callable[[], Iterator[float]]] = {"backoff": backoff, "probes": probes}
    out: dict[tuple[str, float], list[float]] = {(n, d): [] for n in schedules for d in DOWN_FOR}
    with start_server("staff") as srv:
        relays = {name: Relay(srv.port) for name in schedules}
        clients: dict[str, Client] = {}
        for name, relay in relays.items():
            await relay.up()
            clients[name] = await Client.start(
                f"http://127.0.0.1:{relay.port}", "operator", DEMO_PASSWORD,
                reach_delays=schedules[name])
        try:
            for _ in range(trials):
                for down_for in DOWN_FOR:
                    for name in schedules:  # alternating: before, after, before, ...
                        while clients[name].status != "online":
                            await asyncio.sleep(0.05)
                        took = await _trial(relays[name], clients[name], down_for)
                        out[(name, down_for)].append(took)
        finally:
            for c in clients.values():
                await c.stop()
            for r in relays.values():
                await r.down()
    return out


def run(trials: int = 5) -> Result:
    started = time.perf_counter()
    res = Result("reconnect")
    for (name, down_for), took in asyncio.run(_measure(trials)).items():
        label = "before (backoff)" if name == "backoff" else "after (probes)"
        target = TARGET_S if name == "probes" else None
        res.add(f"server down {down_for:.0f} s → online, p50, {label}", pct(took, 50), "s", target)
        res.add(f"server down {down_for:.0f} s → online, max, {label}", max(took), "s", target,
                note=f"{len(took)} trials")
    res.seconds = time.perf_counter() - started
    return res
