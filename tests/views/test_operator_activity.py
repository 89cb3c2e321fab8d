"""The live activity feed: the sentence for each kind of event, the feed's
order, bound and live updates, today's history read back from the records
at sign-in and after a reset, and the raw events reaching the views from the
real client (listener -> client -> binding)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import flet as ft
import pytest

from domain.commands import MemorySnapshot
from domain.records import Record
from domain.status import Status, status_text
from domain.times import iso
from services.api import Api
from services.client import Client
from services.session import Session
from store.store import Store
from testkit.flet_harness import Harness, descendants
from tests.views.conftest import Mount
from tests.views.data import DRIVER, OPERATOR, THERAPIST, TODAY, appointment, staff, world
from tests.views.fake_client import FakeClient
from views.components import clock
from views.operator import activity as operator_activity
from views.operator.activity import ActivityFeed, time_label
from views.operator.activity_text import describe
from views.operator.words import clock_text, day_text
from views.port import Changed, ServerEvent

# A mount of the activity section alone (the rest of the console isn't looked at here).
ACTIVITY = ("activity",)

DAY = date.fromisoformat(TODAY)
CARLA: Record = {"id": "t2", "username": "therapist2", "role": "therapist", "name": "Carla"}
MARIA: Record = {"id": "c1", "version": 1, "first_name": "Maria", "last_name": "Santos"}


def snap() -> MemorySnapshot:
    records = world()
    return MemorySnapshot.of(
        staff=[*records["staff"], staff(CARLA)],
        service=records["service"],
        client=[MARIA],
    )


def booking(status: Status | str, **extra: Any) -> Record:
    return appointment("a1", status, start="14:00", **{"client_name": "Maria Santos", **extra})


def event(
    data: Record | None, cause: str, entity: str = "appointment", seq: int = 1
) -> ServerEvent:
    return ServerEvent(
        seq=seq,
        entity=entity,  # type: ignore[arg-type]
        id=str((data or {}).get("id") or "x"),
        op="upsert" if data is not None else "delete",
        version=int((data or {}).get("version") or 1),
        data=data,
        cause=cause,
    )


MARIAS = "Maria Santos's 2 pm Swedish massage"
PAID = {"method": "gcash", "amount": 900, "receipt_ref": "GC-1", "extension_amount": 300}
REJECTION = {"by": "t1", "role": "therapist", "reason": "Sick today", "previous_status": "pending"}

APPOINTMENT_EVENTS: list[tuple[str, Record, str]] = [
    (
        "appointment.create",
        booking(Status.PENDING, created_by="o1", therapist_ids=["t1", "t2"]),
        f"Operator Olga booked {MARIAS} with Therapist Ana and Therapist Carla",
    ),
    (
        "appointment.update",
        booking(Status.PENDING, updated_by="o1"),
        f"Operator Olga changed {MARIAS}",
    ),
    ("appointment.update", booking(Status.PENDING), f"Someone changed {MARIAS}"),  # older record
    (
        "appointment.accept",
        booking(Status.THERAPIST_CONFIRMED, accepted_by="t1"),
        f"Therapist Ana accepted {MARIAS}",
    ),
    (
        "appointment.accept",
        booking(Status.PENDING, accepted_by="t2", therapist_ids=["t1", "t2"]),
        f"Therapist Carla accepted {MARIAS} (waiting for the other therapists)",
    ),
    (
        "appointment.reject",
        booking(Status.REJECTED, rejected_by="t1", rejection=REJECTION),
        f"Therapist Ana rejected {MARIAS}: “Sick today”",
    ),
    (
        "appointment.review_rejection",
        booking(Status.PENDING, reviewed_by="o1", rejection={**REJECTION, "decision": "deny"}),
        f"Operator Olga turned down the rejection of {MARIAS}",
    ),
    (
        "appointment.review_rejection",
        booking(Status.CANCELLED, reviewed_by="o1", rejection={**REJECTION, "decision": "accept"}),
        f"Operator Olga accepted the rejection and cancelled {MARIAS}",
    ),
    (
        "appointment.review_rejection",
        booking(
            Status.PENDING,
            reviewed_by="o1",
            therapist_ids=["t2"],
            rejection={**REJECTION, "decision": "reassign"},
        ),
        f"Operator Olga gave {MARIAS} to Therapist Carla",
    ),
    (
        "appointment.confirm",
        booking(Status.DRIVER_CONFIRMED, driver_confirmed_by="d1"),
        f"Driver Ben confirmed the trip for {MARIAS}",
    ),
    (
        "appointment.start",
        booking(Status.IN_PROGRESS, started_by="o1"),
        f"Operator Olga started {MARIAS}",
    ),
    (
        "appointment.start_journey",
        booking(Status.JOURNEY, journey_started_by="d1"),
        "Driver Ben is on the way to Maria Santos",
    ),
    (
        "appointment.arrive",
        booking(Status.ARRIVED, arrived_by="d1"),
        "Driver Ben arrived at Maria Santos's",
    ),
    (
        "appointment.drop_off",
        booking(Status.DROPPED_OFF, dropped_off_by="d1"),
        "Driver Ben dropped Therapist Ana off at Maria Santos's",
    ),
    (
        "appointment.start_session",
        booking(Status.SESSION_IN_PROGRESS, session_started_by="t1"),
        f"Therapist Ana started the session for {MARIAS}",
    ),
    (
        "appointment.request_payment",
        booking(Status.AWAITING_PAYMENT, payment_requested_by="t1"),
        f"Therapist Ana asked for payment for {MARIAS}",
    ),
    (
        "appointment.verify_payment",
        booking(Status.PAYMENT_VERIFIED, payment_verified_by="o1", payment=PAID),
        f"Operator Olga verified payment of ₱1,200 (GCash) for {MARIAS}",
    ),
    (
        "appointment.complete",
        booking(Status.COMPLETED, completed_by="t1"),
        f"Therapist Ana completed {MARIAS}",
    ),
    (
        "appointment.request_pickup",
        booking(Status.PICKUP_REQUESTED, pickup_requested_by="t1", pickup_driver_id=None),
        "Therapist Ana asked for a pickup from Maria Santos's",
    ),
    (
        "appointment.request_pickup",
        booking(
            Status.DRIVER_ASSIGNED_PICKUP, pickup_requested_by="t1", pickup_assigned_by="system"
        ),
        "Therapist Ana asked for a pickup from Maria Santos's; Tandem sent Driver Ben",
    ),
    (
        "appointment.assign_pickup_driver",
        booking(Status.DRIVER_ASSIGNED_PICKUP, pickup_assigned_by="o1"),
        "Operator Olga sent Driver Ben to pick up Therapist Ana from Maria Santos's",
    ),
    (
        "appointments.auto_assign_pickups",
        booking(Status.DRIVER_ASSIGNED_PICKUP, pickup_assigned_by="system"),
        "Tandem sent Driver Ben to pick up Therapist Ana from Maria Santos's",
    ),
    (
        "appointment.confirm_pickup",
        booking(Status.RETURN_JOURNEY, pickup_confirmed_by="d1"),
        "Driver Ben picked up Therapist Ana from Maria Santos's",
    ),
    (
        "appointment.complete_return",
        booking(Status.TRANSPORT_COMPLETED, returned_by="d1"),
        "Driver Ben brought Therapist Ana back from Maria Santos's",
    ),
    (
        "appointment.cancel",
        booking(Status.CANCELLED, cancelled_by="o1", cancel_reason="Client is unwell"),
        f"Operator Olga cancelled {MARIAS}: “Client is unwell”",
    ),
    (
        "appointments.auto_cancel_overdue",
        booking(Status.AUTO_CANCELLED, auto_cancelled_by="system"),
        f"{MARIAS} was cancelled: nobody accepted in time",
    ),
    ("appointment.something_new", booking(Status.PENDING), f"{MARIAS} was updated"),
]


@pytest.mark.parametrize(("cause", "data", "text"), APPOINTMENT_EVENTS)
def test_each_appointment_event_reads_as_a_sentence(cause: str, data: Record, text: str) -> None:
    activity = describe(event(data, cause), snap(), today=DAY)
    assert activity is not None
    assert activity.text == text
    assert activity.kind == "appointment"
    # the line under it is the domain's own status text, not ours
    assert activity.detail == status_text(data["status"], "operator")


def test_the_reader_is_you_and_other_days_are_named() -> None:
    created = booking(Status.PENDING, created_by="o1", created_at="2026-11-21T01:05:00Z")
    activity = describe(event(created, "appointment.create"), snap(), me="o1", today=DAY)
    assert activity is not None
    assert activity.text.startswith(f"You booked {MARIAS} with")
    assert activity.at == "2026-11-21T01:05:00Z"
    later = {**created, "date": (DAY + timedelta(days=1)).isoformat()}
    activity = describe(event(later, "appointment.create"), snap(), me="o1", today=DAY)
    assert activity is not None and f"{MARIAS} tomorrow with" in activity.text
    # unknown people and clients without a name on the record still read well
    odd = booking(Status.THERAPIST_CONFIRMED, accepted_by="t9", client_name=None, service_ids=[])
    activity = describe(event(odd, "appointment.accept"), snap(), today=DAY)
    assert activity is not None
    assert activity.text == "Someone accepted Maria Santos's 2 pm appointment"


def test_staff_client_and_availability_events() -> None:
    s = snap()
    cases: list[tuple[ServerEvent, str | None]] = [
        (
            event(staff(DRIVER, on_duty=False), "staff.set_duty", "staff"),
            "Driver Ben is now off duty",
        ),
        (event(staff(THERAPIST), "staff.set_duty", "staff"), "Therapist Ana is now on duty"),
        (event(MARIA, "client.create", "client"), "New client: Maria Santos"),
        (event(MARIA, "client.update", "client"), "Maria Santos's details were updated"),
        (
            event(
                {
                    "id": "v1",
                    "user_id": "t1",
                    "date": TODAY,
                    "start_time": "10:00",
                    "end_time": "14:30",
                    "available": True,
                },
                "availability.create",
                "availability",
            ),
            "Therapist Ana: available 10 am–2:30 pm today",
        ),
        (
            event(
                {
                    "id": "v2",
                    "user_id": "d1",
                    "date": (DAY + timedelta(days=1)).isoformat(),
                    "start_time": "22:00",
                    "end_time": "02:00",
                    "available": True,
                },
                "availability.bulk_create",
                "availability",
            ),
            "Driver Ben: available 10 pm–2 am tomorrow",
        ),
        (
            event(
                {
                    "id": "v1",
                    "user_id": "t1",
                    "date": TODAY,
                    "start_time": "10:00",
                    "end_time": "14:30",
                    "available": False,
                },
                "availability.update",
                "availability",
            ),
            "Therapist Ana changed a slot: not available 10 am–2:30 pm today",
        ),
        (event(None, "availability.delete", "availability"), "An availability slot was removed"),
        # side effects and seeding are not news
        (event({"id": "n1", "user_id": "o1"}, "appointment.request_payment", "notification"), None),
        (event(staff(DRIVER), "appointment.drop_off", "staff"), None),
        (event({"id": "s1", "name": "Swedish massage"}, "seed", "service"), None),
        (event(MARIA, "seed", "client"), None),
    ]
    for e, text in cases:
        activity = describe(e, s, today=DAY)
        assert (activity.text if activity else None) == text, e


@pytest.mark.parametrize(
    ("hhmm", "text"),
    [
        ("00:00", "12 am"),
        ("00:30", "12:30 am"),
        ("09:05", "9:05 am"),
        ("12:00", "12 pm"),
        ("14:00", "2 pm"),
        ("23:59", "11:59 pm"),
        ("25:00", "25:00"),
        (None, ""),
    ],
)
def test_clock_text(hhmm: str | None, text: str) -> None:
    assert clock_text(hhmm) == text


def test_day_text_around_midnight() -> None:
    assert day_text(TODAY, DAY) == ""
    assert day_text((DAY + timedelta(days=1)).isoformat(), DAY) == " tomorrow"
    assert day_text((DAY - timedelta(days=1)).isoformat(), DAY) == " yesterday"
    assert day_text("2026-01-03", date(2026, 1, 1)) == " on Sat 03 Jan"
    assert day_text("2025-12-31", date(2026, 1, 1)) == " yesterday"  # across a year
    assert day_text("not a date", DAY) == ""


def test_times_are_on_the_business_clock() -> None:
    activity = describe(
        event(
            booking(
                Status.THERAPIST_CONFIRMED, accepted_by="t1", accepted_at="2026-11-21T16:05:00Z"
            ),
            "appointment.accept",
        ),
        snap(),
        today=DAY,
    )
    assert activity is not None
    received = datetime(2026, 11, 22, 0, 30, tzinfo=UTC)
    assert time_label(activity, received) == "00:05"  # Manila is UTC+8: past midnight
    unstamped = describe(event(MARIA, "client.create", "client"), snap())
    assert unstamped is not None
    assert time_label(unstamped, received) == "08:30"  # when it reached us


# ---- the feed on a page


def feed_ids(h: Harness) -> list[str]:
    return [
        str(s.identifier)
        for s in descendants(h.semantics("activity-feed"))
        if isinstance(s, ft.Semantics) and str(s.identifier).startswith("activity-")
    ][1:]


async def test_feed_shows_events_as_they_arrive_newest_first(mount: Mount) -> None:
    a1 = booking(Status.PENDING, created_by="o1")
    client = FakeClient(OPERATOR, world(a1))
    h = await mount(client, width=1440, height=900, only=ACTIVITY)
    feed = h.semantics("activity-feed")
    assert feed_ids(h) == []
    assert any(t.startswith("Nothing has happened yet today.") for t in h.texts(feed))

    accepted = {**a1, "version": 2, "status": "therapist_confirmed", "accepted_by": "t1"}
    note = {"id": "n1", "version": 1, "user_id": "o1", "text": "x", "read": False}
    await client.remote_events(
        event(accepted, "appointment.accept", seq=10),
        event(note, "appointment.accept", "notification", seq=11),
    )
    await h.settle()
    assert feed_ids(h) == ["activity-10"]
    assert f"Therapist Ana accepted {MARIAS}" in h.texts(feed)
    assert "Accepted — waiting for the driver to confirm" in h.texts(feed)
    assert not any(t.startswith("Nothing has happened yet today.") for t in h.texts(feed))
    # the appointment's new state reached the other pages too
    assert client.view().get("appointment", "a1") == accepted

    confirmed = {
        **accepted,
        "version": 3,
        "status": "driver_confirmed",
        "driver_confirmed_by": "d1",
    }
    mark = h.mark()
    first_line = {c._i for c in descendants(h.semantics("activity-10"))}
    await client.remote_events(event(confirmed, "appointment.confirm", seq=12))
    await h.settle()
    assert feed_ids(h) == ["activity-12", "activity-10"]
    assert not h.patched_ids(mark) & first_line  # the old line was not redrawn

    # a replayed event (after a reconnect) is not shown twice
    await client.remote_events(event(confirmed, "appointment.confirm", seq=12))
    await h.settle()
    assert feed_ids(h) == ["activity-12", "activity-10"]


async def test_feed_keeps_only_the_latest() -> None:
    h = Harness()
    client = FakeClient(OPERATOR, world())
    feed = ActivityFeed(client, limit=3)

    async def main(page: ft.Page) -> None:
        page.add(feed.root)

    await h.run(main)
    for seq in range(1, 6):
        feed.changed(
            Changed(
                events=(event(staff(DRIVER, on_duty=seq % 2 == 0), "staff.set_duty", "staff", seq),)
            )
        )
    # one batch of two, oldest first on the wire, newest first on the page
    feed.changed(
        Changed(
            events=(
                event(MARIA, "client.update", "client", 6),
                event(MARIA, "client.update", "client", 7),
            )
        )
    )
    await h.settle()
    assert feed_ids(h) == ["activity-7", "activity-6", "activity-5"]


# ---- today's history, read back from the records

ZONE = clock.local(datetime.now(UTC)).tzinfo
YESTERDAY = DAY - timedelta(days=1)


def at(hhmm: str, day: date = DAY) -> str:
    """The UTC stamp of `hhmm` on the business's clock."""
    h, m = (int(x) for x in hhmm.split(":"))
    return iso(datetime.combine(day, time(h, m), tzinfo=ZONE))


