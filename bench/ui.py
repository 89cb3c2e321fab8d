"""**ui** — what people see: a tap on one screen and the change on the others.

The embedded app (`main.py`, demo seed, a temporary data dir) runs under
`bench/ui_app.py`, which stamps each stage in Python. One Chromium (Debian's,
through Playwright) holds three windows: the operator (1440×900), therapist1
(820×1180) and driver1 (390×844). Every round the operator books a fresh
request through the API; then the therapist taps Accept, the driver taps
Confirm trip and the operator taps Start. A script injected into each page
(`bench/ui_page.js`) stamps the tap (pointerdown), every websocket frame and
the moment the expected words appear in Flutter's semantics tree (a
MutationObserver), on the browser's clock, which is the machine's wall clock
like Python's `time.time()`. "Own screen" is the tapper's window; "other
screen" each other window. The breakdown puts the stages in order, each as
the p50 of its own duration: tap → the Flet event in Python → the store
dispatch → the own patch queued → received by the browser → painted; and
dispatch → the command posted → at the server → published → at the other
session's client → its shell's render → its patch queued → received → painted.

The same bench then opens many headless sessions (bench/ui_sessions.py: Flet's
own websocket protocol, signed in as the operator) and measures the time until
the last of them receives a new booking and a booking's new address, memory
per session and CPU per change per session; then the same sessions on the
minimal Flet app for many screens (bench/ui_floor.py: Tandem's queues with no
store, sync client, server or shell), the framework's floor beside them.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import httpx

from bench.common import ROOT
from bench.report import Result
from testkit import process
from testkit.server import free_port

if TYPE_CHECKING:
    from bench.ui_sessions import Changes, Fleet

ZONE = ZoneInfo("Asia/Manila")
GAP = 1.0  # seconds between taps
PASSWORD = "demo1234"
PAGE_JS = Path(__file__).with_name("ui_page.js").read_text()
# Every window paints, not only the one in front (Chromium throttles the others).
BACKGROUND_ARGS = [
    "--disable-renderer-backgrounding",
    "--disable-background-timer-throttling",
    "--disable-backgrounding-occluded-windows",
]
OPERATOR, THERAPIST, DRIVER = "operator", "therapist1", "driver1"
SIZES = {
    OPERATOR: {"width": 1440, "height": 900},
    THERAPIST: {"width": 820, "height": 1180},
    DRIVER: {"width": 390, "height": 844},
}


# ---- the app under test -------------------------------------------------------------


class App:
    """`python -m bench.ui_app` (main.py with stage stamps) on a free loopback port."""

    def __init__(self, root: Path, code: Path = ROOT) -> None:
        self.port = free_port()
        self.root = root
        self.trace = root / "trace.jsonl"
        self.log = root / "app.log"
        self.code = code
        self.env: dict[str, str] = {}  # more environment for the app
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> App:
        cmd = [sys.executable, "-m", "bench.ui_app", "--port", str(self.port),
               "--data-dir", str(self.root / "data")]
        env = {**os.environ, "TANDEM_TRACE": str(self.trace), "TANDEM_TIMEZONE": "Asia/Manila",
               "PYTHONPATH": str(self.code), **self.env}
        if not env["TANDEM_TRACE"]:
            del env["TANDEM_TRACE"]
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(cmd, cwd=self.code, stdout=out, stderr=subprocess.STDOUT,
                                         env=env)
        process.wait_serving(self.proc, self.url + "/app/", self.log, "the app")
        return self

    def stop(self) -> None:
        process.stop(self.proc)

    def stamps(self) -> list[tuple[float, str, str | None, dict[str, Any]]]:
        out = []
        for line in self.trace.read_text().splitlines():
            with_ms = json.loads(line)
            out.append((with_ms[0] * 1000, with_ms[1], with_ms[2], with_ms[3]))
        return out


class Api:
    """The operator booking through the API (what another screen would do)."""

    def __init__(self, url: str) -> None:
        token = httpx.post(url + "/api/auth/login",
                           json={"username": OPERATOR, "password": PASSWORD},
                           timeout=15).json()["token"]
        self.http = httpx.Client(base_url=url, timeout=15,
                                 headers={"Authorization": f"Bearer {token}"})
        boot = self.http.get("/api/sync/bootstrap").json()
        self.ids = {s["username"]: s["id"] for s in boot["staff"]}
        self.client_id = boot["clients"][0]["id"]
        self.service_id = boot["services"][0]["id"]
        self.seq = int(time.time() * 1000) % 10**9
        self.slot = 0

    def command(self, name: str, target: str | None, args: dict[str, Any]) -> httpx.Response:
        self.seq += 1
        return self.http.post("/api/commands", json={
            "client_id": "bench-ui", "seq": self.seq, "name": name, "target": target,
            "args": args, "base_version": None})

    def book(self) -> str:
        """A fresh pending request for therapist1 and driver1, today, in the
        next free 20-minute slot (slots the demo data holds are skipped)."""
        today = datetime.now(ZONE).date().isoformat()
        while self.slot < 70:
            start = 6 * 60 + 15 * self.slot
            self.slot += 2
            aid = str(uuid.uuid4())
            r = self.command("appointment.create", aid, {
                "client_id": self.client_id, "service_ids": [self.service_id],
                "therapist_ids": [self.ids[THERAPIST]], "driver_id": self.ids[DRIVER],
                "date": today, "start_time": f"{start // 60:02d}:{start % 60:02d}",
                "end_time": f"{(start + 20) // 60:02d}:{(start + 20) % 60:02d}",
                "location": f"{self.slot} Acacia Lane, Makati"})
            if r.status_code == 200:
                return aid
        raise RuntimeError(f"no free slot to book: {r.text}")

    def cancel(self, aid: str) -> None:
        self.command("appointment.cancel", aid, {"reason": "bench"})


# ---- the windows ----------------------------------------------------------------------


def ident(identifier: str) -> str:
    return f'[flt-semantics-identifier="{identifier}"]'


@dataclass
class Tap:
    path: str  # "therapist accepts", ...
    tapper: str
    tap: float  # browser ms
    seen: dict[str, float]  # user -> ms the change showed
    browser_ws: dict[str, list[list[Any]]] = field(default_factory=dict)
    nodes: dict[str, int] = field(default_factory=dict)  # user -> semantics nodes before it


@dataclass
class Step:
    path: str
    tapper: str
    button: tuple[str, str]  # (selector of the container, button name)
    expect: dict[str, tuple[str, str, str]]  # user -> (selector, kind, words)


def steps(aid: str) -> list[Step]:
    card, queue = ident(f"appt-{aid}"), ident(f"queue-{aid}")
    return [
        Step("therapist taps Accept", THERAPIST, (card, "Accept"), {
            THERAPIST: (card, "has", "Accepted — waiting for your driver"),
            OPERATOR: (queue, "gone", ""),
            DRIVER: (card, "has", "Therapist accepted — confirm the trip")}),
        Step("driver taps Confirm trip", DRIVER, (card, "Confirm trip"), {
            DRIVER: (card, "has", "Ready to start — waiting for operator"),
            OPERATOR: (queue, "appears", ""),
            THERAPIST: (card, "has", "Ready to start — waiting for operator")}),
        Step("operator taps Start", OPERATOR, (queue, "Start"), {
            OPERATOR: (queue, "gone", ""),
            THERAPIST: (card, "has", "Started — your driver is setting off"),
            DRIVER: (card, "has", "Started — start the journey")}),
    ]


@contextmanager
def browser_windows(url: str) -> Iterator[dict[str, Any]]:
    from playwright.sync_api import sync_playwright

    from testkit.browser import CHROMIUM_ARGS, login

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium,
                                    args=[*CHROMIUM_ARGS, *BACKGROUND_ARGS])
        try:
            pages: dict[str, Any] = {}
            for user in (OPERATOR, THERAPIST, DRIVER):
                ctx = browser.new_context(viewport=SIZES[user])  # type: ignore[arg-type]
                ctx.add_init_script(PAGE_JS)
                page = ctx.new_page()
                page.goto(url + "/app/", timeout=90_000)
                page.locator("flt-semantics-placeholder").dispatch_event("click")
                login(page, user)
                pages[user] = page
            yield pages
        finally:
            browser.close()


def wait_all(pages: dict[str, Any], names: list[tuple[str, str]], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for user, name in names:
        while pages[user].evaluate("n => window.__bench.seen(n)", name) is None:
            if time.monotonic() > deadline:
                shot = Path(tempfile.gettempdir()) / f"bench-ui-{user}.png"
                pages[user].screenshot(path=str(shot))
                raise TimeoutError(f"{user} never showed {name} (see {shot})")
            time.sleep(0.02)


def ready(pages: dict[str, Any], aid: str, timeout: float = 30) -> None:
    """Until every window shows the new request (not timed)."""
    card, queue = ident(f"appt-{aid}"), ident(f"queue-{aid}")
    pages[THERAPIST].evaluate("([s]) => window.__bench.arm('ready', s, 'has', 'Accept')",
                              [card])
    pages[DRIVER].evaluate("([s]) => window.__bench.arm('ready', s, 'appears', '')", [card])
    pages[OPERATOR].evaluate("([s]) => window.__bench.arm('ready', s, 'appears', '')", [queue])
    wait_all(pages, [(u, "ready") for u in pages], timeout)


def tap(pages: dict[str, Any], step: Step, n: int, timeout: float = 20) -> Tap:
    name = f"w{n}"
    for user, (sel, kind, words) in step.expect.items():
        pages[user].evaluate("([n, s, k, w]) => window.__bench.arm(n, s, k, w)",
                             [name, sel, kind, words])
    nodes = {u: int(pages[u].evaluate("window.__bench.nodes()")) for u in pages}
    page = pages[step.tapper]
    taps_before = page.evaluate("window.__bench.taps.length")
    container, label = step.button
    page.locator(container).get_by_role("button", name=label, exact=True).click(timeout=10_000)
    wait_all(pages, [(u, name) for u in step.expect], timeout)
    taps = page.evaluate("window.__bench.taps")
    t0 = float(taps[taps_before]) if len(taps) > taps_before else float(taps[-1])
    seen = {u: float(pages[u].evaluate("n => window.__bench.seen(n)", name)) for u in step.expect}
    ws = {u: pages[u].evaluate("window.__bench.ws.splice(0)") for u in pages}
    return Tap(step.path, step.tapper, t0, seen, ws, nodes)


# ---- the breakdown ------------------------------------------------------------------

OWN_STAGES = ("browser sends the tap", "Flet event reaches Python", "store dispatch",
              "own view patch queued", "own patch at the browser", "own change painted")
OTHER_STAGES = ("command posted (sender)", "command at the server", "server publishes",
                "event at the other session's client", "its shell renders",
                "its view patch queued", "its patch at the browser", "its change painted")


def first(stamps: list[tuple[float, str, str | None, dict[str, Any]]], after: float,
          stage: str, who: str | None = None, before: float = float("inf")) -> float | None:
    for t, s, w, _ in stamps:
        if t >= after and s == stage and (who is None or w == who) and t <= before:
            return t
    return None


def first_ws(ws: list[list[Any]], after: float, direction: str) -> float | None:
    return next((float(t) for t, d, _ in ws if d == direction and t >= after), None)


def breakdown(t: Tap, stamps: list[tuple[float, str, str | None, dict[str, Any]]],
              sids: dict[str, str]) -> dict[str, dict[str, float | None]]:
    """{user: {stage: ms since the tap}} for one tap (None: not seen)."""
    end = max(t.seen.values()) + 50
    window = [s for s in stamps if t.tap - 5 <= s[0] <= end]
    me = sids.get(t.tapper)
    out: dict[str, dict[str, float | None]] = {}
    sent = first_ws(t.browser_ws[t.tapper], t.tap, "out")
    event = first(window, t.tap - 5, "event", me)
    dispatch = first(window, event or t.tap, "dispatch", t.tapper)
    # the tap's handler sends the card as soon as the dispatch returns (the
    # shell's render of the change comes after)
    dispatched = first(window, dispatch or t.tap, "dispatched", t.tapper)
    own_patch = first(window, dispatched or dispatch or t.tap, "send", me)
    own_in = first_ws(t.browser_ws[t.tapper], own_patch or t.tap, "in")
    out[t.tapper] = dict(zip(OWN_STAGES, (sent, event, dispatch, own_patch, own_in,
                                          t.seen[t.tapper]), strict=True))
    post = first(window, dispatch or t.tap, "post", t.tapper)
    server = first(window, post or t.tap, "server_in")
    publish = first(window, server or t.tap, "publish")
    for user, seen in t.seen.items():
        if user == t.tapper:
            continue
        sid = sids.get(user)
        got = first(window, publish or t.tap, "client_event", user)
        render = first(window, got or t.tap, "apply", sid)
        patch = first(window, render or t.tap, "send", sid)
        arrived = first_ws(t.browser_ws[user], patch or t.tap, "in")
        out[user] = dict(zip(OTHER_STAGES, (post, server, publish, got, render, patch,
                                            arrived, seen), strict=True))
    return {u: {k: (None if v is None else v - t.tap) for k, v in stages.items()}
            for u, stages in out.items()}


def pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q / 100 * (len(xs) - 1))))]


def sessions_of(stamps: list[tuple[float, str, str | None, dict[str, Any]]]) -> dict[str, str]:
    """user -> Flet session id (from the shell's render stamps; the latest wins)."""
    out: dict[str, str] = {}
    for _, stage, who, extra in stamps:
        if stage == "apply" and who and extra.get("user"):
            out[str(extra["user"])] = who
    return out


# ---- the run ---------------------------------------------------------------------------


Stages = dict[str, dict[str, float | None]]


def measure(rounds: int, app_root: Path = ROOT) -> tuple[list[Tap], list[Stages], dict[str, Any]]:
    """`rounds` × (accept, confirm, start) against a fresh app (the code in
    `app_root`: another checkout for an A/B run); the taps and their breakdowns."""
    root = Path(tempfile.mkdtemp(prefix="bench-ui-"))
    app = App(root, app_root).start()
    info: dict[str, Any] = {"load before": os.getloadavg()}
    try:
        api = Api(app.url)
        taps: list[Tap] = []
        with browser_windows(app.url) as pages:
            for user in pages:  # a warm-up round's frames are not kept
                pages[user].evaluate("window.__bench.ws.splice(0)")
            for r in range(rounds + 1):
                aid = api.book()
                ready(pages, aid)
                for i, step in enumerate(steps(aid)):
                    # a tap into a settled app: the hidden sections have caught
                    # up with the last change (views/shell.py, 0.3 s after it)
                    time.sleep(GAP)
                    got = tap(pages, step, r * 3 + i)
                    if r > 0:  # round 0 warms up (first renders, JIT of the paths)
                        taps.append(got)
                api.cancel(aid)
        stamps = app.stamps()
        sids = sessions_of(stamps)
        info["bytes per patch"] = patch_sizes(stamps)
        info["spans"] = spans(stamps, sids)
        info["pages"] = page_sizes(stamps, sids, taps)
    finally:
        app.stop()
        info["load after"] = os.getloadavg()
        if not os.environ.get("BENCH_UI_KEEP"):
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"kept {root}")
    return taps, [breakdown(t, stamps, sids) for t in taps], info


