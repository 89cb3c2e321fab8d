"""End-to-end fixtures: the real API server (testkit/server.py), the web
UI as `main.py --server URL` in its own process (so the API can be stopped
under a live UI), and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import contextlib
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from testkit import process
from testkit.browser import ARTIFACTS, CHROMIUM_ARGS, PASSWORD, accessible_text
from testkit.server import ServerProcess, free_port, main_process
from tests.e2e.proxy import Relay
from tests.support.requires import require_binary

ZONE = ZoneInfo("Asia/Manila")  # the server's default business time zone


class UiProcess:
    """`python main.py --server URL` on a free loopback port."""

    def __init__(self, server_url: str, data_dir: Path) -> None:
        self.port = free_port()
        self.data_dir = data_dir
        self.server_url = server_url
        self.log = data_dir / "ui.log"
        self.proc: process.Running | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/app/"

    def start(self) -> UiProcess:
        args = ["--server", self.server_url, "--port", str(self.port),
                "--data-dir", str(self.data_dir)]
        self.proc = main_process(args, {**os.environ, "TANDEM_TIMEZONE": "Asia/Manila"},
                                 self.log)
        process.wait_serving(self.proc, self.url, self.log, "the UI")
        return self

    def stop(self) -> None:
        process.stop(self.proc)


class Operator:
    """The operator acting through the API (what another screen would do)."""

    def __init__(self, srv: ServerProcess) -> None:
        self.srv = srv
        self.http = srv.client("operator", PASSWORD)
        boot = self.http.get("/api/sync/bootstrap").json()
        self.ids = {s["username"]: s["id"] for s in boot["staff"]}
        self.client_id = boot["clients"][0]["id"]
        self.service_id = boot["services"][0]["id"]
        self.seq = 0
        self.tokens: dict[str, str] = {}

    def today(self) -> str:
        return datetime.now(ZONE).date().isoformat()

    def command(
        self,
        name: str,
        target: str | None,
        args: dict[str, Any] | None = None,
        as_user: str = "operator",
    ) -> httpx.Response:
        self.seq += 1
        headers = {}
        if as_user != "operator":
            token = self.tokens.get(as_user) or self.srv.login(as_user, PASSWORD)
            self.tokens[as_user] = token
            headers["Authorization"] = f"Bearer {token}"
        return self.http.post(
            "/api/commands",
            headers=headers,
            json={
                "client_id": f"e2e-{as_user}",
                "seq": self.seq + int(time.time() * 1000) % 10**9,
                "name": name,
                "target": target,
                "args": args or {},
                "base_version": None,
            },
        )

    def book(self, hour: int, therapist: str = "therapist1", driver: str = "driver1") -> str:
        aid = str(uuid.uuid4())
        r = self.command(
            "appointment.create",
            aid,
            {
                "client_id": self.client_id,
                "service_ids": [self.service_id],
                "therapist_ids": [self.ids[therapist]],
                "driver_id": self.ids[driver],
                "date": self.today(),
                "start_time": f"{hour:02d}:00",
                "end_time": f"{hour:02d}:45",
                "location": "7 Acacia Lane, Makati",
            },
        )
        assert r.status_code == 200, r.text
        return aid

    def appointment(self, aid: str) -> dict[str, Any]:
        """The appointment as the server has it now."""
        boot = self.http.get("/api/sync/bootstrap").json()
        return next(a for a in boot["appointments"] if a["id"] == aid)

    def wait_for_status(self, aid: str, status: str, timeout: float = 30) -> None:
        """Until the server has the appointment in `status`."""
        deadline = time.monotonic() + timeout
        while (now := self.appointment(aid)["status"]) != status:
            assert time.monotonic() < deadline, f"{aid} is {now}, not {status}"
            time.sleep(0.2)

    def advance(self, aid: str, *steps: tuple[str, str]) -> None:
        for action, who in steps:
            r = self.command(f"appointment.{action}", aid, {}, as_user=who)
            assert r.status_code == 200, r.text


@pytest.fixture(scope="session")
def chromium() -> str:
    return require_binary("chromium", "apt-get install -y chromium")


@pytest.fixture(scope="module")
def playwright(chromium: str) -> Iterator[Playwright]:
    # Per module: sync Playwright keeps an event loop running in this thread
    # until it exits, and asyncio.run() in every later test would refuse to run.
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright, chromium: str) -> Iterator[Browser]:
    # Per module, not per session: an open Flutter page keeps rendering, and a
    # browser left open would starve every test that runs after the e2e ones.
    b = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
    yield b
    b.close()


FAILURES = ARTIFACTS.parent / "failures"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failed test leaves a screenshot and the words of every window it
    had open (taken here: before the fixtures stop the UI and the server)."""
    report = yield
    funcargs: dict[str, Any] = getattr(item, "funcargs", {})
    browser = funcargs.get("browser")
    if report.when == "call" and report.failed and isinstance(browser, Browser):
        FAILURES.mkdir(parents=True, exist_ok=True)
        pages = [p for c in browser.contexts for p in c.pages]
        for n, page in enumerate(pages):
            stem = FAILURES / f"{item.name}-{n}"
            with contextlib.suppress(PlaywrightError, AssertionError):
                page.bring_to_front()
                page.screenshot(path=f"{stem}.png")
                host = page.locator("flt-semantics-host")
                stem.with_suffix(".txt").write_text(accessible_text(host))
        for name, value in funcargs.items():  # the UI's and the server's logs
            log = getattr(value, "log", None) or getattr(value, "log_path", None)
            if isinstance(log, Path) and log.exists():
                shutil.copyfile(log, FAILURES / f"{item.name}-{name}.log")
    return report


@pytest.fixture(autouse=True)
def _close_contexts(browser: Browser) -> Iterator[None]:
    """Every test's windows are closed when it ends, whatever it opened."""
    yield
    for context in list(browser.contexts):
        context.close()


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ServerProcess]:
    """A fresh server per test: the demo staff and availability, no bookings."""
    # generous start-up: the machine running the suite may be busy
    srv = ServerProcess(tmp_path / "server", seed="staff", startup_timeout=120)
    srv.start()
    yield srv
    srv.close()


@pytest.fixture
def ui(api: ServerProcess, tmp_path: Path) -> Iterator[UiProcess]:
    proc = UiProcess(api.url, tmp_path / "ui")
    proc.data_dir.mkdir()
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture
def relay(api: ServerProcess) -> Iterator[Relay]:
    r = Relay(api.port)
    yield r
    r.close()


@pytest.fixture
def relayed_ui(relay: Relay, tmp_path: Path) -> Iterator[UiProcess]:
    """A UI whose way to the server (and only its) the test can cut."""
    proc = UiProcess(relay.url, tmp_path / "relayed-ui")
    proc.data_dir.mkdir()
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture
def operator(api: ServerProcess) -> Operator:
    return Operator(api)
