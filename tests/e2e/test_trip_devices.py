"""One trip from booking to the driver's return, on the devices it is for: the
driver on a 360×740 phone, the therapist on an 820×1180 tablet, the operator
through the API. A screenshot of both screens at every step (and of each
dialog on the way) goes to artifacts/screenshots/trip-NN-<step>-<role>.png:
what each role sees, at the smallest phone the app supports."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from testkit.browser import (
    TABLET,
    card,
    connection,
    expect_text,
    ident,
    login,
    open_app,
    shoot,
)
from tests.e2e.conftest import Operator, UiProcess
from tests.e2e.proxy import Relay

pytestmark = pytest.mark.timeout(900)

SMALL_PHONE = {"width": 360, "height": 740}


def look(page: Page) -> Page:
    page.bring_to_front()  # Chromium paints (and updates semantics in) the front window only
    return page


def test_a_trip_at_phone_and_tablet_size(
    browser: Browser, relayed_ui: UiProcess, relay: Relay, operator: Operator
) -> None:
    ui = relayed_ui  # its way to the server is cut for a while: no signal in traffic
    driver = open_app(browser, ui.url, SMALL_PHONE)
    therapist = open_app(browser, ui.url, TABLET)
    n = 0

    def shots(step: str) -> None:
        nonlocal n
        n += 1
        shoot(look(driver), f"trip-{n:02d}-{step}-driver-360")
        shoot(look(therapist), f"trip-{n:02d}-{step}-therapist-820")

    look(driver).get_by_role("textbox", name="Username").wait_for(timeout=60_000)
    look(therapist).get_by_role("textbox", name="Username").wait_for(timeout=60_000)
    shots("sign-in")
    login(look(driver), "driver1")
    login(look(therapist), "therapist1")

    r = operator.command(
        "staff.set_duty", operator.ids["driver2"], {"on_duty": False}, as_user="driver2"
    )
    assert r.status_code == 200, r.text  # so the return trip is driver1's too
    aid = operator.book(hour=10)
    d_card, t_card = card(driver, aid), card(therapist, aid)
    expect_text(d_card, "Pending — waiting for the therapist to accept", timeout=20_000)
    look(therapist)
    expect_text(t_card, "New request — accept or reject", timeout=20_000)
    shots("booked")

    def tap(page: Page, on: Locator, label: str, then: str, step: str) -> None:
        look(page)
        on.get_by_role("button", name=label, exact=True).click()
        expect_text(on, then, timeout=20_000)
        shots(step)

    def dialog_step(label: str, step: str) -> Locator:
        """Open `label`'s dialog on the therapist's card; shot it open."""
        look(therapist)
        t_card.get_by_role("button", name=label, exact=True).click()
        box = therapist.get_by_role("alertdialog")
        expect(box).to_be_visible(timeout=20_000)
        shoot(therapist, f"trip-{n + 1:02d}-{step}-dialog-therapist-820")
        therapist.set_viewport_size(SMALL_PHONE)  # type: ignore[arg-type]  # the same dialog on a phone
        expect(box).to_be_visible(timeout=20_000)
        shoot(therapist, f"trip-{n + 1:02d}-{step}-dialog-therapist-360")
        therapist.set_viewport_size(TABLET)  # type: ignore[arg-type]
        return box

    tap(therapist, t_card, "Accept", "Accepted — waiting for your driver", "accepted")
    look(driver)
    expect_text(d_card, "Therapist accepted — confirm the trip", timeout=20_000)
    tap(driver, d_card, "Confirm trip", "Ready to start — waiting for operator", "confirmed")

    operator.advance(aid, ("start", "operator"))
    look(driver)
    expect_text(d_card, "Started — start the journey", timeout=20_000)
    shots("started")
    tap(driver, d_card, "Start journey", "En route", "journey")
    relay.cut()
    look(driver)
    d_card.get_by_role("button", name="Arrive", exact=True).click()
    expect_text(d_card, "Arrived — drop off the therapist", timeout=20_000)
    expect_text(connection(driver), "1 change waiting", timeout=20_000)
    shots("arrived-offline")
    relay.restore()
    operator.wait_for_status(aid, "arrived", timeout=60)
    expect_text(connection(look(driver)), "Online", timeout=30_000)
    tap(driver, d_card, "Drop off", "dropped off", "dropped-off")
    look(therapist)
    expect(t_card.get_by_role("button", name="Start session")).to_be_visible(timeout=20_000)
    tap(therapist, t_card, "Start session", "Session in progress", "session")
    box = dialog_step("Request payment", "payment")  # how the client paid (a receipt photo)
    box.get_by_role("button", name="Request payment", exact=True).click()
    expect_text(t_card, "Awaiting payment", timeout=20_000)
    shots("payment-requested")

    r = operator.command("appointment.verify_payment", aid, {"method": "cash", "amount": 900})
    assert r.status_code == 200, r.text
    look(therapist)
    expect(t_card.get_by_role("button", name="Complete")).to_be_visible(timeout=20_000)
    shots("payment-verified")

    box = dialog_step("Complete", "complete")
    box.get_by_role("button", name="Complete", exact=True).click()
    expect(t_card.get_by_role("button", name="Request pickup")).to_be_visible(timeout=20_000)
    shots("completed")

    box = dialog_step("Request pickup", "pickup")
    box.get_by_role("button", name="Request pickup", exact=True).click()
    expect_text(t_card, "ickup", timeout=20_000)
    shots("pickup-requested")

    # the server gives the pickup to the free driver at once: driver1 (driver2 is off duty)
    operator.wait_for_status(aid, "driver_assigned_pickup")
    look(driver)
    expect(d_card.get_by_role("button", name="Confirm pickup")).to_be_visible(timeout=20_000)
    shots("pickup-assigned")
    look(driver)
    d_card.get_by_role("button", name="Confirm pickup", exact=True).click()
    expect(d_card.get_by_role("button", name="Complete return")).to_be_visible(timeout=20_000)
    shots("return-journey")
    look(driver)
    d_card.get_by_role("button", name="Complete return", exact=True).click()
    expect(d_card.get_by_role("button", name="Complete return")).to_have_count(0, timeout=20_000)
    operator.wait_for_status(aid, "transport_completed")
    shots("done")
    for page in (driver, therapist):
        expect_text(connection(look(page)), "Online")

    # the other screens of each role, on a phone
    for name in ("Alerts", "Sync"):
        look(driver).get_by_role("tab", name=name).or_(
            driver.get_by_role("button", name=name)
        ).first.click()
        driver.wait_for_timeout(500)
        shoot(driver, f"trip-{n + 1:02d}-{name.lower()}-driver-360")
    therapist.set_viewport_size(SMALL_PHONE)  # type: ignore[arg-type]
    manager = ident(therapist, "availability")
    for _ in range(5):  # the rail becomes a bottom bar: click once it is there
        look(therapist).wait_for_timeout(1000)
        therapist.get_by_role("tab", name="Availability").or_(
            therapist.get_by_role("button", name="Availability")
        ).first.click()
        if manager.count():
            break
    expect_text(manager, "Today", timeout=20_000)
    expect(therapist.locator('[flt-semantics-identifier^="slot-"]').first).to_be_visible()
    shoot(therapist, f"trip-{n + 1:02d}-availability-therapist-360")
    therapist.get_by_role("button", name="Edit slot").first.click()
    expect(therapist.get_by_role("alertdialog")).to_be_visible(timeout=20_000)
    shoot(therapist, f"trip-{n + 1:02d}-availability-edit-dialog-therapist-360")
