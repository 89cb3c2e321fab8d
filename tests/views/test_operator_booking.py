"""The create / edit appointment dialog: the domain's words under each
field, why a slot isn't possible (before submitting), quick-add of a client,
and the new booking showing at once."""

from __future__ import annotations

from datetime import UTC, datetime

import flet as ft

from domain.records import Entity, Record
from domain.status import Status
from testkit.flet_harness import Harness, descendants
from tests.views.conftest import Mount
from tests.views.data import OPERATOR, TODAY, appointment, world
from tests.views.fake_client import FakeClient

# A mount of the queues section alone (the rest of the console isn't looked at here).
QUEUES = ("queues",)


def data(*appts: Record, available: bool = True) -> dict[Entity, list[Record]]:
    w = world(*appts)
    w["client"] = [
        {
            "id": "c1",
            "version": 1,
            "first_name": "Maria",
            "last_name": "Santos",
            "phone": "0917",
            "address": "3 Mango Road",
        }
    ]
    if available:
        w["availability"] = [
            {
                "id": "v1",
                "version": 1,
                "user_id": "t1",
                "date": TODAY,
                "start_time": "08:00",
                "end_time": "20:00",
                "available": True,
            }
        ]
    return w


async def open_dialog(mount: Mount, client: FakeClient) -> tuple[Harness, ft.AlertDialog]:
    h = await mount(client, width=1440, height=900, only=QUEUES)
    await h.click(h.button("New appointment"))
    dialog = h.semantics("booking-dialog").parent
    assert isinstance(dialog, ft.AlertDialog)
    return h, dialog


def checkbox(h: Harness, label: str) -> ft.Checkbox:
    hits = [c for c in h.by_type(ft.Checkbox) if c.label == label]
    assert len(hits) == 1
    return hits[0]


def problem(h: Harness) -> str | None:
    s = h.semantics("slot-problem")
    return str(s.content.value) if s.visible else None  # type: ignore[union-attr]


async def select(h: Harness, dropdown: ft.Dropdown, value: str) -> None:
    h.session.apply_patch(dropdown._i, {"value": value})
    await h.session.dispatch_event(dropdown._i, "select", value)
    await h.settle()


async def fill(h: Harness, start: str = "10:00", end: str = "11:00") -> None:
    picker = next(d for d in h.by_type(ft.Dropdown) if d.label == "Client")
    await select(h, picker, "c1")
    await h.toggle(checkbox(h, "Swedish massage"), True)
    await h.toggle(checkbox(h, "Ana"), True)
    await h.type_text(h.field("Start"), start)
    await h.type_text(h.field("End"), end)


async def test_empty_form_shows_the_domains_words_and_sends_nothing(mount: Mount) -> None:
    client = FakeClient(OPERATOR, data())
    h, dialog = await open_dialog(mount, client)
    await h.click(h.button("Book", within=dialog))
    picker = next(d for d in h.by_type(ft.Dropdown) if d.label == "Client")
    assert picker.error_text == "Please choose a client."
    texts = h.texts(dialog)
    assert "Please choose at least one service." in texts
    assert "Please choose at least one therapist." in texts
    assert h.field("Start").error == "Please give a start time as HH:MM (24-hour)."
    assert h.field("Location").error == "Please give the address."
    assert h.field("Date").error is None  # today is filled in
    assert not client.dispatched
    assert h.has_semantics("booking-dialog")


async def test_slot_problem_shows_while_choosing_and_blocks_booking(mount: Mount) -> None:
    client = FakeClient(OPERATOR, data(available=False))
    h, dialog = await open_dialog(mount, client)
    await fill(h)
    assert problem(h) == f"Ana isn't available on {TODAY} from 10:00 to 11:00."
    await h.click(h.button("Book", within=dialog))
    assert not client.dispatched


async def test_double_booking_is_explained(mount: Mount) -> None:
    busy = appointment("a1", Status.THERAPIST_CONFIRMED, start="10:30", end_time="12:00")
    client = FakeClient(OPERATOR, data(busy))
    h, _ = await open_dialog(mount, client)
    await fill(h)
    assert problem(h) == f"Ana is already booked on {TODAY} from 10:30 to 12:00."
    await h.type_text(h.field("Start"), "12:00")
    await h.type_text(h.field("End"), "13:00")
    assert problem(h) is None


async def test_booking_appears_at_once_in_the_pending_queue(mount: Mount) -> None:
    client = FakeClient(OPERATOR, data(), now=datetime.now(UTC))
    h, dialog = await open_dialog(mount, client)
    await fill(h)
    # choosing the client filled in their address as the location
    assert h.field("Location").value == "3 Mango Road"
    await h.click(h.button("Book", within=dialog))

    cmd = client.dispatched[-1]
    assert cmd.name == "appointment.create"
    assert cmd.args == {
        "client_id": "c1",
        "service_ids": ["s1"],
        "therapist_ids": ["t1"],
        "driver_id": None,
        "date": TODAY,
        "start_time": "10:00",
        "end_time": "11:00",
        "location": "3 Mango Road",
    }
    assert not dialog.open, "the dialog closed"
    card = h.semantics(f"queue-{cmd.target}")  # before any server answer
    assert "Maria Santos" in h.texts(card)
    assert h.texts(h.semantics("count-pending"))[-1] == "1"