def history() -> list[Record]:
    """a1 booked, accepted and confirmed today; a2 booked today; a3 all
    yesterday; a4 booked yesterday, cancelled today; a5 a stamp with no
    readable time."""
    return [
        booking(
            Status.DRIVER_CONFIRMED,
            created_at=at("08:00"),
            created_by="o1",
            accepted_at=at("08:30"),
            accepted_by="t1",
            accepted_ids=["t1"],
            driver_confirmed_at=at("09:15"),
            driver_confirmed_by="d1",
            updated_at=at("09:15"),
        ),
        appointment(
            "a2",
            Status.PENDING,
            created_at=at("08:45"),
            created_by="o1",
            updated_at=at("08:45"),
            accepted_by=None,
        ),
        appointment(
            "a3",
            Status.THERAPIST_CONFIRMED,
            created_at=at("18:00", YESTERDAY),
            created_by="o1",
            accepted_at=at("19:00", YESTERDAY),
            accepted_by="t1",
            accepted_ids=["t1"],
            updated_at=at("19:00", YESTERDAY),
        ),
        appointment(
            "a4",
            Status.CANCELLED,
            created_at=at("20:00", YESTERDAY),
            created_by="o1",
            cancelled_at=at("07:00"),
            cancelled_by="o1",
            cancel_reason="Client is away",
            updated_at=at("07:00"),
            accepted_by=None,
        ),
        appointment(
            "a5",
            Status.THERAPIST_CONFIRMED,
            accepted_at="sometime this morning",
            accepted_by="t1",
            accepted_ids=["t1"],
        ),
    ]


