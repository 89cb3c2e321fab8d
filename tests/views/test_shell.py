"""The shell: connection indicator, waiting marks, snackbars, navigation
(a phone's bar holds four of the operator's ten pages and "More")."""

from __future__ import annotations

import flet as ft
import pytest
from flet.controls.base_control import BaseControl

from domain.records import Record
from domain.status import Status
from testkit.flet_harness import Harness, descendants
from tests.views.conftest import Mount
from tests.views.data import DRIVER, OPERATOR, THERAPIST, appointment, world
from tests.views.fake_client import FakeClient
from views.port import Changed, Link, Notice


async def test_indicator_follows_the_link_and_counts_waiting_changes(mount: Mount) -> None:
    client = FakeClient(DRIVER, world(appointment("a1", Status.IN_PROGRESS)))
    h = await mount(client, width=390, height=844)
    indicator = h.semantics("connection")
    assert indicator.label == "Connection: Online"

    await client.set_link(Link.OFFLINE)
    await h.settle()
    assert indicator.label == "Connection: Offline"

    await h.click(h.button("Start journey", within=h.semantics("appt-a1")))
    await h.settle()
    assert indicator.label == "Connection: Offline — 1 change waiting"
    card = h.semantics("appt-a1")
    assert "Waiting to sync" in h.texts(card)
    assert "En route — tap Arrive when you get there" in h.texts(card)

    await client.set_link(Link.ONLINE)
    await client.ack()
    await h.settle()
    assert indicator.label == "Connection: Online"
    assert "Waiting to sync" not in h.texts(h.semantics("appt-a1"))


async def test_signed_out_goes_back_to_the_sign_in_screen(mount: Mount) -> None:
    client = FakeClient(DRIVER, world())
    h = await mount(client, width=390, height=844)
    await client._emit(
        Changed(notices=(Notice("Please sign in again.", ok=False, signs_out=True),),
                signed_out=True)
    )
    await h.settle()
    assert client.stopped
    assert h.field("Username") is not None and not h.has_semantics("connection")
    # the words saying why stay on the sign-in form, not in a snackbar gone in seconds
    form = next(c for c in h.by_type(ft.Column) if h.field("Username") in descendants(c))
    assert "Please sign in again." in h.texts(form)
    assert not any(s.open for s in h.by_type(ft.SnackBar))


# ---- navigation that fits the device ------------------------------------------------------

OPERATOR_PAGES = [
    "Queues",
    "Calendar",
    "All appointments",
    "Appointments",
    "Staff",
    "Clients",
    "Activity",
    "Charts",
    "Inventory",
    "Attendance",
    "Reports",
    "Notifications",
    "Sync",
]


def bar(h: Harness) -> ft.NavigationBar:
    nav = h.page.navigation_bar
    assert isinstance(nav, ft.NavigationBar)
    return nav


def rail(h: Harness) -> ft.NavigationRail:
    (nav,) = h.by_type(ft.NavigationRail)
    return nav


def on_screen(control: BaseControl) -> bool:
    """Whether `control` and every control above it are visible."""
    c: BaseControl | None = control
    while c is not None:
        if getattr(c, "visible", True) is False:
            return False
        c = c.parent
    return True


def badge_of(icon: object) -> object:
    assert isinstance(icon, ft.Icon)
    return icon.badge


async def choose(h: Harness, nav: ft.NavigationBar | ft.NavigationRail, index: int) -> None:
    """Tap destination `index` the way the browser reports it."""
    h.session.apply_patch(nav._i, {"selected_index": index})
    await h.session.dispatch_event(nav._i, "change", index)
    await h.session.after_event(nav)
    await h.settle()


def more_sheet(h: Harness) -> ft.BottomSheet:
    sheets = [d for d in h.page._dialogs.controls if isinstance(d, ft.BottomSheet) and d.open]
    assert len(sheets) == 1, f"{len(sheets)} open sheets"
    return sheets[0]


def sheet_titles(sheet: ft.BottomSheet) -> list[str]:
    return [
        str(t.title.value)
        for t in descendants(sheet)
        if isinstance(t, ft.ListTile) and isinstance(t.title, ft.Text)
    ]


def unread(n: int) -> list[Record]:
    return [
        {"id": f"n{i}", "version": 1, "user_id": OPERATOR["id"], "text": f"Note {i}",
         "read": False, "created_at": f"2026-11-21T0{i}:00:00Z"}
        for i in range(n)
    ]


