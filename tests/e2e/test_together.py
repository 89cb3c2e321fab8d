"""Several people at once, each in their own browser window, against one real
server: every role's action reaches the other two roles' screens without a
reload; two operators acting on the same appointment at the same moment get
one outcome, and the one who lost is told so in plain words."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from testkit.browser import (
    DESKTOP,
    PHONE,
    TABLET,
    card,
    connection,
    expect_no_text,
    expect_text,
    ident,
    login,
    open_app,
    shoot,
)
from tests.e2e.conftest import Operator, UiProcess
from tests.e2e.proxy import Relay

# Real processes and a browser on a shared, busy machine: allow for slow starts.
pytestmark = pytest.mark.timeout(900)


def look(page: Page) -> Page:
    page.bring_to_front()  # Chromium paints (and updates semantics in) the front window only
    return page


def test_each_roles_action_reaches_the_other_two_live(
    browser: Browser, ui: UiProcess, operator: Operator
) -> None:
    console = open_app(browser, ui.url, DESKTOP)
    therapist = open_app(browser, ui.url, TABLET)
    driver = open_app(browser, ui.url, PHONE)
    login(console, "operator")
    login(therapist, "therapist1")
    login(driver, "driver1")

    aid = operator.book(hour=10)  # booked elsewhere: all three see it arrive
    queued, t_card, d_card = ident(console, f"queue-{aid}"), card(therapist, aid), card(driver, aid)
    look(console)
    expect_text(ident(console, "group-pending"), "7 Acacia Lane", timeout=20_000)
    expect_text(ident(console, "count-pending"), "1")
    look(therapist)
    expect_text(t_card, "New request — accept or reject", timeout=20_000)
    look(driver)
    expect_text(d_card, "Pending — waiting for the therapist to accept", timeout=20_000)

    # the therapist accepts: the operator's pending queue empties, the driver may confirm
    look(therapist)
    t_card.get_by_role("button", name="Accept").click()
    expect_text(t_card, "Accepted — waiting for your driver")
    look(console)
    expect(queued).to_have_count(0, timeout=20_000)
    expect_text(ident(console, "count-pending"), "0")
    look(driver)
    expect_text(d_card, "Therapist accepted — confirm the trip", timeout=20_000)

    # the driver confirms: it is ready for the operator to start; the therapist sees that
    d_card.get_by_role("button", name="Confirm trip").click()
    expect_text(d_card, "Ready to start — waiting for operator")
    look(console)
    expect_text(ident(console, "group-ready"), "7 Acacia Lane", timeout=20_000)
    expect_text(ident(console, "count-ready"), "1")
    look(therapist)
    expect_text(t_card, "Ready to start — waiting for operator", timeout=20_000)

    # the operator starts it: the driver sets off, the therapist is told
    look(console)
    queued.get_by_role("button", name="Start", exact=True).click()
    expect(queued).to_have_count(0, timeout=10_000)
    expect_text(ident(console, "count-ready"), "0")
    look(driver)
    expect_text(d_card, "Started — start the journey", timeout=20_000)
    expect(d_card.get_by_role("button", name="Start journey")).to_be_visible()
    look(therapist)
    expect_text(t_card, "Started — your driver is setting off", timeout=20_000)

    # nobody reloaded: every window is the session it signed in with
    for page in (console, therapist, driver):
        expect_text(connection(look(page)), "Online")


def test_two_operators_at_once_one_outcome_and_a_friendly_word(
    browser: Browser,
    ui: UiProcess,
    relayed_ui: UiProcess,
    relay: Relay,
    operator: Operator,
) -> None:
    """Operator B's link is cut at the moment both act (so the two actions
    really cross); when it comes back the server has already decided."""
    reviewed = operator.book(hour=9)
    r = operator.command(
        "appointment.reject", reviewed, {"reason": "Sick today"}, as_user="therapist1"
    )
    assert r.status_code == 200, r.text
    pending = operator.book(hour=15, therapist="therapist2", driver="driver2")

    a = open_app(browser, ui.url, DESKTOP)
    b = open_app(browser, relayed_ui.url, DESKTOP)
    login(a, "operator")
    login(b, "operator")
    for page in (a, b):
        look(page)
        expect_text(ident(page, f"queue-{reviewed}"), "Reason: Sick today", timeout=30_000)
        expect_text(ident(page, f"queue-{pending}"), "left", timeout=30_000)

    relay.cut()
    look(b)
    expect_text(connection(b), "Offline", timeout=20_000)
    # B accepts the rejection (the booking is cancelled) and cancels the other one...
    ident(b, f"queue-{reviewed}").get_by_role("button", name="Accept rejection").click()
    expect(ident(b, f"queue-{reviewed}")).to_have_count(0, timeout=10_000)  # optimistic
    ident(b, f"queue-{pending}").get_by_role("button", name="Cancel").click()
    b.get_by_role("button", name="Cancel appointment").click()
    expect(ident(b, f"queue-{pending}")).to_have_count(0, timeout=10_000)
    expect_text(connection(b), "2 changes waiting")

    # ...while A denies the rejection (back to pending) and cancels the other one too
    look(a)
    ident(a, f"queue-{reviewed}").get_by_role("button", name="Deny").click()
    expect_text(ident(a, f"queue-{reviewed}"), "left", timeout=10_000)  # pending again
    ident(a, f"queue-{pending}").get_by_role("button", name="Cancel").click()
    a.get_by_role("button", name="Cancel appointment").click()
    expect(ident(a, f"queue-{pending}")).to_have_count(0, timeout=10_000)
    # the server took A's two (the indicator is no witness: the card can be
    # repainted before "1 change waiting" shows at all)
    operator.wait_for_status(reviewed, "pending")
    operator.wait_for_status(pending, "cancelled")

    relay.restore()
    look(b)
    expect_text(connection(b), "Online", timeout=30_000)
    # B is told at once, in one sentence (who, what, why), that theirs didn't go through
    expect_text(b.locator("flt-semantics-host"), "Couldn't ", timeout=30_000)
    shoot(b, "operator-1440-conflict")
    # B's screen ends where the server did: the review denied, back in pending
    in_pending = ident(b, "group-pending").locator(f'[flt-semantics-identifier="queue-{reviewed}"]')
    expect(in_pending).to_have_count(1, timeout=30_000)
    expect(ident(b, f"queue-{pending}")).to_have_count(0)
    expect_no_text(connection(b), "waiting", timeout=20_000)
    # the sync page keeps both refusals, with the server's reasons
    b.get_by_role("tab", name=re.compile("^Sync")).or_(
        b.get_by_role("button", name=re.compile("^Sync"))
    ).first.click()
    inspector = ident(b, "sync-inspector")
    expect_text(inspector, "Didn't go through (2)", timeout=20_000)
    expect_text(inspector, "Can't review the rejection")
    expect_text(inspector, "Can't cancel")
    # once read, a refusal can be dismissed: the list shrinks
    inspector.get_by_role("button", name=re.compile("^Dismiss")).first.click()
    expect_text(inspector, "Didn't go through (1)", timeout=20_000)

    # one outcome on the server, whatever B's window showed for a moment
    assert operator.appointment(reviewed)["status"] == "pending"
    assert operator.appointment(pending)["status"] == "cancelled"