TODAYS = [
    "activity-a1-driver_confirmed",
    "activity-a2-created",
    "activity-a1-accepted",
    "activity-a1-created",
    "activity-a4-cancelled",
]


def line_texts(h: Harness, identifier: str) -> list[str]:
    return h.texts(h.semantics(identifier))


async def test_sign_in_shows_todays_history_newest_first(mount: Mount) -> None:
    client = FakeClient(OPERATOR, world(*history()))
    h = await mount(client, width=1440, height=900, only=ACTIVITY)
    # today's steps only, newest first; yesterday's and a time nobody can read are left out
    assert feed_ids(h) == TODAYS
    assert not any(
        t.startswith("Nothing has happened") for t in h.texts(h.semantics("activity-feed"))
    )
    # the same words as a live line; the status line is the one the step left
    assert line_texts(h, "activity-a1-accepted") == [
        f"Therapist Ana accepted {MARIAS}",
        status_text("therapist_confirmed", "operator"),
        "08:30",
    ]
    assert line_texts(h, "activity-a1-driver_confirmed")[0] == (
        f"Driver Ben confirmed the trip for {MARIAS}"
    )
    assert line_texts(h, "activity-a1-created")[0].startswith(f"You booked {MARIAS} with")
    assert line_texts(h, "activity-a4-cancelled") == [
        "You cancelled Client a4's 10 am Swedish massage: “Client is away”",
        status_text("cancelled", "operator"),
        "07:00",
    ]


