"""The operator's console in Chromium against the real server: the pending
queue follows a therapist's accept live; a payment the operator verifies
moves the therapist's card on; a booking made in the dialog shows at once
and reaches the therapist."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from testkit.browser import (
    DESKTOP,
    TABLET,
    card,
    expect_no_text,
    expect_text,
    ident,
    login,
    open_app,
    shoot,
    type_into,
)
from tests.e2e.conftest import Operator, UiProcess

pytestmark = pytest.mark.timeout(900)

TO_PAYMENT = (
    ("accept", "therapist1"),
    ("confirm", "driver1"),
    ("start", "operator"),
    ("start_journey", "driver1"),
    ("arrive", "driver1"),
    ("drop_off", "driver1"),
    ("start_session", "therapist1"),
    ("request_payment", "therapist1"),
)


def test_therapist_accept_updates_the_pending_queue_live(
    browser: Browser, ui: UiProcess, operator: Operator
) -> None:
    first = operator.book(hour=9)
    second = operator.book(hour=11)
    console = open_app(browser, ui.url, DESKTOP)
    therapist = open_app(browser, ui.url, TABLET)
    login(console, "operator")
    login(therapist, "therapist1")

    console.bring_to_front()
    count = ident(console, "count-pending")
    expect_text(count, "2", timeout=30_000)
    expect_text(ident(console, f"queue-{first}"), "left")  # the countdown

    therapist.bring_to_front()
    card(therapist, first).get_by_role("button", name="Accept").click()

    console.bring_to_front()
    expect_no_text(count, "2", timeout=15_000)
    expect_text(count, "1")
    expect(ident(console, f"queue-{first}")).to_have_count(0)
    expect(ident(console, f"queue-{second}")).to_have_count(1)


def test_verify_payment_moves_the_therapists_card_on(
    browser: Browser, ui: UiProcess, operator: Operator
) -> None:
    aid = operator.book(hour=13)
    operator.advance(aid, *TO_PAYMENT)
    other = operator.book(hour=16, therapist="therapist2")
    console = open_app(browser, ui.url, DESKTOP)
    therapist = open_app(browser, ui.url, TABLET)
    login(therapist, "therapist1")
    login(console, "operator")

    therapist.bring_to_front()
    expect_text(card(therapist, aid), "Awaiting payment — operator is verifying", timeout=30_000)

    console.bring_to_front()
    queued = ident(console, f"queue-{aid}")
    expect_text(queued, "Verify payment", timeout=30_000)
    expect_text(ident(console, f"queue-{other}"), "left")
    shoot(console, "operator-console-1440")

    queued.get_by_role("button", name="Verify payment").click()
    type_into(console.get_by_role("textbox", name="Amount"), "1200")
    shoot(console, "operator-verify-dialog")
    console.get_by_role("button", name="Verify payment").last.click()
    expect(ident(console, f"queue-{aid}")).to_have_count(0, timeout=15_000)

    therapist.bring_to_front()
    expect_text(card(therapist, aid), "Payment verified — complete the session", timeout=15_000)
    expect(card(therapist, aid).get_by_role("button", name="Complete")).to_be_visible()


def test_booking_in_the_dialog_shows_at_once_and_reaches_the_therapist(
    browser: Browser, ui: UiProcess, operator: Operator
) -> None:
    console = open_app(browser, ui.url, DESKTOP)
    therapist = open_app(browser, ui.url, TABLET)
    login(therapist, "therapist1")
    login(console, "operator")

    console.bring_to_front()
    console.get_by_role("button", name="New appointment").click()
    dialog = ident(console, "booking-dialog")
    dialog.wait_for(timeout=15_000)
    console.get_by_role("button", name="New client").click()
    for label, value in (
        ("First name", "Nina"),
        ("Last name", "Ocampo"),
        ("Phone", "+63 918 222 0199"),
        ("Client address", "5 Orchid St, Makati"),
    ):
        type_into(console.get_by_role("textbox", name=label), value)
    console.get_by_role("button", name="Add client").click()
    # the new client is chosen (their address becomes the location)
    expect(console.get_by_role("button", name="Add client")).to_have_count(0, timeout=10_000)
    console.get_by_role("checkbox", name="Swedish Massage").click()
    console.get_by_role("checkbox", name="Ana Reyes").click()
    for label, value in (("Start", "14:00"), ("End", "15:00")):
        type_into(console.get_by_role("textbox", name=label), value)
    shoot(console, "operator-booking-dialog")
    console.get_by_role("button", name="Book").click()

    pending = ident(console, "group-pending")
    expect_text(pending, "Nina Ocampo", timeout=10_000)  # optimistic: at once
    expect_text(pending, "5 Orchid St, Makati")
    therapist.bring_to_front()
    expect_text(ident(therapist, "group-answer"), "Nina Ocampo", timeout=15_000)