def spans(stamps: list[tuple[float, str, str | None, dict[str, Any]]],
          sids: dict[str, str]) -> dict[str, list[float]]:
    """Durations of work done on the app's event loop (ms), by what it was:
    the outbox's durable append, the cache's flush copy, each role's render
    of a change (the shell's apply)."""
    pairs = {"enqueue": ("enqueued", "outbox append"),
             "flush": ("flushed", "cache flush copy"),
             "apply": ("applied", "render of a change")}
    role = {sid: user for user, sid in sids.items()}
    started: dict[tuple[str, str | None], float] = {}
    out: dict[str, list[float]] = {}
    for t, stage, who, _ in stamps:
        if stage in pairs:
            started[(stage, who)] = t
        for begin, (end, name) in pairs.items():
            if stage == end and (begin, who) in started:
                label = f"{name}, {role[who]}" if begin == "apply" and who in role else name
                out.setdefault(label, []).append(t - started.pop((begin, who)))
    return out


@dataclass
class PageSize:
    """A window's page at its taps (p50 over them): the controls the browser
    holds (Flet's index, hidden sections included), those shown, the most
    common types shown, and Flutter's semantics nodes."""
    held: float
    shown: float
    nodes: float
    types: dict[str, int]


def page_sizes(stamps: list[tuple[float, str, str | None, dict[str, Any]]],
               sids: dict[str, str], taps: list[Tap]) -> dict[str, PageSize]:
    out = {}
    for user, sid in sids.items():
        held = [float(e["controls"]) for _, s, w, e in stamps if s == "event" and w == sid
                and "controls" in e]
        counts = [e for _, s, w, e in stamps if s == "census" and w == sid]
        nodes = [float(t.nodes[user]) for t in taps if user in t.nodes]
        types = counts[-1]["types"] if counts else {}
        out[user] = PageSize(pct(held, 50), pct([float(e["shown"]) for e in counts], 50),
                             pct(nodes, 50), types)
    return out