async def test_live_events_go_on_from_the_history_without_repeating_it(mount: Mount) -> None:
    records = history()
    client = FakeClient(OPERATOR, world(*records))
    h = await mount(client, width=1440, height=900, only=ACTIVITY)
    a1 = records[0]
    # the driver's confirmation arrives (a replay around the bootstrap's cursor):
    # the history already has it, at the same instant
    await client.remote_events(event(a1, "appointment.confirm", seq=20))
    await h.settle()
    assert feed_ids(h) == TODAYS

    mark = h.mark()
    shown = {c._i for c in descendants(h.semantics("activity-a1-driver_confirmed"))}
    started = {
        **a1,
        "version": 4,
        "status": "in_progress",
        "started_at": at("09:40"),
        "started_by": "o1",
        "updated_at": at("09:40"),
    }
    await client.remote_events(event(started, "appointment.start", seq=21))
    await h.settle()
    assert feed_ids(h) == ["activity-21", *TODAYS]
    assert line_texts(h, "activity-21") == [
        f"You started {MARIAS}",
        status_text("in_progress", "operator"),
        "09:40",
    ]
    assert not h.patched_ids(mark) & shown  # the history's lines were not redrawn

    # a step the history has, taken again later (say after a rejection was
    # turned down): a line of its own, the earlier one stays
    again = {**started, "version": 6, "accepted_at": at("09:50"), "updated_at": at("09:50")}
    await client.remote_events(event(again, "appointment.accept", seq=22))
    await h.settle()
    assert feed_ids(h) == ["activity-22", "activity-21", *TODAYS]
    assert line_texts(h, "activity-22")[-1] == "09:50"


