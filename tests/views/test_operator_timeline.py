"""The timeline panel beside the all-appointments table: choosing a row shows
the appointment's history from the server — a spinner while asking, friendly
words when it can't, readable lines with names and local times, a reload
when the appointment changes, and never a stale answer over a newer one."""

from __future__ import annotations

import asyncio

import flet as ft

from domain.status import Status
from testkit.flet_harness import Harness, descendants
from tests.views.conftest import Mount
from tests.views.data import OPERATOR, appointment, world
from tests.views.fake_client import FakeClient
from views.port import TimelineEntry

# A mount of the table section alone (the rest of the console isn't looked at here).
TABLE = ("table",)


def entry(seq: int, at: str, name: str, role: str, summary: str, before: str | None,
          after: str, actor_id: str = "x") -> TimelineEntry:
    return TimelineEntry(seq=seq, at=at, actor_id=actor_id, actor_name=name, actor_role=role,
                         command="appointment.x", status_before=before, status_after=after,
                         summary=summary)


BOOKED = entry(3, "2026-11-21T05:40:00Z", "Olga", "operator",
               "booked it for 2026-11-21, 14:00–15:00 with Ana", None, "pending", "o1")
ACCEPTED = entry(9, "2026-11-21T06:02:00Z", "Ana", "therapist", "accepted", "pending",
                 "therapist_confirmed", "t1")
CONFIRMED = entry(12, "2026-11-22T01:15:00Z", "Ben", "driver", "confirmed the trip",
                  "therapist_confirmed", "driver_confirmed", "d1")


def row(h: Harness, appt_id: str) -> ft.DataRow:
    (table,) = h.by_type(ft.DataTable)
    return next(r for r in table.rows if r.data == appt_id)


def panel(h: Harness) -> ft.Semantics:
    return h.semantics("timeline-panel")


def lines(h: Harness) -> list[str]:
    return [t for s in descendants(panel(h)) if isinstance(s, ft.Semantics)
            and str(s.identifier).startswith("timeline-entry-") for t in h.texts(s)]


async def choose(h: Harness, appt_id: str) -> None:
    r = row(h, appt_id)
    await h.session.dispatch_event(r._i, "select_change", True)
    await h.session.after_event(r)
    await h.settle()


async def test_choosing_a_row_shows_its_timeline_after_a_spinner(mount: Mount) -> None:
    client = FakeClient(OPERATOR, world(appointment("a1", Status.THERAPIST_CONFIRMED,
                                                     client_name="Liza Mendoza")))
    client.timelines["a1"] = [BOOKED, ACCEPTED]
    client.timeline_gate = asyncio.Event()  # the server is slow
    h = await mount(client, width=1440, height=900, only=TABLE)
    assert not panel(h).visible

    choosing = asyncio.create_task(choose(h, "a1"))
    await h.settle()
    assert panel(h).visible and row(h, "a1").selected
    assert h.has_semantics("timeline-loading")
    assert "Liza Mendoza" in h.texts(panel(h))

    client.timeline_gate.set()
    await choosing
    assert not h.has_semantics("timeline-loading")
    assert lines(h) == [
        # the business's clock (Asia/Manila, UTC+8); "You": the operator signed in
        "You booked it for 2026-11-21, 14:00–15:00 with Ana · 13:40",
        "→ Pending — waiting for the therapist to accept",
        "Ana accepted · 14:02",
        "→ Accepted — waiting for the driver to confirm",
    ]
    assert "Saturday 21 November" in h.texts(panel(h))

    # the same row again closes it
    await choose(h, "a1")
    assert not panel(h).visible and not row(h, "a1").selected


async def test_a_friendly_problem_and_try_again(mount: Mount) -> None:
    client = FakeClient(OPERATOR, world(appointment("a1", Status.PENDING)))
    client.timelines["a1"] = [BOOKED]
    client.timeline_error = "Can't reach the server, so the history can't be loaded right now."
    h = await mount(client, width=1440, height=900, only=TABLE)
    await choose(h, "a1")
    problem = h.semantics("timeline-problem")
    assert client.timeline_error in h.texts(problem)
    assert lines(h) == []

    client.timeline_error = None  # back online
    retry = next(b for b in descendants(problem) if isinstance(b, ft.TextButton))
    await h.click(retry)
    assert not h.has_semantics("timeline-problem")
    assert lines(h)[0].startswith("You booked it")


async def test_live_reload_and_no_stale_answers(mount: Mount) -> None:
    a1 = appointment("a1", Status.PENDING, client_name="Liza Mendoza")
    a2 = appointment("a2", Status.THERAPIST_CONFIRMED, start="12:00", client_name="Bea Lim")
    client = FakeClient(OPERATOR, world(a1, a2))
    client.timelines = {"a1": [BOOKED], "a2": [BOOKED, ACCEPTED]}
    h = await mount(client, width=1440, height=900, only=TABLE)
    await choose(h, "a1")
    assert len(lines(h)) == 2

    # the therapist accepts elsewhere: the server's log has the step, the
    # panel asks again on its own
    client.timelines["a1"] = [BOOKED, ACCEPTED]
    await client.remote("appointment", {**a1, "version": 2, "status": "therapist_confirmed"})
    await h.settle()
    assert "Ana accepted · 14:02" in lines(h)
    # another appointment changing doesn't touch it
    client.timelines["a1"] = []
    await client.remote("appointment", {**a2, "version": 2, "status": "driver_confirmed"})
    await h.settle()
    assert "Ana accepted · 14:02" in lines(h)

    # a slow answer for a1 arrives after a2 was chosen: a2's history stays
    client.timelines = {"a1": [BOOKED], "a2": [BOOKED, ACCEPTED, CONFIRMED]}
    client.timeline_gate = asyncio.Event()
    first = asyncio.create_task(choose(h, "a1"))  # closes a1 (it was open) ...
    await first
    slow = asyncio.create_task(choose(h, "a1"))  # ... and opens it again, slowly
    await h.settle()
    fast = asyncio.create_task(choose(h, "a2"))
    await h.settle()
    assert row(h, "a2").selected and not row(h, "a1").selected
    client.timeline_gate.set()
    await asyncio.gather(slow, fast)
    assert lines(h)[-2:] == [
        "Ben confirmed the trip · 09:15", "→ Ready to start — waiting for operator"]
    assert "Sunday 22 November" in h.texts(panel(h))
    assert "Bea Lim" in h.texts(panel(h))

    # the close button closes it and unselects the row
    close = next(b for b in h.by_type(ft.IconButton) if b.tooltip == "Close")
    await h.click(close)
    assert not panel(h).visible and not row(h, "a2").selected
