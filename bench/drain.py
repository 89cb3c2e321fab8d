"""5. Offline drain: 1,000 commands queued while the server is down.

A real client (services.client.Client, on-disk outbox) signs in; the server
stops; the user makes 500 `client.create` and 500 `client.update` (one per
created record, so per-record order matters); the server starts again on the
same port and database. Measured: from the listener being back online (and
from the server answering) until the outbox is empty. Verified against the
server's event log and bootstrap: every record exists once at version 2 with
the update's value (0 lost), and exactly 2 events per record (0 duplicated).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench.common import start_server
from bench.report import Result
from services.client import Client
from testkit import loopback
from testkit.server import DEMO_PASSWORD, ServerProcess

TARGET_S = 3.0


async def _events(srv: ServerProcess, token: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    async with loopback.AsyncClient(base_url=srv.url, timeout=30,
                                 headers={"Authorization": f"Bearer {token}"}) as http:
        after = 0
        while True:
            body = (await http.get("/api/events", params={"after": after, "limit": 1000})).json()
            out += body["events"]
            if not body["events"] or body["cursor"] <= after:
                return out
            after = body["cursor"]
            if len(body["events"]) < 1000:
                return out


async def _run(pairs: int) -> dict[str, float]:
    srv = start_server("staff")
    with tempfile.TemporaryDirectory(prefix="tandem-drain-") as tmp:
        client = await Client.start(srv.url, "operator", DEMO_PASSWORD, data_dir=Path(tmp))
        try:
            async with asyncio.timeout(30):
                while client.status != "online":
                    await asyncio.sleep(0.01)
            srv.stop()
            async with asyncio.timeout(30):
                while client.status == "online":
                    await asyncio.sleep(0.01)
            ids = [str(uuid.uuid4()) for _ in range(pairs)]
            t0 = time.perf_counter()
            for i, id in enumerate(ids):
                r = client.dispatch_now("client.create", id, {
                    "first_name": "Offline", "last_name": f"Drain {i}",
                    "phone": "+63 917 000 0002", "address": "3 Loopback St, Localhost"})
                assert r.ok, r.message
            for id in ids:
                r = client.dispatch_now("client.update", id, {"notes": f"drained {id[:8]}"})
                assert r.ok, r.message
            enqueue_ms = (time.perf_counter() - t0) * 1000 / (2 * pairs)
            assert len(client.queued()) == 2 * pairs
            online = asyncio.Event()
            t_online = 0.0

            def on_status(status: str) -> None:
                nonlocal t_online
                if status == "online" and not online.is_set():
                    t_online = time.perf_counter()
                    online.set()

            client.on_status(on_status)
            srv.start()
            t_up = time.perf_counter()
            async with asyncio.timeout(120):
                while client.queued():
                    await asyncio.sleep(0.005)
            t_done = time.perf_counter()
            if not online.is_set():
                t_online = t_up
            token = str(client.api.token)
            events = [e for e in await _events(srv, token) if e["entity"] == "client"]
            failed = len(client.failed())
        finally:
            await client.stop()
            srv.close()
    per_id: dict[str, list[dict[str, Any]]] = {}
    for e in events:
        per_id.setdefault(e["id"], []).append(e)

    def intact(id: str) -> bool:  # created, then updated with our value
        versions = {e["version"]: e for e in per_id.get(id, [])}
        last = versions.get(2)
        return 1 in versions and last is not None and \
            (last["data"] or {}).get("notes") == f"drained {id[:8]}"

    lost = sum(1 for id in ids if not intact(id))
    dup = sum(max(0, len(per_id.get(id, [])) - 2) for id in ids)
    return {"after_online": t_done - t_online, "after_up": t_done - t_up,
            "reconnect": t_online - t_up, "lost": lost, "dup": dup, "failed": failed,
            "enqueue_ms": enqueue_ms}


def run(commands: int = 1000) -> Result:
    res = Result("offline drain")
    m = asyncio.run(_run(commands // 2))
    res.add(f"{commands:,} queued: drained after reconnect", m["after_online"], "s", TARGET_S,
            note=f"{m['after_up']:.2f} s after the server answered (reconnect took "
                 f"{m['reconnect']:.2f} s); queued offline at {m['enqueue_ms']:.2f} ms each")
    res.add("lost commands", m["lost"] + m["failed"], "", 0.0,
            note=f"{m['failed']:.0f} refused by the server")
    res.add("duplicated commands", m["dup"], "", 0.0)
    return res