async def test_a_phone_shows_four_pages_and_more_for_the_operators_ten(mount: Mount) -> None:
    h = await mount(FakeClient(OPERATOR, world()), width=390, height=844)
    nav = bar(h)
    # the long titles are shortened to fit a fifth of 390 px
    assert [d.label for d in nav.destinations] == ["Queues", "Calendar", "Table", "Board", "More"]
    assert nav.selected_index == 0

    # "More" lists the other six in a sheet; the bar still shows where the user is
    await choose(h, nav, 4)
    sheet = more_sheet(h)
    assert sheet_titles(sheet) == OPERATOR_PAGES[4:]
    assert on_screen(h.semantics("group-pending"))

    # choosing Staff shows the staff page, hides the queues, highlights "More"
    (staff_tile,) = [t for t in descendants(sheet)
                     if isinstance(t, ft.ListTile) and getattr(t.title, "value", "") == "Staff"]
    await h.click(staff_tile)
    assert not sheet.open
    assert on_screen(h.semantics("staff-page"))
    assert not on_screen(h.semantics("group-pending"))
    assert nav.selected_index == 4

    # opened again, the sheet marks Staff as the page shown; a bar destination
    # goes back to it directly
    await choose(h, nav, 4)
    tiles = {str(getattr(t.title, "value", "")): t for t in descendants(more_sheet(h))
             if isinstance(t, ft.ListTile)}
    assert tiles["Staff"].selected and not tiles["Charts"].selected
    await h.click(tiles["Charts"])
    assert on_screen(h.semantics("charts-page")) and not on_screen(h.semantics("staff-page"))
    await choose(h, nav, 1)
    assert on_screen(h.semantics("calendar")) and not on_screen(h.semantics("charts-page"))
    assert nav.selected_index == 1


async def test_dismissing_more_keeps_the_page_and_its_highlight(mount: Mount) -> None:
    h = await mount(FakeClient(OPERATOR, world()), width=390, height=844)
    nav = bar(h)
    await choose(h, nav, 2)
    await choose(h, nav, 4)  # the browser highlights "More" as it is tapped
    sheet = more_sheet(h)
    # swiped away without a choice
    await h.session.dispatch_event(sheet._i, "dismiss", None)
    await h.settle()
    assert nav.selected_index == 2
    assert on_screen(h.semantics("appointment-table"))


async def test_unread_count_shows_on_more_while_notifications_are_in_it(mount: Mount) -> None:
    records = world()
    records["notification"] = unread(2)
    client = FakeClient(OPERATOR, records)
    h = await mount(client, width=390, height=844)
    nav = bar(h)
    assert badge_of(nav.destinations[-1].icon) == "2"
    assert all(badge_of(d.icon) is None for d in nav.destinations[:-1])
    await choose(h, nav, 4)
    (tile,) = [t for t in descendants(more_sheet(h)) if isinstance(t, ft.ListTile)
               and getattr(t.title, "value", "") == "Notifications"]
    assert badge_of(tile.leading) == "2"

    # one read elsewhere: the bar and the open sheet follow
    await client.remote("notification", {**unread(1)[0], "version": 2, "read": True})
    await h.settle()
    assert badge_of(bar(h).destinations[-1].icon) == "1"
    (tile,) = [t for t in descendants(more_sheet(h)) if isinstance(t, ft.ListTile)
               and getattr(t.title, "value", "") == "Notifications"]
    assert badge_of(tile.leading) == "1"


@pytest.mark.parametrize(
    ("user", "pages"),
    [
        (THERAPIST, ["Bookings", "Availability", "Hours", "Alerts", "Sync"]),
        (DRIVER, ["Trips", "Hours", "Alerts", "Sync"]),
    ],
    ids=["therapist", "driver"],
)
async def test_other_roles_keep_every_page_in_the_bar(
    mount: Mount, user: Record, pages: list[str]
) -> None:
    records = world()
    records["notification"] = [{**n, "user_id": user["id"]} for n in unread(1)]
    h = await mount(FakeClient(user, records), width=390, height=844)
    nav = bar(h)
    assert [d.label for d in nav.destinations] == pages
    notifications = nav.destinations[pages.index("Alerts")]
    assert badge_of(notifications.icon) == "1"


@pytest.mark.parametrize(("width", "extended"), [(820, False), (1440, True)])
async def test_rail_and_sidebar_show_all_ten_and_scroll(
    mount: Mount, width: int, extended: bool
) -> None:
    h = await mount(FakeClient(OPERATOR, world()), width=width, height=700)
    assert h.page.navigation_bar is None
    nav = rail(h)
    assert [d.label for d in nav.destinations] == OPERATOR_PAGES
    assert nav.extended is extended
    assert nav.scrollable  # ten destinations are taller than a short window
    await choose(h, nav, OPERATOR_PAGES.index("Clients"))
    assert on_screen(h.semantics("clients-page"))


async def test_resizing_keeps_the_page_shown(mount: Mount) -> None:
    h = await mount(FakeClient(OPERATOR, world()), width=1440, height=900)
    await choose(h, rail(h), OPERATOR_PAGES.index("Activity"))
    await h.resize(390, 844)
    nav = bar(h)
    assert nav.selected_index == 4  # under "More"
    assert not h.by_type(ft.NavigationRail)
    await h.resize(820, 1180)
    assert rail(h).selected_index == OPERATOR_PAGES.index("Activity")
    assert h.page.navigation_bar is None


async def test_a_phone_header_says_whose_phone_it_is(mount: Mount) -> None:
    phone = await mount(FakeClient(DRIVER, world()), width=360, height=740)
    header = phone.texts()[:3]
    assert "Ben" in header  # the driver's name, where the brand was
    assert "Tandem" not in header
    wide = await mount(FakeClient(DRIVER, world()), width=1440, height=900)
    assert wide.texts()[:2] == ["Tandem", "Ben"]