async def test_a_change_waiting_to_sync_gives_way_to_the_servers_event(mount: Mount) -> None:
    a1 = history()[0]
    client = FakeClient(OPERATOR, world(a1), now=datetime.combine(DAY, time(9, 30), ZONE))
    assert (await client.dispatch("appointment.start", "a1", {})).ok  # queued, not yet sent
    h = await mount(client, width=1440, height=900, only=ACTIVITY)
    # what we did is in the history, at our own clock's time
    assert feed_ids(h)[0] == "activity-a1-started"
    assert line_texts(h, "activity-a1-started")[-1] == "09:30"
    # the server applies it a minute later: its event takes the guess's place
    started = {
        **a1,
        "version": 4,
        "status": "in_progress",
        "started_at": at("09:31"),
        "started_by": "o1",
        "updated_at": at("09:31"),
    }
    await client.remote_events(event(started, "appointment.start", seq=30))
    await h.settle()
    assert feed_ids(h) == [
        "activity-30",
        *TODAYS[:1],
        "activity-a1-accepted",
        "activity-a1-created",
    ]
    assert line_texts(h, "activity-30")[-1] == "09:31"


def feed_on_page(client: FakeClient, **kwargs: Any) -> tuple[Harness, ActivityFeed]:
    h = Harness()
    feed = ActivityFeed(client, **kwargs)
    return h, feed


