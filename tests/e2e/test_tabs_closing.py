"""Closing tabs is normal: the web UI's terminal shows no traceback when a
tab closes while events for it keep coming (issue: "Exception in ASGI
application … InvalidState: connection is closing", "'NoneType' object has no
attribute 'loop'", "coroutine 'Shell.apply' was never awaited")."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Browser

from testkit.browser import PHONE, card, expect_text, login, open_app
from tests.e2e.conftest import Operator, UiProcess

pytestmark = pytest.mark.timeout(900)


def test_closing_tabs_mid_stream_prints_no_traceback(
    browser: Browser, ui: UiProcess, operator: Operator
) -> None:
    first = open_app(browser, ui.url, PHONE)
    login(first, "driver1")
    aid = operator.book(hour=9)
    expect_text(card(first, aid), "Pending — waiting for the therapist to accept")

    # close it abruptly while events for it stream in (its session lingers)
    first.context.close()
    for hour in (10, 11, 12):
        operator.book(hour=hour)
        time.sleep(0.3)

    second = open_app(browser, ui.url, PHONE)
    login(second, "driver1")
    expect_text(card(second, aid), "Pending — waiting for the therapist to accept")
    second.context.close()
    time.sleep(2)  # let the server notice the closes

    log = ui.log.read_text(errors="replace")
    assert "Traceback" not in log, log[-4000:]
    assert "never awaited" not in log, log[-4000:]