async def test_quick_add_client_then_book(mount: Mount) -> None:
    client = FakeClient(OPERATOR, data(), now=datetime.now(UTC))
    h, dialog = await open_dialog(mount, client)
    await h.click(h.button("New client", within=dialog))
    await h.click(h.button("Add client", within=dialog))
    assert "Please give a first name." in h.texts(dialog)
    await h.type_text(h.field("First name"), "Lea")
    await h.type_text(h.field("Last name"), "Cruz")
    await h.type_text(h.field("Phone"), "0918 555 0101")
    await h.type_text(h.field("Client address"), "9 Acacia Lane")
    await h.click(h.button("Add client", within=dialog))
    added = client.dispatched[-1]
    assert added.name == "client.create"
    picker = next(d for d in h.by_type(ft.Dropdown) if d.label == "Client")
    assert picker.value == added.target
    assert "Lea Cruz" in [o.text for o in picker.options]
    assert h.field("Location").value == "9 Acacia Lane"

    await h.toggle(checkbox(h, "Swedish massage"), True)
    await h.toggle(checkbox(h, "Ana"), True)
    await h.type_text(h.field("Start"), "15:00")
    await h.type_text(h.field("End"), "16:00")
    await h.click(h.button("Book", within=dialog))
    assert client.dispatched[-1].args["client_id"] == added.target
    card = h.semantics(f"queue-{client.dispatched[-1].target}")
    assert "Lea Cruz" in h.texts(card)
    assert all(not isinstance(c, ft.AlertDialog) for c in descendants(card))


async def test_edit_sends_only_what_changed_and_explains_clashes(mount: Mount) -> None:
    mine = appointment("a1", Status.PENDING, start="10:00", notes="Gate 4")
    other = appointment("a2", Status.THERAPIST_CONFIRMED, start="14:00", end_time="15:00")
    client = FakeClient(OPERATOR, data(mine, other), now=datetime.now(UTC))
    h = await mount(client, width=1440, height=900, only=QUEUES)
    await h.click(h.button("Edit", within=h.semantics("queue-a1")))
    dialog = h.semantics("booking-dialog").parent
    assert isinstance(dialog, ft.AlertDialog)
    assert h.field("Start").value == "10:00"
    assert problem(h) is None, "its own booking is no clash"

    await h.type_text(h.field("Start"), "14:30")
    await h.type_text(h.field("End"), "15:30")
    assert problem(h) == f"Ana is already booked on {TODAY} from 14:00 to 15:00."

    await h.type_text(h.field("Start"), "16:00")
    await h.type_text(h.field("End"), "17:00")
    await h.click(h.button("Save changes", within=dialog))
    cmd = client.dispatched[-1]
    assert (cmd.name, cmd.args) == (
        "appointment.update",
        {"start_time": "16:00", "end_time": "17:00"},
    )
    assert not dialog.open
    assert any("16:00–17:00" in t for t in h.texts(h.semantics("queue-a1")))


async def test_an_end_before_the_start_is_named_as_such(mount: Mount) -> None:
    # was: "Ana isn't available on <day> from 15:00 to 14:00."
    client = FakeClient(OPERATOR, data())
    h, dialog = await open_dialog(mount, client)
    await fill(h, start="15:00", end="14:00")
    assert problem(h) == "The end time 14:00 is before the start time 15:00."
    await h.click(h.button("Book", within=dialog))
    assert not client.dispatched


async def test_a_refused_booking_comes_back_as_it_was_typed(mount: Mount) -> None:
    # was: the card vanished, with "Create (appointment) didn't go through: …"
    client = FakeClient(OPERATOR, data())
    h, dialog = await open_dialog(mount, client)
    await fill(h, start="10:00", end="11:00")
    await h.type_text(h.field("Notes"), "Gate code 1234")
    await h.click(h.button("Book", within=dialog))
    [sent] = client.dispatched
    await client.refuse("Ana is already booked on that day from 10:00 to 11:00.")
    await h.settle()

    bars = [d for d in h.page._dialogs.controls if isinstance(d, ft.SnackBar) and d.open]
    [bar] = [b for b in bars if b.action == "Edit and retry"]
    await h.session.dispatch_event(bar._i, "action", None)
    await h.settle()

    [again] = [d for d in h.page._dialogs.controls if isinstance(d, ft.AlertDialog) and d.open]
    fields = {f.label: f for f in descendants(again) if isinstance(f, ft.TextField)}
    boxes = {b.label: b for b in descendants(again) if isinstance(b, ft.Checkbox)}
    assert (fields["Start"].value, fields["End"].value) == ("10:00", "11:00")
    assert fields["Notes"].value == "Gate code 1234"
    assert fields["Location"].value == "3 Mango Road"
    assert boxes["Ana"].value and boxes["Swedish massage"].value
    [picker] = [d for d in descendants(again) if isinstance(d, ft.Dropdown) and d.label == "Client"]
    assert picker.value == "c1"

    # booked again (another hour): the refused one leaves the failed list
    await h.type_text(fields["Start"], "12:00")
    await h.type_text(fields["End"], "13:00")
    await h.click(h.button("Book", within=again))
    assert [c.name for c in client.dispatched] == ["appointment.create"] * 2
    assert client.dispatched[1].args["start_time"] == "12:00"
    assert client.dismissed == [sent.seq]
