"""The operator manages the people (issue 16): add someone with the domain's
words under each field and a one-time password shown once, edit, deactivate
(confirmed, their bookings flagged on the cards) and reactivate, reset a
password; and the first sign-in's change-password screen, before anything
else."""

from __future__ import annotations

import flet as ft

from domain.records import Record
from domain.status import Status
from testkit.flet_harness import Harness, descendants
from tests.views.conftest import Mount
from tests.views.data import DRIVER, OPERATOR, appointment, staff, world
from tests.views.fake_client import FakeClient
from views.app import Session
from views.port import UiConfig
from views.prefs import MemoryPrefs


def business() -> FakeClient:
    records = world(appointment("a1", Status.PENDING), appointment("a2", Status.CANCELLED))
    return FakeClient(OPERATOR, records)


def dialog(h: Harness) -> ft.AlertDialog:
    open_ = [d for d in h.page._dialogs.controls if isinstance(d, ft.AlertDialog) and d.open]
    assert len(open_) == 1, open_
    return open_[0]


def dialogs_open(h: Harness) -> int:
    return sum(isinstance(d, ft.AlertDialog) and d.open for d in h.page._dialogs.controls)


def field(h: Harness, label: str) -> ft.TextField:
    """A field of the open dialog (closed ones stay on the page)."""
    (hit,) = [f for f in descendants(dialog(h)) if isinstance(f, ft.TextField) and f.label == label]
    return hit


def flags(h: Harness, appointment_id: str) -> list[str]:
    """The words of every "needs a new person" flag on this booking's cards."""
    return [
        " ".join(h.texts(s))
        for s in h.by_type(ft.Semantics)
        if s.identifier == f"needs-person-{appointment_id}"
    ]


def text_button(root: object, label: str) -> ft.TextButton:
    (hit,) = [b for b in descendants(root) if isinstance(b, ft.TextButton) and b.content == label]
    return hit


def line(h: Harness, person: str) -> list[str]:
    return h.texts(h.semantics(f"staff-{person}"))


async def choose(h: Harness, dropdown: ft.Dropdown, value: str) -> None:
    h.session.apply_patch(dropdown._i, {"value": value})
    await h.session.dispatch_event(dropdown._i, "select", value)
    await h.settle()


async def test_adding_someone_checks_each_field_and_shows_the_password_once(
    mount: Mount,
) -> None:
    client = business()
    h = await mount(client, width=1440, height=900)
    await h.click(h.button("Add person"))
    await h.type_text(field(h, "Username"), "a b")
    await h.click(h.button("Save", within=dialog(h)))
    assert not client.accounts  # nothing sent
    assert field(h, "Full name").error == "Please give the person's name."
    assert field(h, "Phone").error == "Please give a phone number."
    assert "3 to 32 letters" in str(field(h, "Username").error)
    # a therapist's fields show; a driver's plate doesn't
    assert field(h, "License number").visible and not field(h, "Plate number").visible
    await h.type_text(field(h, "Username"), "THERAPIST1")
    await h.click(h.button("Save", within=dialog(h)))
    assert field(h, "Username").error == "THERAPIST1 is taken (by Ana): choose another."

    for label, text in (
        ("Full name", "Lia Ramos"),
        ("Username", "lia.ramos"),
        ("Phone", "+63 917 555 0199"),
        ("Specialization", "Shiatsu"),
        ("License number", "MT-2231"),
    ):
        await h.type_text(field(h, label), text)
    await h.click(h.button("Save", within=dialog(h)))
    (sent,) = client.accounts
    assert (sent.name, dict(sent.args)) == (
        "staff.create",
        {
            "username": "lia.ramos",
            "role": "therapist",
            "name": "Lia Ramos",
            "phone": "+63 917 555 0199",
            "specialization": "Shiatsu",
            "pressure_preference": None,
            "license": "MT-2231",
        },
    )
    assert not client.dispatched  # never through the outbox
    # the one-time password, once, to copy; the form is gone
    assert dialogs_open(h) == 1
    shown = dialog(h)
    assert client.one_time in h.texts(shown)
    assert "Give Lia Ramos this password to sign in with:" in h.texts(shown)
    assert "Copy" in [b.content for b in descendants(shown) if isinstance(b, ft.TextButton)]
    await h.click(h.button("Done", within=shown))
    assert dialogs_open(h) == 0
    # the new person is on the page
    new_id = str(sent.target)
    assert "Lia Ramos" in line(h, new_id) and "Off duty" in line(h, new_id)


