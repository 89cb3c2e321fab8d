"""Many screens at once: headless web sessions speaking Flet's own websocket
protocol (msgpack frames `[0x00][action, body]`, flet/messaging/protocol.py)
against the app, each signed in as the operator like a browser would: it
registers (page size, route), fills the sign-in form (UPDATE_CONTROL_PROPS),
clicks Sign in (CONTROL_EVENT), answers every INVOKE_METHOD the app asks
(device preferences), and then receives the patches. Flet's protocol has no
acknowledgement of patches; a browser sends nothing back for them either.

Figures: the app process's memory per open session, its CPU per event per
session, and the time from a booking made through the API until the last
of the sessions has received the patch that shows it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import msgpack
from websockets.asyncio.client import ClientConnection, connect

from bench.common import cpu_seconds, rss_bytes

REGISTER, PATCH, EVENT, PROPS, INVOKE = 1, 2, 3, 4, 5


def pack(action: int, body: dict[str, Any]) -> bytes:
    return b"\x00" + msgpack.packb([action, body])


def controls(message: Any) -> list[dict[str, Any]]:
    """Every control a decoded message carries (dicts with a type and an id)."""
    found: list[dict[str, Any]] = []
    stack = [message]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "_c" in item and "_i" in item:
                found.append(item)
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return found


@dataclass
class Screen:
    """One headless web session."""

    ws: ClientConnection
    index: dict[str, int] = field(default_factory=dict)  # label/text -> control id
    signed_in: asyncio.Event = field(default_factory=asyncio.Event)
    marker: bytes = b""
    seen_at: float | None = None
    received: int = 0  # bytes of patches
    ready_key: str = "connection"  # the words that say the screen is up (signed in)

    async def pump(self) -> None:
        async for data in self.ws:
            assert isinstance(data, bytes)
            if self.marker and self.seen_at is None and self.marker in data:
                self.seen_at = time.time()
            self.received += len(data)
            if not self.signed_in.is_set() or data[2:3] == bytes([INVOKE]):
                self.read(msgpack.unpackb(data[1:], strict_map_key=False))

    def read(self, message: list[Any]) -> None:
        action, body = message[0], message[1]
        if action == INVOKE:
            asyncio.get_running_loop().create_task(self.ws.send(pack(INVOKE, {
                "control_id": body["control_id"], "call_id": body["call_id"],
                "result": None, "error": None})))
            return
        for c in controls(body):
            for key in ("label", "content", "identifier"):
                if isinstance(c.get(key), str):
                    self.index[c[key]] = c["_i"]
        if self.ready_key in self.index:
            self.signed_in.set()


async def register(url: str, size: tuple[int, int] = (1440, 900),
                   ready_key: str = "connection") -> tuple[Screen, asyncio.Task[None]]:
    """Connect and register like a browser tab (its page size, route "/")."""
    ws = await connect(url.replace("http", "ws", 1) + "/app/ws", max_size=None,
                       compression=None, open_timeout=60, ping_interval=None)
    screen = Screen(ws, ready_key=ready_key)
    task = asyncio.get_running_loop().create_task(screen.pump())
    await ws.send(pack(REGISTER, {"session_id": None, "page_name": "app", "page": {
        "route": "/", "web": True, "platform": "linux", "width": float(size[0]),
        "height": float(size[1])}}))
    return screen, task


async def open_screen(url: str, user: str, password: str,
                      size: tuple[int, int] = (1440, 900)) -> tuple[Screen, asyncio.Task[None]]:
    screen, task = await register(url, size)
    ws = screen.ws
    deadline = time.monotonic() + 120
    while not {"Username", "Password", "Sign in"} <= screen.index.keys():
        if time.monotonic() > deadline or task.done():
            raise RuntimeError(f"no sign-in form: {sorted(screen.index)[:20]}")
        await asyncio.sleep(0.02)
    await ws.send(pack(PROPS, {"id": screen.index["Username"], "props": {"value": user}}))
    await ws.send(pack(PROPS, {"id": screen.index["Password"], "props": {"value": password}}))
    await ws.send(pack(EVENT, {"target": screen.index["Sign in"], "name": "click", "data": None}))
    await asyncio.wait_for(screen.signed_in.wait(), 120)
    return screen, task


async def open_plain(url: str) -> tuple[Screen, asyncio.Task[None]]:
    """A session of the minimal app (bench/ui_floor.py): up once it shows
    its "ready" mark; nothing to sign in to."""
    screen, task = await register(url, ready_key="ready")
    await asyncio.wait_for(screen.signed_in.wait(), 120)
    return screen, task


async def quiet(pid: int, seconds: float = 1.0, limit: float = 10.0) -> float:
    """Until the app's CPU use stops falling (it never reaches zero: each
    operator screen's countdowns tick every second); its last rate (cores)."""
    deadline = time.monotonic() + limit
    last = float("inf")
    while True:
        before = cpu_seconds(pid)
        await asyncio.sleep(seconds)
        rate = (cpu_seconds(pid) - before) / seconds
        if rate >= last * 0.9 or time.monotonic() > deadline:
            return rate
        last = rate


