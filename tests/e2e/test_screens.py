"""`python main.py` as shipped (embedded server, demo data on first run, web UI
at /app) in Chromium: each role at its device size, with screenshots."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from testkit import loopback, process
from testkit.browser import (
    DESKTOP,
    PHONE,
    TABLET,
    accessible_text,
    connection,
    expect_text,
    login,
    open_app,
    shoot,
    type_into,
)
from testkit.server import free_port, main_process

# Real processes and a browser on a shared, busy machine: allow for slow starts.
pytestmark = pytest.mark.timeout(900)


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    proc = main_process(["--port", str(port), "--data-dir", str(tmp_path / "data")],
                        os.environ, tmp_path / "main.log")
    url = f"http://127.0.0.1:{port}"
    process.wait_serving(proc, url + "/api/health", tmp_path / "main.log", "main.py")
    banner = (tmp_path / "main.log").read_text()
    assert f"{url}/app" in banner and "therapist1" in banner, banner
    yield url
    proc.terminate()
    proc.wait(10)


def test_each_role_at_its_device_size(browser: Browser, embedded: str, tmp_path: Path) -> None:
    home = loopback.get(embedded + "/", follow_redirects=False, timeout=30)
    assert home.headers["location"] == "/app/"

    driver = open_app(browser, embedded + "/app/", PHONE)
    login(driver, "driver1")
    expect_text(connection(driver), "Online", timeout=20_000)
    # the demo day as a dispatcher plans it: one trip under way per driver
    expect_text(driver.locator("flt-semantics-host"), "Start journey")
    words = accessible_text(driver.locator("flt-semantics-host"))
    assert re.search(r"Current trip\W*\(1\)", words), words
    expect(
        driver.get_by_role("button", name="Confirm trip")
        .or_(driver.get_by_role("button", name="Complete return"))
        .first
    ).to_be_visible()
    shoot(driver, "driver-390x844")

    therapist = open_app(browser, embedded + "/app/", TABLET)
    login(therapist, "therapist1")
    expect_text(connection(therapist), "Online", timeout=20_000)
    expect(therapist.get_by_role("button", name="Accept").first).to_be_visible()
    shoot(therapist, "therapist-820x1180")

    operator = open_app(browser, embedded + "/app/", DESKTOP)
    login(operator, "operator")
    expect_text(connection(operator), "Online", timeout=20_000)
    expect(operator.get_by_role("button", name="Start").first).to_be_visible()
    shoot(operator, "operator-1440x900")

    # every tab signed in with its own client store on disk
    sessions = [p for p in (tmp_path / "data" / "sessions").iterdir() if any(p.rglob("*.jsonl"))]
    assert len(sessions) == 3


def test_wrong_password_is_a_friendly_message(browser: Browser, embedded: str) -> None:
    page = open_app(browser, embedded + "/app/", PHONE)
    page.get_by_role("textbox", name="Username").wait_for(timeout=60_000)
    type_into(page.get_by_role("textbox", name="Username"), "driver1")
    type_into(page.get_by_role("textbox", name="Password"), "not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect_text(page.locator("flt-semantics-host"), "password", timeout=10_000)
    expect(connection(page)).to_have_count(0)