async def test_a_reset_reads_the_history_again() -> None:
    day = [DAY]
    client = FakeClient(OPERATOR, world(*history()))
    received = datetime.combine(DAY, time(9, 25), ZONE)  # when live events reach us
    h, feed = feed_on_page(client, today=lambda: day[0], now=lambda: received)

    async def main(page: ft.Page) -> None:
        page.add(feed.root)

    await h.run(main)
    assert feed_ids(h) == TODAYS
    # events only a live line can tell (a driver going off duty) ...
    off = staff(DRIVER, on_duty=False)
    feed.changed(Changed(events=(event(off, "staff.set_duty", "staff", seq=40),)))
    # ... and one the next history has too
    a2 = {
        **history()[1],
        "version": 2,
        "status": "therapist_confirmed",
        "accepted_at": at("09:20"),
        "accepted_by": "t1",
        "accepted_ids": ["t1"],
        "updated_at": at("09:20"),
    }
    feed.changed(Changed(events=(event(a2, "appointment.accept", seq=41),)))
    await h.settle()
    assert feed_ids(h)[:2] == ["activity-41", "activity-40"]

    # a full re-sync: the records have moved on meanwhile (a2's accept, a1 started)
    started = {
        **history()[0],
        "status": "in_progress",
        "started_at": at("09:40"),
        "started_by": "o1",
        "updated_at": at("09:40"),
    }
    client.confirmed.put("appointment", started)
    client.confirmed.put("appointment", a2)
    client._recompute()
    feed.changed(Changed(reset=True))
    await h.settle()
    assert feed_ids(h) == [
        "activity-a1-started",  # 09:40
        "activity-40",  # kept (no record tells it), placed by when it reached us: 09:25
        "activity-a2-accepted",  # 09:20, once: its live line gave way to the record's
        *TODAYS,
    ]
    # a replayed event of the new history is not repeated either
    feed.changed(Changed(events=(event(started, "appointment.start", seq=42),)))
    await h.settle()
    assert "activity-42" not in feed_ids(h)

    # the next day, a reset shows that day's history: nothing of yesterday
    day[0] = DAY + timedelta(days=1)
    feed.changed(Changed(reset=True))
    await h.settle()
    assert feed_ids(h) == []
    assert any(
        t.startswith("Nothing has happened yet today.")
        for t in h.texts(h.semantics("activity-feed"))
    )