def patch_sizes(stamps: list[tuple[float, str, str | None, dict[str, Any]]]) -> float:
    sizes = [float(e.get("bytes", 0)) for _, s, _, e in stamps if s == "send"]
    return statistics.median(sizes) if sizes else float("nan")


def summarize(res: Result, taps: list[Tap], parts: list[dict[str, dict[str, float | None]]],
              label: str = "") -> None:
    own = [t.seen[t.tapper] - t.tap for t in taps]
    other = [v - t.tap for t in taps for u, v in t.seen.items() if u != t.tapper]
    res.add(f"{label}own screen p50", pct(own, 50), "ms", 50, note=f"{len(own)} taps")
    res.add(f"{label}own screen p99", pct(own, 99), "ms", 120)
    res.add(f"{label}other screen p50", pct(other, 50), "ms", 100, note=f"{len(other)} screens")
    res.add(f"{label}other screen p99", pct(other, 99), "ms", 250)
    for path in dict.fromkeys(t.path for t in taps):
        mine = [t for t in taps if t.path == path]
        o = [t.seen[t.tapper] - t.tap for t in mine]
        x = [v - t.tap for t in mine for u, v in t.seen.items() if u != t.tapper]
        res.add(f"{label}{path}: own / other p50", pct(o, 50), "ms",
                note=f"other p50 {pct(x, 50):.0f} ms, p99 {pct(x, 99):.0f} ms")