async def test_a_driver_has_a_plate_and_edits_send_only_what_changed(mount: Mount) -> None:
    client = business()
    h = await mount(client, width=1440, height=900)
    await h.click(h.button("Add person"))
    role = next(d for d in h.by_type(ft.Dropdown) if d.label == "Role")
    await choose(h, role, "driver")
    assert field(h, "Plate number").visible and not field(h, "License number").visible
    await h.click(text_button(dialog(h), "Back"))

    await h.click(text_button(h.semantics("staff-d1"), "Edit"))
    await h.type_text(field(h, "Phone"), "+63 917 000 1111")
    await h.type_text(field(h, "Plate number"), "NEW 4321")
    await h.click(h.button("Save", within=dialog(h)))
    assert [(c.name, c.target, dict(c.args)) for c in client.dispatched] == [
        ("staff.update", "d1", {"phone": "+63 917 000 1111", "plate": "NEW 4321"})
    ]
    assert "Plate NEW 4321 · +63 917 000 1111" in line(h, "d1")


async def test_deactivating_asks_first_then_flags_their_bookings(mount: Mount) -> None:
    client = business()
    h = await mount(client, width=1440, height=900)
    assert flags(h, "a1") == []
    await h.click(text_button(h.semantics("staff-t1"), "Deactivate"))
    confirm = dialog(h)
    words = " ".join(h.texts(confirm))
    assert "Deactivate Ana?" in words
    assert "signed out on every device at once" in words
    assert "Their 1 open booking will need someone else." in words  # a2 is cancelled
    await h.click(h.button("Deactivate", within=confirm))
    assert [(c.name, c.target, dict(c.args)) for c in client.dispatched] == [
        ("staff.update", "t1", {"active": False})
    ]
    assert "Not active" in line(h, "t1")
    assert "Reactivate" in [
        b.content for b in descendants(h.semantics("staff-t1")) if isinstance(b, ft.TextButton)
    ]
    # the booking she was on says so, on every card of it the operator sees
    seen = flags(h, "a1")
    assert len(seen) >= 2  # the appointments board and the pending queue
    assert set(seen) == {"Needs a new person: Ana is no longer active."}
    await h.click(text_button(h.semantics("staff-t1"), "Reactivate"))
    assert dict(client.dispatched[-1].args) == {"active": True}
    assert "Not active" not in line(h, "t1")
    assert flags(h, "a1") == []


async def test_someone_deactivated_elsewhere_flags_the_card_live(mount: Mount) -> None:
    client = business()
    h = await mount(client, width=1440, height=900)
    await client.remote("staff", staff(DRIVER, version=2, active=False))
    await h.settle()
    seen = flags(h, "a1")
    assert seen and set(seen) == {"Needs a new person: Ben is no longer active."}


async def test_resetting_a_password_shows_the_new_one(mount: Mount) -> None:
    client = business()
    h = await mount(client, width=1440, height=900)
    await h.click(text_button(h.semantics("staff-d1"), "Reset password"))
    assert "signed out on every device" in " ".join(h.texts(dialog(h)))
    await h.click(h.button("Reset password", within=dialog(h)))
    assert [(c.name, c.target) for c in client.accounts] == [("staff.reset_password", "d1")]
    assert client.one_time in h.texts(dialog(h))


