"""The web UI still loads and signs in under the server's security headers
(issue 17, point 6): Chromium enforces the Content-Security-Policy, and no
part of the Flet client is refused by it — as the UI-only process serves it
(`main.py --server`) and as the server serves it itself (`main.py`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from testkit import loopback, process
from testkit.browser import DESKTOP, connection, expect_text, login, shoot
from testkit.server import free_port, main_process
from tests.e2e.conftest import UiProcess

pytestmark = pytest.mark.timeout(900)
RIVE = "https://cdn.jsdelivr.net/npm/@rive-app/"


def violations_of(page: Page) -> list[str]:
    """Every CSP refusal the page reports (console and securitypolicyviolation)."""
    seen: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            seen.append(message.text)

    page.on("console", console)
    page.add_init_script("""document.addEventListener('securitypolicyviolation', e =>
        console.error('Content Security Policy violation: ' + e.violatedDirective
                      + ' ' + e.blockedURI));""")
    return seen


def check_headers(url: str) -> None:
    r = loopback.get(url, timeout=30)
    assert r.status_code == 200
    policy = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "default-src 'self'" in policy, policy
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "access-control-allow-origin" not in r.headers


def sign_in_under_the_policy(browser: Browser, url: str, name: str) -> None:
    check_headers(url)
    context = browser.new_context(viewport=DESKTOP)  # type: ignore[arg-type]
    page = context.new_page()
    seen = violations_of(page)  # listening from the first byte
    page.goto(url, timeout=90_000)  # as ui.open_app, with the listener on first
    page.locator("flt-semantics-placeholder").dispatch_event("click")
    login(page, "operator")
    # Signed in: the sign-in form is gone and the operator's screen is up.
    expect(page.get_by_role("textbox", name="Username")).to_have_count(0, timeout=60_000)
    expect_text(connection(page), "Online", timeout=60_000)  # the live stream is up
    page.wait_for_timeout(5000)  # the canvas paints after the semantics tree when busy
    shoot(page, f"csp-{name}")
    # Flet's engine also fetches the Rive animation runtime from a CDN at
    # start; Tandem has no Rive animation, and allowing that CDN's scripts
    # (any npm package) would void script-src. Everything else must load.
    assert [line for line in seen if RIVE not in line] == [], seen


def test_the_ui_process_serves_a_policy_flet_runs_under(browser: Browser, ui: UiProcess) -> None:
    sign_in_under_the_policy(browser, ui.url, "ui-process")


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[str]:
    """`python main.py`: the server with the web UI mounted (the demo seed)."""
    port = free_port()
    log = tmp_path / "embedded.log"
    proc = main_process(["--port", str(port), "--data-dir", str(tmp_path / "data")],
                        {**os.environ, "TANDEM_SECRET_KEY": "e2e-embedded-secret-0123456789abcdef"},
                        log)
    url = f"http://127.0.0.1:{port}/app/"
    try:
        process.wait_serving(proc, url, log, "main.py", timeout=180)
        yield url
    finally:
        process.stop(proc)


def test_the_server_serves_the_ui_under_the_same_policy(browser: Browser, embedded: str) -> None:
    sign_in_under_the_policy(browser, embedded, "embedded")
