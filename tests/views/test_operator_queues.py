"""The operator's work queues: placement and live counts, targeted repaints,
only the allowed actions, the verify dialog's validation, the countdown
tick, and cancelling what is overdue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import flet as ft
import pytest

from domain.status import Status
from domain.times import iso
from testkit.flet_harness import Harness, descendants
from tests.views.conftest import Mount
from tests.views.data import OPERATOR, TODAY, appointment, staff, world
from tests.views.fake_client import FakeClient
from views.operator.queues import QueueBoard, time_left
from views.operator.runner import OperatorRunner

# A mount of the queues section alone (the rest of the console isn't looked at here).
QUEUES = ("queues",)

PAST = "2000-01-01T00:00:00Z"


def count(h: Harness, queue: str) -> str:
    return h.texts(h.semantics(f"count-{queue}"))[-1]


def ids_under(h: Harness, identifier: str) -> set[int]:
    return {c._i for c in descendants(h.semantics(identifier))}


def sample() -> list[dict[str, object]]:
    return [
        appointment("p1", Status.PENDING, start="09:00"),
        appointment("p2", Status.PENDING, start="10:00"),
        appointment("late", Status.PENDING, start="08:00", response_deadline=PAST),
        appointment(
            "r1",
            Status.REJECTED,
            rejection={
                "by": "t1",
                "role": "therapist",
                "reason": "Sick",
                "previous_status": "pending",
            },
        ),
        appointment("go", Status.DRIVER_CONFIRMED),
        appointment("pay", Status.AWAITING_PAYMENT),
        appointment("pick", Status.PICKUP_REQUESTED),
        appointment("done", Status.COMPLETED),
    ]


async def test_each_appointment_in_its_queue_with_counts(mount: Mount) -> None:
    client = FakeClient(OPERATOR, world(*sample()))
    h = await mount(client, width=1440, height=900, only=QUEUES)
    expected = {"pending": 2, "rejected": 1, "ready": 1, "payment": 1, "pickup": 1, "overdue": 1}
    for queue, n in expected.items():
        assert count(h, queue) == str(n), queue
    assert h.has_semantics("queue-late")
    where = {
        "p1": "pending",
        "late": "overdue",
        "r1": "rejected",
        "go": "ready",
        "pay": "payment",
        "pick": "pickup",
    }
    for appt_id, queue in where.items():
        assert ids_under(h, f"queue-{appt_id}") <= ids_under(h, f"group-{queue}"), appt_id


async def test_queue_actions_are_only_the_allowed_ones(mount: Mount) -> None:
    client = FakeClient(OPERATOR, world(*sample()))
    h = await mount(client, width=1440, height=900, only=QUEUES)
    group = h.semantics("group-rejected")
    assert h.buttons_in(h.semantics("queue-r1")) == ["Deny", "Accept rejection", "Reassign", "Edit"]
    assert "Reason: Sick" in h.texts(group)
    assert h.buttons_in(h.semantics("queue-go")) == ["Start", "Edit"]
    assert h.buttons_in(h.semantics("queue-pay")) == ["Verify payment"]
    assert h.buttons_in(h.semantics("queue-pick")) == ["Assign driver"]
    assert h.buttons_in(h.semantics("queue-p1")) == ["Cancel", "Edit"]
    assert any(t.endswith("left") for t in h.texts(h.semantics("countdown-p1")))


async def test_remote_accept_updates_count_and_repaints_only_that_queue(mount: Mount) -> None:
    appts = sample()
    client = FakeClient(OPERATOR, world(*appts))
    h = await mount(client, width=1440, height=900)  # the whole console: see `elsewhere`
    pending = ids_under(h, "group-pending") | ids_under(h, "count-pending")
    summary = {c._i for c in descendants(h.semantics("count-pending").parent)}
    untouched = ids_under(h, "group-payment") | ids_under(h, "group-rejected")
    # the "Appointments" page repaints its own card for p1, nothing more
    # (and the all-appointments table and the calendar, other pages, theirs)
    elsewhere = (
        ids_under(h, "appt-p1") | ids_under(h, "appointment-table") | ids_under(h, "calendar")
    )

    mark = h.mark()
    # the therapist accepted p1 elsewhere: it leaves "Pending acceptance"
    await client.remote("appointment", {**appts[0], "version": 2, "status": "therapist_confirmed"})
    await h.settle()

    patched = h.patched_ids(mark)
    assert patched, "the event must reach the screen"
    assert patched <= pending | summary | elsewhere
    assert not patched & untouched
    assert count(h, "pending") == "1"
    assert not h.has_semantics("queue-p1")


async def test_a_queue_card_changes_in_place(mount: Mount) -> None:
    """A booking moved to a new address keeps its queue card's controls (the
    countdown, the buttons): only the line that changed is sent, to every
    operator screen (it was a new countdown row and new buttons each time:
    ~650 bytes per screen, bench ui)."""
    appts = sample()
    client = FakeClient(OPERATOR, world(*appts))
    h = await mount(client, width=1440, height=900, only=QUEUES)
    before = ids_under(h, "queue-p1")
    buttons = h.buttons_in(h.semantics("queue-p1"))

    mark = h.mark()
    await client.remote("appointment", {**appts[0], "version": 2, "location": "14 Palm Street"})
    await h.settle()

    assert "14 Palm Street" in h.texts(h.semantics("queue-p1"))
    assert ids_under(h, "queue-p1") == before
    assert h.buttons_in(h.semantics("queue-p1")) == buttons
    sent = repr([m.body for m in h.conn.messages[mark:]])
    assert "14 Palm Street" in sent
    assert "Client p1" not in sent and "Cancel" not in sent  # the line, not the card


async def test_start_moves_the_card_out_of_ready(mount: Mount) -> None:
    client = FakeClient(OPERATOR, world(*sample()))
    h = await mount(client, width=1440, height=900, only=QUEUES)
    await h.click(h.button("Start", within=h.semantics("queue-go")))
    assert client.dispatched[-1].name == "appointment.start"
    assert count(h, "ready") == "0"


@pytest.mark.parametrize(("card", "queue", "taps", "command"), [
    ("go", "ready", ("Start",), "appointment.start"),
    # through a dialog: the card's own dispatch comes with the dialog's button
    ("p1", "pending", ("Cancel", "Cancel appointment"), "appointment.cancel"),
])
async def test_a_tap_takes_its_card_off_at_once_before_the_server_answers(
        mount: Mount, card: str, queue: str, taps: tuple[str, ...], command: str) -> None:
    client = FakeClient(OPERATOR, world(*sample()))
    client.tells_its_dispatch = False  # an embedded tab: told with the answer
    h = await mount(client, width=1440, height=900, only=QUEUES)
    before = int(count(h, queue))
    await h.click(h.button(taps[0], within=h.semantics(f"queue-{card}")))
    for label in taps[1:]:
        await h.click(h.button(label))
    assert client.dispatched[-1].name == command
    # Before: still in its queue until the answer's render.
    assert not h.has_semantics(f"queue-{card}")
    assert count(h, queue) == str(before - 1)
    await client.ack()  # the answer: nothing more to move
    assert count(h, queue) == str(before - 1)


async def test_verify_dialog_shows_the_domains_messages_inline(mount: Mount) -> None:
    client = FakeClient(OPERATOR, world(*sample()))
    h = await mount(client, width=1440, height=900, only=QUEUES)
    await h.click(h.button("Verify payment", within=h.semantics("queue-pay")))
    dialog = h.semantics("verify-pay").parent
    assert isinstance(dialog, ft.AlertDialog)
    method = next(d for d in descendants(dialog) if isinstance(d, ft.Dropdown))
    await h.toggle(method, "gcash")
    await h.type_text(h.field("Amount"), "lots")
    await h.click(h.button("Verify payment", within=dialog))

    assert h.field("Amount").error == "Please give the amount as a number."
    assert "receipt reference" in str(h.field("Receipt reference").error)
    assert h.field("Service extension (optional)").error is None
    assert not client.dispatched, "nothing is sent while the form is wrong"
    assert dialog.open, "the dialog stays open"

    await h.type_text(h.field("Amount"), "0")
    await h.click(h.button("Verify payment", within=dialog))
    assert h.field("Amount").error == "The amount must be more than zero."

    await h.type_text(h.field("Amount"), "1,500")
    await h.type_text(h.field("Receipt reference"), "GC-778")
    await h.type_text(h.field("Service extension (optional)"), "300")
    await h.click(h.button("Verify payment", within=dialog))
    cmd = client.dispatched[-1]
    assert cmd.name == "appointment.verify_payment"
    assert cmd.args == {
        "method": "gcash",
        "amount": 1500.0,
        "receipt_ref": "GC-778",
        "extension_amount": 300.0,
    }
    assert count(h, "payment") == "0"
    assert not dialog.open


async def test_cash_needs_no_receipt(mount: Mount) -> None:
    client = FakeClient(OPERATOR, world(*sample()))
    h = await mount(client, width=1440, height=900, only=QUEUES)
    await h.click(h.button("Verify payment", within=h.semantics("queue-pay")))
    await h.type_text(h.field("Amount"), "900")
    await h.click(h.button("Verify payment", within=h.semantics("verify-pay").parent))
    assert client.dispatched[-1].args == {"method": "cash", "amount": 900.0}


async def test_cancel_overdue_says_how_many(mount: Mount) -> None:
    appts = [*sample(), appointment("late2", Status.PENDING, response_deadline=PAST)]
    client = FakeClient(OPERATOR, world(*appts))
    h = await mount(client, width=1440, height=900, only=QUEUES)
    assert count(h, "overdue") == "2"
    await h.click(h.button("Cancel overdue"))
    assert any("Cancel 2 overdue appointments?" in t for t in h.texts())
    await h.click(h.button("Cancel 2 overdue"))
    assert client.dispatched[-1].name == "appointments.auto_cancel_overdue"
    assert count(h, "overdue") == "0"
    assert count(h, "pending") == "2"
    assert not h.button("Cancel overdue").visible, "nothing left to cancel"


async def test_tick_rewrites_only_countdowns_and_moves_the_late_card() -> None:
    start = datetime.now(UTC).replace(microsecond=0)
    clock = [start]
    soon = appointment("soon", Status.PENDING, response_deadline=iso(start + timedelta(seconds=90)))
    later = appointment(
        "later", Status.PENDING, start="12:00", response_deadline=iso(start + timedelta(hours=2))
    )
    client = FakeClient(OPERATOR, world(soon, later))
    h = Harness(width=1440, height=900)
    board: list[QueueBoard] = []

    def main(page: ft.Page) -> None:
        b = QueueBoard(client, OperatorRunner(page, client), now=lambda: clock[0])
        board.append(b)
        page.add(b.root)

    await h.run(main)
    assert "01:30 left" in h.texts(h.semantics("countdown-soon"))
    assert "2:00:00 left" in h.texts(h.semantics("countdown-later"))

    countdown = next(
        c for c in descendants(h.semantics("countdown-soon")) if isinstance(c, ft.Text)
    )
    mark = h.mark()
    clock[0] = start + timedelta(seconds=1)
    board[0].tick()
    await h.settle()
    assert "01:29 left" in h.texts(h.semantics("countdown-soon"))
    patched = h.patched_ids(mark)
    assert countdown._i in patched
    assert len(patched) == 2, "one patch per countdown text, nothing else"

    clock[0] = start + timedelta(seconds=91)
    board[0].tick()
    await h.settle()
    assert count(h, "overdue") == "1"
    assert count(h, "pending") == "1"
    assert ids_under(h, "queue-soon") <= ids_under(h, "group-overdue")


def test_time_left_words() -> None:
    now = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    assert time_left({"response_deadline": "2026-11-21T09:05:07Z"}, now) == "05:07 left"
    assert time_left({"response_deadline": "2026-11-21T08:00:00Z"}, now) == "Deadline passed"


def _slot(id: str, user: str, start: str = "08:00", end: str = "18:00") -> dict[str, object]:
    return {
        "id": id,
        "version": 1,
        "user_id": user,
        "date": TODAY,
        "start_time": start,
        "end_time": end,
        "available": True,
    }


async def test_reassign_offers_only_therapists_who_can_take_the_slot(mount: Mount) -> None:
    data = world(*sample())
    data["staff"] += [
        staff({"id": "t2", "username": "t2", "role": "therapist", "name": "Bea"}),
        staff({"id": "t3", "username": "t3", "role": "therapist", "name": "Cora"}),
        staff({"id": "t4", "username": "t4", "role": "therapist", "name": "Dina"}),
    ]
    # Bea is free then; Cora has no availability; Dina is already booked then
    data["availability"] = [_slot("v2", "t2"), _slot("v4", "t4")]
    data["appointment"].append(
        appointment("busy", Status.THERAPIST_CONFIRMED, therapist_ids=["t4"], accepted_ids=["t4"])
    )
    client = FakeClient(OPERATOR, data)
    h = await mount(client, width=1440, height=900, only=QUEUES)
    await h.click(h.button("Reassign", within=h.semantics("queue-r1")))
    dialog = h.semantics("reassign-r1")
    choice = next(d for d in descendants(dialog) if isinstance(d, ft.Dropdown))
    assert [o.text for o in choice.options] == ["Bea"]

    await h.click(h.button("Reassign", within=dialog.parent))
    assert choice.error_text == "Please choose the new therapist."
    await h.toggle(choice, "t2")
    await h.click(h.button("Reassign", within=dialog.parent))
    cmd = client.dispatched[-1]
    assert (cmd.name, cmd.args) == (
        "appointment.review_rejection",
        {"decision": "reassign", "therapist_id": "t2"},
    )
    assert count(h, "rejected") == "0"
    # (pending again, with a fresh deadline counted from the fake's clock)
    assert client.view().get("appointment", "r1")["status"] == "pending"  # type: ignore[index]


async def test_pickup_offers_free_drivers_longest_idle_first(mount: Mount) -> None:
    data = world(*sample())
    data["staff"] += [
        staff(
            {"id": "d2", "username": "d2", "role": "driver", "name": "Cid"},
            last_available_at="2026-11-21T07:00:00Z",
        ),
        staff(
            {"id": "d3", "username": "d3", "role": "driver", "name": "Dan"},
            last_available_at="2026-11-21T08:00:00Z",
        ),
        staff({"id": "d4", "username": "d4", "role": "driver", "name": "Eli"}, on_duty=False),
    ]
    # d1 (Ben) is driving "go2" out right now
    data["appointment"].append(appointment("go2", Status.JOURNEY))
    client = FakeClient(OPERATOR, data)
    h = await mount(client, width=1440, height=900, only=QUEUES)
    await h.click(h.button("Assign driver", within=h.semantics("queue-pick")))
    dialog = h.semantics("pickup-pick")
    labels = [str(r.label) for r in descendants(dialog) if isinstance(r, ft.Radio)]
    assert labels == ["Cid — idle longest, free since 07:00 UTC", "Dan — free since 08:00 UTC"]
    await h.click(h.button("Assign driver", within=dialog.parent))
    cmd = client.dispatched[-1]
    assert (cmd.name, cmd.args) == ("appointment.assign_pickup_driver", {"driver_id": "d2"})
    assert count(h, "pickup") == "0"
