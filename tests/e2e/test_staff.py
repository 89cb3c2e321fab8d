"""Staff in Chromium against the real server (issue 16): the operator adds a
therapist and reads her one-time password off the screen; she signs in with
it, must choose her own password first, then sees her screen; the operator
deactivates her and her open session is signed out with words saying why."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Browser, Page, expect

from testkit.browser import (
    DESKTOP,
    TABLET,
    accessible_text,
    connection,
    expect_text,
    ident,
    login,
    open_app,
    shoot,
    type_into,
)
from tests.e2e.conftest import Operator, UiProcess

pytestmark = pytest.mark.timeout(900)


def open_section(page: Page, name: str) -> None:
    page.get_by_role("tab", name=name).or_(page.get_by_role("button", name=name)).first.click()


def test_a_new_therapist_signs_in_changes_her_password_clocks_in_and_is_signed_out_when_deactivated(
    browser: Browser, ui: UiProcess, operator: Operator
) -> None:
    console = open_app(browser, ui.url, DESKTOP)
    login(console, "operator")
    open_section(console, "Staff")
    ident(console, "staff-page").wait_for(timeout=30_000)
    console.get_by_role("button", name="Add person").click()
    ident(console, "person-form").wait_for(timeout=15_000)
    for label, value in (
        ("Full name", "Lia Ramos"),
        ("Username", "lia.ramos"),
        ("Phone", "+63 917 555 0199"),
        ("Specialization", "Shiatsu"),
    ):
        type_into(console.get_by_role("textbox", name=label), value)
    shoot(console, "staff-add-person")
    console.get_by_role("button", name="Save").click()
    shown = ident(console, "one-time-password")
    shown.wait_for(timeout=30_000)
    found = re.search(r"[A-Za-z0-9]{12}", accessible_text(shown))
    assert found, accessible_text(shown)
    secret = found.group(0)
    shoot(console, "staff-one-time-password")
    console.get_by_role("button", name="Done").click()
    expect_text(ident(console, "staff-therapists"), "Lia Ramos", timeout=15_000)

    # she signs in with it on her tablet: her own password first
    tablet = open_app(browser, ui.url, TABLET)
    tablet.bring_to_front()
    tablet.get_by_role("textbox", name="Username").wait_for(timeout=60_000)
    type_into(tablet.get_by_role("textbox", name="Username"), "lia.ramos")
    type_into(tablet.get_by_role("textbox", name="Password"), secret)
    tablet.get_by_role("button", name="Sign in").click()
    ident(tablet, "change-password").wait_for(timeout=60_000)
    expect(connection(tablet)).to_have_count(0)  # nothing else before it
    type_into(tablet.get_by_role("textbox", name="One-time password"), secret)
    type_into(tablet.get_by_role("textbox", name="New password", exact=True), "lia-own-2026")
    type_into(tablet.get_by_role("textbox", name="New password again"), "lia-own-2026")
    shoot(tablet, "staff-first-sign-in")
    tablet.get_by_role("button", name="Save my password").click()
    connection(tablet).wait_for(timeout=60_000)  # her screen
    expect(ident(tablet, "change-password")).to_have_count(0)
    shoot(tablet, "staff-first-sign-in-done")

    # she clocks in, and the operator sees her in
    open_section(tablet, "Attendance")
    ident(tablet, "clock-in").click()
    expect_text(ident(tablet, "attendance"), "Clocked in since", timeout=30_000)
    console.bring_to_front()
    open_section(console, "Attendance")
    expect_text(ident(console, "in-now"), "Lia Ramos", timeout=30_000)
    shoot(console, "staff-new-therapist-in")
    open_section(console, "Staff")
    ident(console, "staff-page").wait_for(timeout=30_000)

    # the operator lets her go: her open session ends, saying why
    boot = operator.http.get("/api/sync/bootstrap").json()
    lia = next(s for s in boot["staff"] if s["username"] == "lia.ramos")
    operator.ids["lia.ramos"] = lia["id"]
    slot = {"user_id": lia["id"], "date": operator.today(), "start_time": "07:00",
            "end_time": "23:00", "available": True}
    r = operator.command("availability.create", str(uuid.uuid4()), slot)
    assert r.status_code == 200, r.text
    aid = operator.book(hour=15, therapist="lia.ramos")
    console.bring_to_front()
    line = ident(console, f"staff-{lia['id']}")
    # the booking has reached the page (her line is redrawn with it: click after)
    expect_text(line, "Today: 1 appointment", timeout=15_000)
    line.get_by_role("button", name="Deactivate").click()
    ident(console, "deactivate-confirm").wait_for(timeout=15_000)
    console.get_by_role("button", name="Deactivate").last.click()
    # Her tablet at once: back on the sign-in form, which says why and keeps saying it.
    tablet.bring_to_front()
    tablet.get_by_role("textbox", name="Username").wait_for(timeout=30_000)
    expect_text(tablet.locator("flt-semantics-host"), "deactivated", timeout=15_000)
    shoot(tablet, "staff-signed-out")

    console.bring_to_front()
    expect_text(line, "Not active", timeout=15_000)
    shoot(console, "staff-deactivated")
    # her booking asks the operator for someone else
    open_section(console, "Queues")
    expect_text(ident(console, f"queue-{aid}"), "Needs a new person: Lia Ramos is no longer",
                timeout=15_000)
    shoot(console, "staff-needs-a-new-person")

    # and she can't sign back in, with the same words (in a new tab: the form she
    # was signed out to already shows them)
    tablet.close()
    again = open_app(browser, ui.url, TABLET)
    again.bring_to_front()
    again.get_by_role("textbox", name="Username").wait_for(timeout=60_000)
    type_into(again.get_by_role("textbox", name="Username"), "lia.ramos")
    type_into(again.get_by_role("textbox", name="Password"), "lia-own-2026")
    again.get_by_role("button", name="Sign in").click()
    expect_text(
        again.locator("flt-semantics-host"), "Your account has been deactivated", timeout=30_000
    )
