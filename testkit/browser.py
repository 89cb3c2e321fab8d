"""Driving the Flet web UI in Chromium: Flutter draws on a canvas, so tests
work through its accessibility tree (see shared notes on Flet UI testing)."""

from __future__ import annotations

import time
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect
from playwright.sync_api import Error as PlaywrightError

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
TABLET = {"width": 820, "height": 1180}
DESKTOP = {"width": 1440, "height": 900}
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
PASSWORD = "demo1234"


def open_app(
    browser: Browser, url: str, viewport: dict[str, int], context: BrowserContext | None = None
) -> Page:
    ctx = context or browser.new_context(viewport=viewport)  # type: ignore[arg-type]
    page = ctx.new_page()
    page.goto(url, timeout=90_000)  # a busy machine serves the Flutter bundle slowly
    # Flutter's semantics tree is off until asked for; a plain click() fails.
    page.locator("flt-semantics-placeholder").dispatch_event("click")
    return page


# Resolves after two frames (or a second: a window in the background gets none).
_FRAMES_JS = """() => new Promise(done => {
    const timer = setTimeout(done, 1000);
    requestAnimationFrame(() => requestAnimationFrame(() => { clearTimeout(timer); done(); }));
})"""


def type_into(box: Locator, value: str, timeout: float = 30_000) -> None:
    """Put `value` into a Flutter text field so that it stays there.

    A click focuses the field's <input>; Flutter's engine then takes that
    element over as its editing element and writes the framework's text
    (still empty) into it. A fill() that lands before the takeover is wiped
    or never reaches the framework: on a loaded machine a form was sent with
    the field empty ("Please give a start time", "Enter your username").
    So: click, wait for focus and two frames, fill, and check after two more
    frames that the text held; otherwise do it again."""
    page = box.page
    deadline = time.monotonic() + timeout / 1000
    while True:
        box.click()
        try:
            expect(box).to_be_focused(timeout=3_000)
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            page.bring_to_front()  # focus goes to the window in front only
            continue
        page.evaluate(_FRAMES_JS)
        box.fill(value)
        page.evaluate(_FRAMES_JS)
        if box.input_value() == value:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{box} would not keep {value!r}")


def login(page: Page, username: str, password: str = PASSWORD) -> None:
    page.bring_to_front()  # Flutter only paints (and builds semantics) in the front tab
    box = page.get_by_role("textbox", name="Username")
    box.wait_for(timeout=60_000)
    type_into(box, username)
    type_into(page.get_by_role("textbox", name="Password"), password)
    page.get_by_role("button", name="Sign in").click()
    connection(page).wait_for(timeout=60_000)


def ident(page: Page, identifier: str) -> Locator:
    """The element a view tagged with `identifier` (Flet's semantics identifier)."""
    return page.locator(f'[flt-semantics-identifier="{identifier}"]')


def connection(page: Page) -> Locator:
    return ident(page, "connection")


def card(page: Page, appt_id: str) -> Locator:
    return ident(page, f"appt-{appt_id}")


_TEXT_JS = """e => [e, ...e.querySelectorAll('*')]
    .map(n => (n.getAttribute('aria-label') || '') + ' ' +
              (n.childElementCount ? '' : n.textContent))
    .join(' ')"""


def accessible_text(locator: Locator) -> str:
    """All the words Flutter's semantics tree gives an element: labels and text."""
    return str(locator.evaluate(_TEXT_JS, timeout=2_000))


def expect_text(locator: Locator, text: str, timeout: float = 10_000, present: bool = True) -> None:
    """Wait until the element's accessible text contains `text` (or no longer does)."""
    deadline = time.monotonic() + timeout / 1000
    last = ""
    while True:
        try:
            last = accessible_text(locator)
        except PlaywrightError:
            last = "<not there>"
        if (text in last) == present:
            return
        if time.monotonic() > deadline:
            wanted = "contain" if present else "lose"
            raise AssertionError(f"expected {locator} to {wanted} {text!r}; it says: {last!r}")
        time.sleep(0.1)


def expect_no_text(locator: Locator, text: str, timeout: float = 10_000) -> None:
    expect_text(locator, text, timeout, present=False)


def shoot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.bring_to_front()  # a window behind others isn't repainted
    page.wait_for_timeout(500)
    page.screenshot(path=str(path))
    return path
