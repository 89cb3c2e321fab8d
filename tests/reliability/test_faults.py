"""Real clients (services.client.Client) under faults converge to the server's
state and every command lands exactly once.

- Network: each client talks through its own loopback proxy that delays, drops
  (cuts mid-stream) and cuts every connection now and then.
- Server crash: ten clients keep working while the server is killed with
  kill -9 at random moments five times and restarted on the same port and db.
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

from testkit.server import ServerProcess
from testkit.workload import start_fleet, stop_all
from tests.reliability.fleet import check_database, check_exactly_once, converge
from tests.reliability.proxy import FaultyProxy

ENV = {"TANDEM_PICKUP_INTERVAL": "0", "TANDEM_AUTO_CANCEL_INTERVAL": "0",
       "TANDEM_PING_INTERVAL": "2"}


async def test_clients_converge_through_a_bad_network(tmp_path: Path) -> None:
    rng = random.Random(404)
    with ServerProcess(tmp_path / "srv", seed="staff", env=ENV) as srv:
        names = ["operator", "operator", "therapist1", "driver1"]
        proxies = [await FaultyProxy.start(srv.port, seed=i) for i in range(len(names))]
        workers = await start_fleet(lambda i: proxies[i].url, names, tmp_path, seed=11)
        try:
            for _ in range(40):
                for p in proxies:  # a new weather for each link
                    p.delay = rng.choice([0.0, 0.01, 0.05, 0.2])
                    p.drop_rate = rng.choice([0.0, 0.0, 0.05, 0.2])
                    if rng.random() < 0.15:
                        p.cut()
                    p.down = rng.random() < 0.1
                for w in workers:
                    if rng.random() < 0.7:
                        w.act()
                await asyncio.sleep(rng.uniform(0.05, 0.4))
            for p in proxies:  # the signal comes back
                p.delay, p.drop_rate, p.down = 0.0, 0.0, False
            await converge(srv, workers)
            assert check_exactly_once(srv, workers) >= 40
        finally:
            await stop_all(workers)
            for p in proxies:
                await p.close()


async def test_clients_converge_across_server_crashes(tmp_path: Path) -> None:
    rng = random.Random(909)
    with ServerProcess(tmp_path / "srv", seed="staff", env=ENV) as srv:
        names = ["operator"] * 4 + ["therapist1", "therapist2", "therapist3", "driver1",
                                    "driver2", "operator"]
        workers = await start_fleet(lambda i: srv.url, names, tmp_path, seed=22)
        try:
            for _ in range(5):
                for _ in range(rng.randint(5, 20)):  # busy, then kill -9 mid-flight
                    for w in workers:
                        if rng.random() < 0.5:
                            w.act()
                    await asyncio.sleep(rng.uniform(0.02, 0.2))
                srv.kill()
                for w in workers:  # work goes on offline
                    if rng.random() < 0.5:
                        w.act()
                await asyncio.to_thread(srv.start)
            await converge(srv, workers, timeout=240)
            assert check_exactly_once(srv, workers) >= 50
            check_database(srv)
        finally:
            await stop_all(workers)