def stage_rows(res: Result, parts: list[dict[str, dict[str, float | None]]],
               label: str = "") -> str:
    """A row per stage: the p50 of its own duration (from the stage before it;
    the other screens' first stage from the store dispatch). Returns the
    stage with the largest p50."""
    worst = ("", -1.0)
    for kind, stages in (("own", OWN_STAGES), ("other", OTHER_STAGES)):
        prev = "store dispatch" if kind == "other" else None
        for stage in stages:
            durations, cumulative = [], []
            for p in parts:
                own = next(iter(p.values()))  # the tapper's stages come first
                for got in (p.values() if kind == "other" else [own]):
                    if stage not in got or (kind == "other" and got is own):
                        continue
                    cur = got[stage]
                    base = 0.0 if prev is None else (got.get(prev) if prev in got
                                                     else own.get(prev))
                    if cur is None:
                        continue
                    cumulative.append(cur)
                    if base is not None:
                        durations.append(cur - base)
            d50 = pct(durations, 50)
            res.add(f"{label}stage ({kind}): {stage}", d50, "ms",
                    note=f"at {pct(cumulative, 50):.0f} ms after the tap (p50)")
            if d50 > worst[1]:
                worst = (f"{kind}: {stage}", d50)
            prev = stage
    return worst[0]


