"""8. Device cold start: the installed app, started with the server out of
reach, until the driver's first cached trip is on screen.

A phone's app storage holds a driver's saved session (services.session
layout: session.json beside the store's cache and outbox) with N cached
appointments (the history of the store fakes, one driver's) plus today's
trips, and the preferences naming that user and server. One start is what
`main.py` runs on a device: a fresh views.app.Session (in the pure-Python
Flet harness of tests/views, which serializes every message as the real
transport does) with FilePrefs over that storage, resuming through
views.binding.resume: read the preferences, the saved session, open the
cache and outbox, build the driver's screen and send it. Timed from the
call of `Session.start` until a trip card is in the page. The server
address refuses connections (the listener keeps trying in the background).
Python's imports are done once before (a warm process); the files are in
the OS cache after the first start, as they are on a phone that was just
closed and opened again.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from pathlib import Path

import flet as ft

from bench.common import pct
from bench.report import Result
from domain.records import Record
from services import session as sessions
from store.store import Store
from testkit.fake_server import D1, FakeServer, appointment, business
from testkit.flet_harness import Harness
from testkit.server import free_port
from views.app import Session
from views.binding import connect, resume
from views.components import clock
from views.port import DeviceConfig, UiConfig
from views.prefs import FilePrefs

TARGET_P50_MS = 300.0
TODAY_TRIPS = 8


def _trips_today() -> list[Record]:
    today = clock.today().isoformat()
    statuses = ("in_progress", "driver_confirmed", "therapist_confirmed", "journey")
    return [
        appointment(f"today{i}", day=today, start=f"{8 + i:02d}:00", end=f"{9 + i:02d}:00",
                    status=statuses[i % len(statuses)])
        for i in range(TODAY_TRIPS)
    ]


def prepare(storage: Path, n: int, server_url: str) -> None:
    """A driver's app storage after a day's use: saved session, cache, prefs."""
    server = FakeServer(business(n))
    for trip in _trips_today():
        server.snap.put("appointment", trip)
    config = DeviceConfig(str(storage), resume)
    user = {"id": D1.id, "username": "driver1", "role": "driver", "name": "Dan"}
    folder = sessions.user_dir(Path(config.sessions_root), server_url, "driver1")
    sessions.Session(server_url, "a-saved-token", user, folder).save()
    store = Store(D1, directory=folder)
    store.bootstrap(server.bootstrap(D1))
    store.flush()
    store.close()
    Path(config.prefs_file).write_text(
        json.dumps({"last_user": "driver1", "last_server": server_url}))


async def cold_start(storage: Path, server_url: str) -> float:
    """One start of the app: ms until a trip card is on screen."""
    h = Harness(width=360, height=740)
    config = UiConfig(server_url=server_url, connect=connect,
                      device=DeviceConfig(str(storage), resume))
    assert config.device is not None
    session = Session(h.page, config, FilePrefs(config.device.prefs_file))
    t0 = time.perf_counter()
    await h.run(lambda _: session.start())  # returns with the page sent
    elapsed = (time.perf_counter() - t0) * 1000
    if not any((s.identifier or "").startswith("appt-") for s in h.by_type(ft.Semantics)):
        raise RuntimeError("the app started without the cached trips on screen")
    await session._stop_client(keep=True)  # the app closes; the session stays
    return elapsed


async def _measure(sizes: tuple[int, ...], starts: int) -> dict[int, list[float]]:
    server_url = f"http://127.0.0.1:{free_port()}"  # nothing listens: offline
    out: dict[int, list[float]] = {}
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix="tandem-device-") as tmp:
            storage = Path(tmp)
            prepare(storage, n, server_url)
            await cold_start(storage, server_url)  # warm the imports, not timed
            out[n] = [await cold_start(storage, server_url) for _ in range(starts)]
    return out


def run(sizes: tuple[int, ...] = (1000, 10_000), starts: int = 15) -> Result:
    res = Result("device")
    data = asyncio.run(_measure(sizes, starts))
    for n, ms in data.items():
        res.add(f"{n:,} cached: cold start offline -> first trip on screen p50",
                pct(ms, 50), "ms", TARGET_P50_MS,
                note=f"p99 {pct(ms, 99):.0f} ms, {len(ms)} starts, 360x740, harness")
    return res


if __name__ == "__main__":
    from bench.report import table

    print(table([run()]))