Opened = tuple[Screen, asyncio.Task[None]]


@dataclass
class Changes:
    """One kind of change, made `events` times, timed at every open session."""

    latencies: list[float]  # per event: seconds until the last session had it
    p50s: list[float]  # per event: the median session
    cpu_per_event_session: float  # seconds, over the idle use
    missing: int
    bytes_per_event_session: float  # what each session received for one change


@dataclass
class Fleet:
    n: int
    rss_per_session: float
    latencies: list[float]  # per event: seconds until the last session had it
    p50s: list[float]  # per event: the median session
    cpu_per_event_session: float  # seconds, over the idle use
    missing: int
    idle_per_session: float  # cores an open session uses doing nothing (countdowns)
    failed: int = 0  # sign-ins that did not finish in time (the fleet goes on without them)
    sign_ins: list[float] = field(default_factory=list)  # seconds each, in the order opened
    bytes_per_event_session: float = 0.0
    others: dict[str, Changes] = field(default_factory=dict)  # further kinds of change


async def changes(pid: int, screens: list[Opened], events: int, make: Any,
                  idle: float, profile: tuple[str, str] | None = None) -> Changes:
    """`events` times: `make(marker)` (in a thread), then wait until every
    session has received a patch carrying the marker. With `profile` (the
    file the app was started with as TANDEM_PROFILE_ALL, bench/ui_app.py,
    and where to keep it), the app profiles them."""
    lasts, mids, cpu, missing, received = [], [], 0.0, 0, 0
    if profile:
        for stale in (profile[0], profile[0] + ".gc"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(stale)
        os.kill(pid, signal.SIGUSR1)
    for _ in range(events):
        marker = f"Bench Lane {time.time_ns()}"
        for s, _ in screens:
            s.marker, s.seen_at = marker.encode(), None
        before = sum(s.received for s, _ in screens)
        c0, t0 = cpu_seconds(pid), time.time()
        await asyncio.to_thread(make, marker)
        deadline = time.monotonic() + 30
        while any(s.seen_at is None for s, _ in screens) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        got = [s.seen_at - t0 for s, _ in screens if s.seen_at is not None]
        missing += len(screens) - len(got)
        if got:
            lasts.append(max(got))
            mids.append(statistics.median(got))
        await asyncio.sleep(1.0)  # the hidden sections catch up (views/shell.py)
        cpu += cpu_seconds(pid) - c0 - idle * (time.time() - t0)
        received += sum(s.received for s, _ in screens) - before
    if profile:
        os.kill(pid, signal.SIGUSR2)
        for _ in range(100):  # the app writes them from its signal handler
            if os.path.exists(profile[0] + ".gc"):
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.2)
        os.replace(profile[0], profile[1])
        os.replace(profile[0] + ".gc", profile[1] + ".gc")
    n = max(1, len(screens)) * max(1, events)
    return Changes(lasts, mids, cpu / n, missing, received / n)


def profiled(path: str | None, n: int, kind: str) -> tuple[str, str] | None:
    """The app's profile file and where to keep one kind of change's at one
    size: <path>.<sessions>.<kind> (and its .gc beside it)."""
    return None if path is None else (path, f"{path}.{n}.{kind}")