async def test_offline_adding_someone_says_why_in_the_form(mount: Mount) -> None:
    from views.port import Link

    client = business()
    h = await mount(client, width=1440, height=900)
    await client.set_link(Link.OFFLINE)
    await h.click(h.button("Add person"))
    for label, text in (("Full name", "Lia"), ("Username", "lia"), ("Phone", "0917")):
        await h.type_text(field(h, label), text)
    await h.click(h.button("Save", within=dialog(h)))
    assert "Can't reach the server." in h.texts(dialog(h))  # the form stays, with its words


# ---- the first sign-in ---------------------------------------------------------------

NEWBIE: Record = {
    "id": "t9",
    "username": "lia.ramos",
    "role": "therapist",
    "name": "Lia Ramos",
    "must_change_password": True,
}


async def first_sign_in(client: FakeClient) -> tuple[Harness, Session]:
    h = Harness(width=400, height=800)
    made: list[Session] = []

    async def connect(*_: object) -> FakeClient:
        return client

    async def main(page: ft.Page) -> None:
        session = Session(page, UiConfig(server_url="http://test", connect=connect), MemoryPrefs())
        made.append(session)
        await session.start()
        await session.signed_in(client)

    await h.run(main)
    return h, made[0]


async def test_a_one_time_password_asks_for_a_new_one_before_anything_else() -> None:
    records = world(appointment("a1", Status.PENDING, therapist_ids=["t9"]))
    records["staff"].append(staff(NEWBIE))
    client = FakeClient(NEWBIE, records)
    client.password = "Kq7mZp3xRt9w"
    h, session = await first_sign_in(client)
    assert h.has_semantics("change-password") and session.shell is None
    assert (
        "Welcome, Lia Ramos! You signed in with a one-time password. Choose your own "
        "to carry on." in h.texts()
    )

    # the domain's rule, as typed
    await h.type_text(h.field("New password"), "short")
    assert h.field("New password").error == "A password needs at least 8 characters."
    await h.type_text(h.field("New password"), "LIA.Ramos")
    assert h.field("New password").error == "Your password can't be your username."
    await h.type_text(h.field("New password"), "LIA.RAMOS1")
    assert h.field("New password").error is None
    await h.type_text(h.field("New password again"), "something else")
    await h.click(h.button("Save my password"))
    assert h.field("New password again").error == "The two passwords don't match."
    assert h.field("One-time password").error == "Enter the one-time password."
    assert not client.accounts

    # the server says the one-time password is wrong: under its field
    await h.type_text(h.field("One-time password"), "not-it")
    await h.type_text(h.field("New password"), "my-own-secret")
    await h.type_text(h.field("New password again"), "my-own-secret")
    await h.click(h.button("Save my password"))
    assert h.field("One-time password").error == (
        "Your current password isn't right. Please try again."
    )
    assert session.shell is None

    await h.type_text(h.field("One-time password"), "Kq7mZp3xRt9w")
    await h.click(h.button("Save my password"))
    (sent,) = client.accounts
    assert (sent.name, sent.target) == ("account.change_password", "t9")
    assert dict(sent.args) == {
        "current_password": "Kq7mZp3xRt9w",
        "new_password": "my-own-secret",
    }
    # her screen, at last
    assert session.shell is not None and not h.has_semantics("change-password")
    assert h.has_semantics("appt-a1")


async def test_someone_another_operator_adds_appears_live(mount: Mount) -> None:
    client = business()
    h = await mount(client, width=1440, height=900)
    lia = staff(
        {"id": "t7", "username": "lia", "role": "therapist", "name": "Lia Ramos"},
        on_duty=False,
        phone="+63 917 555 0199",
    )
    await client.remote("staff", lia)
    await h.settle()
    assert "Lia Ramos" in line(h, "t7") and "Off duty" in line(h, "t7")
    assert "2 therapists (1 on duty) · 1 driver (1 on duty) · 1 operator" in h.texts(
        h.semantics("staff-page")
    )