async def test_the_history_is_read_once_per_reset_and_kept_within_the_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reads: list[str] = []
    real = operator_activity.steps

    def counted(appt: Record) -> Any:
        reads.append(appt["id"])
        return real(appt)

    worded: list[str] = []
    real_words = operator_activity.describe_step

    def words(appt: Record, *args: Any) -> Any:
        worded.append(appt["id"])
        return real_words(appt, *args)

    monkeypatch.setattr(operator_activity, "steps", counted)
    monkeypatch.setattr(operator_activity, "describe_step", words)
    many = [
        appointment(
            f"b{i:02d}",
            Status.PENDING,
            created_at=at(f"08:{i:02d}"),
            created_by="o1",
            updated_at=at(f"08:{i:02d}"),
            accepted_by=None,
        )
        for i in range(10)
    ]
    client = FakeClient(OPERATOR, world(*many))
    h, feed = feed_on_page(client, limit=4, today=lambda: DAY)

    async def main(page: ft.Page) -> None:
        page.add(feed.root)

    await h.run(main)
    assert feed_ids(h) == [f"activity-b{i:02d}-created" for i in (9, 8, 7, 6)]
    assert len(reads) == len(many)
    assert len(worded) == 4  # only what is shown is worded and drawn
    for seq in range(1, 4):
        feed.changed(Changed(events=(event(MARIA, "client.update", "client", seq),)))
    await h.settle()
    assert len(reads) == len(many)  # live events don't read the history again
    assert feed_ids(h) == ["activity-3", "activity-2", "activity-1", "activity-b09-created"]
    feed.changed(Changed(reset=True))
    assert len(reads) == 2 * len(many)


# ---- the raw events from the real client


async def test_server_events_reach_the_views_with_their_cause() -> None:
    session = Session("http://127.0.0.1:9", "token", OPERATOR, None)
    store = Store(session.actor)
    client = Client(session, store, Api(session.server_url))
    got: list[Changed] = []
    off = client.subscribe(got.append)
    a1 = booking(Status.THERAPIST_CONFIRMED, accepted_by="t1")
    raw = {
        "seq": 5,
        "entity": "appointment",
        "id": "a1",
        "op": "upsert",
        "version": 1,
        "data": a1,
        "cause": "appointment.accept",
    }
    try:
        client.listener._handle([{"type": "event", "event": raw}, {"type": "ping"}])
    finally:
        off()
        await client.api.aclose()
    assert [c.keys for c in got if c.keys] == [frozenset({("appointment", "a1")})]
    (events,) = [c.events for c in got if c.events]
    assert events == (ServerEvent(5, "appointment", "a1", "upsert", 1, a1, "appointment.accept"),)
    assert client.last_event == raw  # what the sync inspector shows is unchanged