def screens(sizes: tuple[int, ...], events: int, app_root: Path = ROOT,
            profile: str | None = None) -> Result:
    """Many open sessions (bench/ui_sessions.py) against a fresh app. With
    `profile` (a file), the app profiles each kind of change (cProfile,
    bench/ui_app.py `profile_on_signal`) into <profile>.<sessions>.<kind>."""
    from bench.common import run_loop
    from bench.ui_sessions import run_fleets

    res = Result("ui screens")
    root = Path(tempfile.mkdtemp(prefix="bench-ui-fleet-"))
    app = App(root, app_root)
    # no stage stamps: they would write a line per session per change (the
    # first passes' figures carried them)
    app.env["TANDEM_TRACE"] = ""
    if profile:
        app.env["TANDEM_PROFILE_ALL"] = profile
    app.start()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    try:
        assert app.proc is not None
        fleets = run_loop(run_fleets(app.url, app.proc.pid, sizes, events, PASSWORD, profile))
    finally:
        app.stop()
        shutil.rmtree(root, ignore_errors=True)
    load_after = " ".join(f"{x:.2f}" for x in os.getloadavg())
    for f in fleets:
        target = 500.0 if f.n >= 200 else None
        res.add(f"{f.n} sessions: last one shows the change", pct(f.latencies, 50) * 1000, "ms",
                target, note=f"median session {pct(f.p50s, 50) * 1000:.0f} ms; worst of "
                f"{len(f.latencies)} events {max(f.latencies, default=float('nan')) * 1000:.0f} "
                f"ms; {f.missing} missed; {f.failed} sign-ins timed out; load {load} -> "
                f"{load_after}")
        edit = f.others["edit"]
        res.add(f"{f.n} sessions: last one shows a booking's new address",
                pct(edit.latencies, 50) * 1000, "ms", note=f"median session "
                f"{pct(edit.p50s, 50) * 1000:.0f} ms; {edit.missing} missed; the card in place")
        res.add(f"{f.n} sessions: CPU per new address per session",
                edit.cpu_per_event_session * 1000, "ms",
                note=f"{edit.bytes_per_event_session:.0f} bytes to each session")
        res.add(f"{f.n} sessions: memory per session", f.rss_per_session / 2**20, "MiB",
                note="app RSS growth / sessions opened")
        res.add(f"{f.n} sessions: CPU per event per session", f.cpu_per_event_session * 1000,
                "ms", note="app process CPU (server included) over its idle use / events / "
                "sessions")
        res.add(f"{f.n} sessions: sent per event per session", f.bytes_per_event_session,
                "bytes", note="every frame a session received after the booking (1 s)")
        res.add(f"{f.n} sessions: idle CPU per session", f.idle_per_session * 100, "% of a core",
                note="an open operator screen doing nothing (its countdowns tick each second)")
        if f.sign_ins:
            tail = f.sign_ins[-10:]
            res.add(f"{f.n} sessions: a sign-in, the last ten", pct(tail, 50) * 1000, "ms",
                    note=f"first ten p50 {pct(f.sign_ins[:10], 50) * 1000:.0f} ms; five at a "
                    "time, click to the operator's screen")
    return res


