"""Attendance in a real Chromium against a real server: a therapist clocks
in on the tablet and the operator's Attendance page shows her in, live."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page

from server.seed import demo_id
from testkit.browser import DESKTOP, PHONE, TABLET, expect_text, ident, login, open_app, shoot
from tests.e2e.conftest import UiProcess

pytestmark = pytest.mark.timeout(900)


def go_to(tab: Page, title: str, short: str) -> None:
    """A page by its rail title, or its bottom bar's shorter one."""
    tab.get_by_role("tab", name=title).or_(tab.get_by_role("button", name=title)).or_(
        tab.get_by_role("tab", name=short)).first.click()


def test_a_therapist_clocks_in_and_the_operator_sees_her_in(
    browser: Browser, ui: UiProcess
) -> None:
    operator = open_app(browser, ui.url, DESKTOP)
    login(operator, "operator")
    go_to(operator, "Attendance", "Hours")
    in_now = ident(operator, "in-now")
    expect_text(in_now, "Nobody is clocked in right now.", timeout=30_000)

    therapist = open_app(browser, ui.url, TABLET)
    login(therapist, "therapist2")
    go_to(therapist, "Attendance", "Hours")
    ident(therapist, "clock-in").click()
    card = ident(therapist, "attendance")
    expect_text(card, "Clocked in since", timeout=30_000)
    expect_text(card, "so far", timeout=30_000)  # the server's answer replaced the device's
    shoot(therapist, "attendance-therapist-tablet")

    operator.bring_to_front()
    expect_text(in_now, "Maria Santos", timeout=30_000)
    expect_text(ident(operator, "week-" + demo_id("user", "therapist2")), "min", timeout=30_000)
    shoot(operator, "attendance-operator-desktop")

    driver = open_app(browser, ui.url, PHONE)
    login(driver, "driver1")
    go_to(driver, "Attendance", "Hours")
    expect_text(ident(driver, "attendance"), "Not clocked in", timeout=30_000)
    shoot(driver, "attendance-driver-phone")