async def fleet(url: str, pid: int, n: int, events: int, book: Any, password: str,
                already: list[Opened], opener: Any = None,
                others: dict[str, Any] | None = None, profile: str | None = None) -> Fleet:
    """Open sessions up to `n` (added to `already`; `opener(url)`, default a
    sign-in as the operator), then `events` bookings (`book(marker)`), then
    `events` of each further kind of change in `others`."""
    await quiet(pid)
    rss0 = rss_bytes(pid)
    had = len(already)
    failed = 0
    sign_ins: list[float] = []

    async def timed() -> Opened:
        began = time.monotonic()
        opened = await (opener(url) if opener is not None
                        else open_screen(url, "operator", password))
        sign_ins.append(time.monotonic() - began)
        return opened

    for start in range(had, n, 5):  # five sign-ins at a time
        opened = await asyncio.gather(*(timed() for _ in range(start, min(n, start + 5))),
                                      return_exceptions=True)
        already += [o for o in opened if not isinstance(o, BaseException)]
        failed += sum(isinstance(o, BaseException) for o in opened)
    idle = await quiet(pid, 2.0)
    per_session = (rss_bytes(pid) - rss0) / max(1, len(already) - had)
    main = await changes(pid, already, events, book, idle, profiled(profile, n, "new"))
    more = {name: await changes(pid, already, events, make, idle, profiled(profile, n, name))
            for name, make in (others or {}).items()}
    return Fleet(len(already), per_session, main.latencies, main.p50s,
                 main.cpu_per_event_session, main.missing, idle / max(1, len(already)), failed,
                 sign_ins, main.bytes_per_event_session, more)


def booker(url: str, password: str) -> tuple[Any, Any]:
    """Two functions: one books a pending request whose location is
    `marker`; the other moves the last booking to `marker` (its card
    changes in place)."""
    import uuid
    from datetime import datetime
    from zoneinfo import ZoneInfo

    token = httpx.post(url + "/api/auth/login", json={"username": "operator",
                                                      "password": password}).json()["token"]
    http = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    boot = http.get("/api/sync/bootstrap").json()
    ids = {s["username"]: s["id"] for s in boot["staff"]}
    state: dict[str, Any] = {"seq": int(time.time()) % 10**8, "slot": 0, "last": None,
                             "version": 0}

    def book(marker: str) -> None:
        today = datetime.now(ZoneInfo("Asia/Manila")).date().isoformat()
        while state["slot"] < 60:
            start = 6 * 60 + 15 * state["slot"]
            state["slot"] += 1
            state["seq"] += 1
            target = str(uuid.uuid4())
            r = http.post("/api/commands", json={
                "client_id": "bench-fleet", "seq": state["seq"], "name": "appointment.create",
                "target": target, "base_version": None, "args": {
                    "client_id": boot["clients"][0]["id"],
                    "service_ids": [boot["services"][0]["id"]],
                    "therapist_ids": [ids["therapist2"]], "driver_id": ids["driver2"],
                    "date": today, "start_time": f"{start // 60:02d}:{start % 60:02d}",
                    "end_time": f"{(start + 10) // 60:02d}:{(start + 10) % 60:02d}",
                    "location": marker}})
            if r.status_code == 200:
                state["last"], state["version"] = target, 1
                return
        raise RuntimeError("no free slot for the fleet's bookings")

    def edit(marker: str) -> None:
        if state["last"] is None:
            book("Bench Lane first")
        state["seq"] += 1
        r = http.post("/api/commands", json={
            "client_id": "bench-fleet", "seq": state["seq"], "name": "appointment.update",
            "target": state["last"], "base_version": state["version"],
            "args": {"location": marker}})
        r.raise_for_status()
        state["version"] += 1

    return book, edit


async def run_fleets(url: str, pid: int, sizes: tuple[int, ...], events: int,
                     password: str, profile: str | None = None) -> list[Fleet]:
    book, edit = booker(url, password)
    screens: list[Opened] = []
    out = []
    try:
        for n in sizes:
            out.append(await fleet(url, pid, n, events, book, password, screens,
                                   others={"edit": edit}, profile=profile))
    finally:
        await close_all(screens)
    return out


async def run_floor_fleets(url: str, pid: int, sizes: tuple[int, ...], events: int,
                           profile: str | None = None) -> list[Fleet]:
    """The same against the minimal app (bench/ui_floor.py): a new queue card
    at every session, then a one-Text change (`others["text"]`)."""
    def change(kind: str) -> Any:
        def make(marker: str) -> None:
            httpx.post(url + "/bench/change", params={"kind": kind, "marker": marker},
                       timeout=30).raise_for_status()
        return make

    screens: list[Opened] = []
    out = []
    try:
        for n in sizes:
            out.append(await fleet(url, pid, n, events, change("card"), "", screens,
                                   opener=open_plain, others={
                                       "edit": change("edit"), "compact": change("compact"),
                                       "text": change("text")},
                                   profile=profile))
    finally:
        await close_all(screens)
    return out


async def close_all(screens: list[Opened]) -> None:
    for s, task in screens:
        await s.ws.close()
        task.cancel()
