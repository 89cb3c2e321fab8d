"""No event ever reaches a user outside its audience, over a long random run.

Six websocket listeners (operator, three therapists, two drivers) follow a
staff-seeded server from seq 0 while a few hundred random valid actions run.
Then, per listener, checked with domain.policy (not the server's own audience
columns): every upsert it got is one it may see; every delete is of something
it saw before; every upsert in the log it may see reached it; and replaying
what it got gives exactly its bootstrap.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from websockets.asyncio.client import connect

from domain.commands import Actor
from domain.policy import can_see
from testkit.server import ServerProcess
from testkit.workload import LISTS
from tests.reliability.actions import Actions
from tests.reliability.wire import Device
from tests.server.helpers import log_rows

PEOPLE = ("operator", "therapist1", "therapist2", "therapist3", "driver1", "driver2")
STEPS = 300


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    env = {"TANDEM_PICKUP_INTERVAL": "0", "TANDEM_AUTO_CANCEL_INTERVAL": "0"}
    with ServerProcess(tmp_path_factory.mktemp("audience"), seed="staff", env=env) as s:
        yield s


async def listen(srv: ServerProcess, token: str, got: list[dict[str, Any]],
                 ready: asyncio.Event) -> None:
    async with connect(srv.ws_url, proxy=None, open_timeout=30, max_size=None) as ws:
        await ws.send(orjson.dumps({"type": "hello", "token": token, "after": 0}).decode())
        ready.set()
        async for raw in ws:
            frame = orjson.loads(raw)
            if frame["type"] == "event":
                got.append(frame["event"])
            elif frame["type"] != "ping":
                raise AssertionError(f"unexpected frame {frame}")


async def test_every_event_goes_only_to_its_audience(srv: ServerProcess) -> None:
    devices = {name: Device(srv, name) for name in PEOPLE}
    actors = {name: Actor(d.id, d.user["role"]) for name, d in devices.items()}
    got: dict[str, list[dict[str, Any]]] = {name: [] for name in PEOPLE}
    readies = {name: asyncio.Event() for name in PEOPLE}
    tasks = [asyncio.create_task(listen(srv, devices[n].token, got[n], readies[n]))
             for n in PEOPLE]
    try:
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in readies.values())), 60)
        actions = Actions(devices, seed=20261121)

        def run() -> None:
            for _ in range(STEPS):
                actions.step()

        await asyncio.to_thread(run)
        assert actions.applied >= STEPS // 2, (actions.applied, actions.attempted)
        rows = log_rows(srv)
        expected = {
            name: {r["seq"] for r in rows if r["op"] == "upsert"
                   and can_see(actor, r["entity"], orjson.loads(r["data"]))}
            for name, actor in actors.items()}
        loop = asyncio.get_running_loop()
        end = loop.time() + 120
        while loop.time() < end and any(
                not expected[n] <= {e["seq"] for e in got[n]} for n in PEOPLE):
            for t in tasks:
                if t.done():
                    t.result()  # a listener died: show why
            await asyncio.sleep(0.2)
        await asyncio.sleep(0.5)  # anything that should not come, would come now
        boots = {n: await asyncio.to_thread(devices[n].bootstrap) for n in PEOPLE}
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for d in devices.values():
            d.close()

    deletes_seen = 0
    for name, actor in actors.items():
        events = got[name]
        seqs = [e["seq"] for e in events]
        assert seqs == sorted(set(seqs)), f"{name}: out of order or repeated"
        missing = expected[name] - set(seqs)
        assert not missing, f"{name} never got events {sorted(missing)[:10]}"
        cache: dict[tuple[str, str], int] = {}
        seen: set[tuple[str, str]] = set()
        for e in events:
            key = (e["entity"], e["id"])
            if e["op"] == "upsert":
                assert can_see(actor, e["entity"], e["data"]), f"{name} got {e}"
                cache[key] = e["version"]
                seen.add(key)
            else:
                assert key in seen, f"{name} got a delete of something it never saw: {e}"
                cache.pop(key, None)
                deletes_seen += 1
        boot = boots[name]
        want: dict[tuple[str, str], int] = {}
        for entity, field in LISTS.items():
            for rec in boot[field]:
                assert can_see(actor, entity, rec), f"{name} bootstrap holds {entity} {rec}"
                want[(entity, rec["id"])] = rec["version"]
        assert cache == want, f"{name}: stream and bootstrap differ " \
            f"{sorted(set(cache.items()) ^ set(want.items()))[:10]}"
    assert deletes_seen > 0, "the run never took anyone out of a record's audience"