def floor_screens(sizes: tuple[int, ...], events: int, profile: str | None = None) -> Result:
    """The many sessions against the minimal app (bench/ui_floor.py): the same
    new queue card at every session with no store, sync client, server or
    shell; then a one-Text change. Flet's floor beside `screens`."""
    from bench.common import run_loop
    from bench.ui_sessions import run_floor_fleets

    res = Result("ui screens: minimal flet app")
    port = free_port()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if profile:
        env["TANDEM_PROFILE_ALL"] = profile
    proc = subprocess.Popen([sys.executable, "-m", "bench.ui_floor", "--port", str(port)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_up(url + "/app/", proc, "the minimal app")
        fleets = run_loop(run_floor_fleets(url, proc.pid, sizes, events, profile))
    finally:
        proc.terminate()
        proc.wait(10)
    load_after = " ".join(f"{x:.2f}" for x in os.getloadavg())
    for f in fleets:
        # (what the last session shows, the CPU row's name, its fleet, more words)
        kinds: list[tuple[str, str, Fleet | Changes, str]] = [("the new card", "new card", f, ""),
                 ("a booking's new address", "new address", f.others["edit"], ""),
                 ("a card a fifth the size", "small card", f.others["compact"],
                  "; 7 controls, not 29"),
                 ("a one-Text change", "one-Text change", f.others["text"], "")]
        for shows, per, fleet, more in kinds:
            note = f"median session {pct(fleet.p50s, 50) * 1000:.0f} ms; "
            if fleet is f:
                note += (f"worst of {len(f.latencies)} "
                         f"{max(f.latencies, default=float('nan')) * 1000:.0f} ms; "
                         f"{f.missing} missed; load {load} -> {load_after}")
            else:
                note += f"{fleet.missing} missed{more}"
            res.add(f"{f.n} sessions: last one shows {shows}", pct(fleet.latencies, 50) * 1000,
                    "ms", note=note)
            res.add(f"{f.n} sessions: CPU per {per} per session",
                    fleet.cpu_per_event_session * 1000, "ms",
                    note=f"{fleet.bytes_per_event_session:.0f} bytes to each session")
        res.add(f"{f.n} sessions: memory per session", f.rss_per_session / 2**20, "MiB",
                note="app RSS growth / sessions opened (the queues, empty)")
    return res


def wait_up(url: str, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.2)


@dataclass
class Minimal:
    """A page of the minimal app (bench/ui_minimal.py) and how the bench taps it."""
    label: str
    path: str  # its mount, with {n} for the controls it shows
    users: tuple[str, ...]  # its windows (their sizes), the first the tapper...
    rotate: bool  # ...or each in turn, as Tandem's three taps
    button: str  # the selector of what holds the button "Tap"


MINIMAL_PAGES = (
    Minimal("2-control page", "/app/", (OPERATOR, DRIVER), False, "body"),
    Minimal("page our size", "/text-{n}/", (OPERATOR, THERAPIST, DRIVER), True, ident("value")),
    Minimal("page our size, buttons swapped", "/buttons-{n}/", (OPERATOR, THERAPIST, DRIVER),
            True, ident("value")),
    Minimal("page our size, buttons relabelled", "/relabel-{n}/",
            (OPERATOR, THERAPIST, DRIVER), True, ident("value")),
    Minimal("page our size, the card moves", "/move-{n}/", (OPERATOR, THERAPIST, DRIVER), True,
            ident("value")),
)
# `--quick` (the smoke test): the two-control page and one page of our size
QUICK_PAGES = MINIMAL_PAGES[:2]
# Tandem's pages at its taps (shown controls), for `bench ui` runs without
# its windows' census (`--minimal-first`; the fourth pass's: 2026-12-03)
OUR_SIZES = {OPERATOR: 279, THERAPIST: 268, DRIVER: 250}


def minimal(taps: int, sizes: dict[str, int] | None = None,
            kinds: tuple[Minimal, ...] = MINIMAL_PAGES) -> Result:
    """The same tap-to-screens path in the minimal Flet app (bench/ui_minimal.py),
    Flet's and Flutter's floor beside Tandem's figures: a page of two
    controls, and a page the size of each of Tandem's (`sizes`, the controls
    shown per user) whose tap changes one card's status line in place."""
    from playwright.sync_api import sync_playwright

    from testkit.browser import CHROMIUM_ARGS

    res = Result("ui minimal flet app")
    sizes = {**OUR_SIZES, **(sizes or {})}
    port = free_port()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    sized = [a for u in sorted(set(sizes.values())) for a in ("--sized", str(u))]
    proc = subprocess.Popen([sys.executable, "-m", "bench.ui_minimal", "--port", str(port),
                             *sized], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_up(url + "/app/", proc, "the minimal app")
        chromium = shutil.which("chromium") or "/usr/bin/chromium"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium,
                                        args=[*CHROMIUM_ARGS, *BACKGROUND_ARGS])
            try:
                for kind in kinds:
                    got = minimal_taps(browser, url, kind, sizes, taps)
                    shown = httpx.get(url + "/sizes/", timeout=5).json()
                    minimal_rows(res, kind, got, {
                        u: shown[kind.path.format(n=sizes[u]).rstrip("/")] for u in kind.users})
            finally:
                browser.close()
    finally:
        proc.terminate()
        proc.wait(10)
    res.rows[0].note += f"; load {load}"
    return res


def minimal_taps(browser: Any, url: str, kind: Minimal, sizes: dict[str, int],
                 taps: int) -> list[Tap]:
    pages = {}
    for user in kind.users:
        ctx = browser.new_context(viewport=SIZES[user])
        ctx.add_init_script(PAGE_JS)
        page = ctx.new_page()
        page.goto(url + kind.path.format(n=sizes[user]), timeout=90_000)
        page.locator("flt-semantics-placeholder").dispatch_event("click")
        page.locator(kind.button).get_by_role("button", name="Tap").wait_for(timeout=60_000)
        pages[user] = page
    out = []
    sel = ident("value")
    for n in range(1, taps + 2):
        time.sleep(GAP)
        tapper = kind.users[n % len(kind.users)] if kind.rotate else kind.users[0]
        step = Step("tap", tapper, (kind.button, "Tap"), {
            u: (sel, "has", f"Value {n}") for u in pages})
        got = tap(pages, step, n)
        if n > 1:  # the first one warms up
            out.append(got)
    for page in pages.values():
        page.context.close()
    return out


def minimal_rows(res: Result, kind: Minimal, taps: list[Tap], shown: dict[str, int]) -> None:
    """Own and other screen, p50 / p99, and the browser's part of each: the
    patch's arrival (the first websocket frame after the tap) and its paint."""
    own: dict[str, list[float]] = {"seen": [], "in": []}
    other: dict[str, list[float]] = {"seen": [], "in": []}
    sent = [s - t.tap for t in taps
            if (s := first_ws(t.browser_ws[t.tapper], t.tap, "out")) is not None]
    for t in taps:
        for user, seen in t.seen.items():
            got = own if user == t.tapper else other
            got["seen"].append(seen - t.tap)
            arrived = first_ws(t.browser_ws[user], t.tap, "in")
            if arrived is not None:
                got["in"].append(arrived - t.tap)
    for screen, got in (("own", own), ("other", other)):
        res.add(f"{kind.label}: {screen} screen p50", pct(got["seen"], 50), "ms",
                note=f"p99 {pct(got['seen'], 99):.0f} ms; {len(got['seen'])} screens; "
                + (f"the tap sent {pct(sent, 50):.0f} ms after it, " if screen == "own" else "")
                + f"the patch at the browser {pct(got['in'], 50):.0f} ms after the tap (p50), "
                f"painted {pct(got['seen'], 50) - pct(got['in'], 50):.0f} ms later")
        res.add(f"{kind.label}: {screen} screen p99", pct(got["seen"], 99), "ms")
    for user in kind.users:
        nodes = [float(t.nodes[user]) for t in taps if user in t.nodes]
        res.add(f"{kind.label}: page size, {user}: controls shown", float(shown[user]), "",
                note=f"{pct(nodes, 50):.0f} semantics nodes")


def run(rounds: int, quick: bool = False, app_root: Path = ROOT,
        sizes: tuple[int, ...] = (50, 200), events: int = 3,
        profile: str | None = None, minimal_first: bool = False) -> list[Result]:
    """`rounds` 0: only the many sessions (Tandem's, then the minimal app's).
    `minimal_first`: the minimal app's windows before Tandem's (runs
    alternating the order, so neither always has the machine's calmer turn)."""
    out = []
    kinds = QUICK_PAGES if quick else MINIMAL_PAGES
    if rounds and minimal_first:  # (pages of OUR_SIZES: Tandem's not counted yet)
        out.append(beside("ui minimal flet app", lambda: minimal(3 * rounds, kinds=kinds)))
        out.insert(0, windows(rounds, app_root)[0])
    elif rounds:
        tandem, pages = windows(rounds, app_root)
        out.append(tandem)
        ours = {u: int(p.shown) for u, p in pages.items() if not math.isnan(p.shown)}
        out.append(beside("ui minimal flet app", lambda: minimal(3 * rounds, ours, kinds)))
    if sizes:
        out.append(screens(sizes, events, app_root, profile and profile + ".tandem"))
        out.append(beside("ui screens: minimal flet app", lambda: floor_screens(
            sizes, events, profile and profile + ".floor")))
    if not quick and app_root == ROOT and rounds >= 20 and len(sizes) > 1:
        write_run(out)  # a full run of this tree, not a diagnostic or an A/B leg
    return out


def beside(name: str, measure: Any) -> Result:
    """A minimal app's figures: context, so Tandem's stand alone when it fails."""
    try:
        result: Result = measure()
    except Exception as exc:
        failed = Result(name)
        failed.add("run", float("nan"), "", note=f"FAILED: {exc!r}"[:200])
        return failed
    return result


def write_run(results: list[Result]) -> None:
    """bench/ui_run.md: this run's table, kept in BENCHMARKS.md by the next
    `bench all` (bench/markdown.py) even when `ui` is run alone."""
    import datetime as dt

    from bench.report import table

    lines = [f"## ui: last full run ({dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC)", "",
             table(results), ""]
    lines += [f"- {n}" for r in results for n in r.notes]
    Path(__file__).with_name("ui_run.md").write_text("\n".join(lines) + "\n")
    splice(ROOT / "BENCHMARKS.md")


UI_BEGIN, UI_END = "<!-- ui:begin -->", "<!-- ui:end -->"


def splice(path: Path) -> None:
    """Put bench/ui.md and bench/ui_run.md into BENCHMARKS.md between the ui
    markers (before the soak section when there are none yet), so a `bench ui`
    run alone shows there; a full `bench all` rewrites the file with both."""
    here = Path(__file__).parent
    parts = [(here / name).read_text().strip() for name in ("ui.md", "ui_run.md")
             if (here / name).exists()]
    block = "\n".join([UI_BEGIN, *parts, UI_END])
    text = path.read_text() if path.exists() else ""
    if UI_BEGIN in text and UI_END in text:
        head, rest = text.split(UI_BEGIN, 1)
        text = head + block + rest.split(UI_END, 1)[1]
    elif "<!-- soak:begin -->" in text:
        head, rest = text.split("<!-- soak:begin -->", 1)
        text = head + block + "\n\n<!-- soak:begin -->" + rest
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text)


def windows(rounds: int, app_root: Path = ROOT) -> tuple[Result, dict[str, PageSize]]:
    """Tandem's three windows, and its pages' sizes at the taps."""
    res = Result("ui")
    taps, parts, info = measure(rounds, app_root)
    summarize(res, taps, parts)
    dominant = stage_rows(res, parts)
    res.add("median message to a browser", info["bytes per patch"], "bytes")
    for name, took in sorted(info["spans"].items()):
        res.add(f"on the loop: {name}", pct(took, 50), "ms",
                note=f"p99 {pct(took, 99):.1f} ms, {len(took)} times")
    for user, size in info["pages"].items():
        common = sorted(size.types.items(), key=lambda kv: -kv[1])[:6]
        res.add(f"page size, {user}: controls shown", size.shown, "",
                note=f"{size.held:.0f} held by the browser (hidden sections too); "
                f"{size.nodes:.0f} semantics nodes; " + ", ".join(f"{n} {k}" for k, n in common))
    load = " ".join(f"{x:.2f}" for x in info["load before"])
    res.notes.append(f"load before {load}; dominant stage: {dominant}")
    res.rows[0].note += f"; load {load}"
    return res, info["pages"]


def main(argv: list[str] | None = None) -> int:
    import argparse

    from bench.report import table

    p = argparse.ArgumentParser(prog="python -m bench.ui")
    p.add_argument("--rounds", type=int, default=20,
                   help="rounds of taps in the three windows (0: only the many sessions)")
    p.add_argument("--app-root", type=Path, default=ROOT,
                   help="run the app from this checkout (A/B runs against older code)")
    p.add_argument("--sessions", default="",
                   help="headless session counts, comma-separated ('' for none)")
    p.add_argument("--events", type=int, default=3)
    p.add_argument("--profile", default=None, metavar="PREFIX",
                   help="cProfile each app's handling of the sessions' changes into "
                   "PREFIX.{tandem,floor}.<sessions>.<kind> (pstats files, and .gc)")
    p.add_argument("--minimal-first", action="store_true",
                   help="the minimal app's windows before Tandem's (alternating runs)")
    ns = p.parse_args(argv)
    sizes = tuple(int(x) for x in ns.sessions.split(",") if x)
    results = run(ns.rounds, app_root=ns.app_root, sizes=sizes, events=ns.events,
                  profile=ns.profile, minimal_first=ns.minimal_first)
    print(table(results))
    for r in results:
        for n in r.notes:
            print(n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
