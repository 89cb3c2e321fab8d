"""One process hosting K headless Tandem clients (real services/ + store/).

Driven by bench.propagation over stdin/stdout, one JSON object per line:

    argv: url token_file data_root count [--sender]
    out   {"ready": K}                       every client bootstrapped and online
    in    {"op": "act", "n": M, "interval": s}   (the sender process only)
    out   {"sent": {id: t_send}}             time.time() just before dispatch
    in    {"op": "report", "expect": E, "ids": [...]}
    out   {"arrivals": {id: [t, ...]},       time.time() when each client's
           "cpu": s}                         store applied the event; this
                                             process's CPU seconds since "ready"
Clients resume a saved operator session (no password: one sign-in for all),
so all of them are in every `client.create` event's audience.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from bench.clients import emit, resume, start_in_batches, stop_all
from bench.common import own_cpu, run_loop
from services.client import Client
from store.cache import Key
from store.changed import RecordChange


async def start_clients(url: str, login: dict[str, Any], root: Path, count: int,
                        arrivals: dict[str, list[float]], sender: bool) -> list[Client]:
    """`count` observing clients, plus (first) a non-observing sender."""
    def observer(changes: Mapping[Key, RecordChange]) -> None:
        now = time.time()
        for entity, id in changes:
            if entity == "client":
                arrivals[id].append(now)

    async def one(i: int, observe: bool) -> Client:
        # The cache is flushed off the UI path; a long interval keeps 1,000
        # clients on one machine from measuring the disk instead of the sync.
        client = await resume(Client, url, "operator", login, root / f"c{i}", flush_interval=60.0)
        if observe:
            client.on_change(observer)
        return client

    clients: list[Client] = [await one(-1, False)] if sender else []
    return clients + await start_in_batches(count, lambda i: one(i, True), lambda c: c, 240)


async def act(client: Client, n: int, interval: float) -> dict[str, float]:
    sent: dict[str, float] = {}
    for i in range(n):
        target = str(uuid.uuid4())
        t0 = time.time()
        result = client.dispatch_now("client.create", target, {
            "first_name": "Prop", "last_name": f"Bench {i}", "phone": "+63 917 000 0001",
            "address": "2 Loopback St, Localhost"})
        if not result.ok:
            raise RuntimeError(f"dispatch refused: {result.message}")
        sent[target] = t0
        await asyncio.sleep(interval)
    await client.wait_idle(60)
    return sent


async def main(argv: list[str]) -> None:
    url, token_file, data_root, count = argv[0], Path(argv[1]), Path(argv[2]), int(argv[3])
    is_sender = "--sender" in argv
    login = orjson.loads(token_file.read_bytes())
    arrivals: dict[str, list[float]] = defaultdict(list)
    clients = await start_clients(url, login, data_root, count, arrivals, is_sender)
    # Clients still not online after the deadline are reported, not waited for.
    online = sum(1 for c in clients[1 if is_sender else 0:] if c.status == "online")
    emit({"ready": online})
    cpu0 = own_cpu()
    try:
        while True:
            line = await asyncio.to_thread(sys.stdin.readline)
            if not line:
                return
            cmd = orjson.loads(line)
            if cmd["op"] == "act":
                emit({"sent": await act(clients[0], int(cmd["n"]), float(cmd["interval"]))})
            elif cmd["op"] == "report":
                ids = set(cmd["ids"])
                expect = int(cmd["expect"])  # arrivals per id in this process
                deadline = time.monotonic() + float(cmd.get("wait", 30))
                while time.monotonic() < deadline and any(
                        len(arrivals.get(i, ())) < expect for i in ids):
                    await asyncio.sleep(0.05)
                emit({"arrivals": {i: arrivals.get(i, []) for i in ids}, "cpu": own_cpu() - cpu0})
                return
    finally:
        await stop_all(clients, 20)


if __name__ == "__main__":
    # On uvloop, as the fan-out receivers: 1,000 real clients share 2 cores
    # with the server here; each real device has its own CPU for its loop.
    run_loop(main(sys.argv[1:]))
