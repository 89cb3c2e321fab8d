"""A group booking after one of its therapists accepted: every card tells
the truth about it (issue: "Waiting on others" said "New request")."""

from __future__ import annotations

import pytest

from domain.records import Entity, Record
from domain.status import Status
from testkit.flet_harness import Harness
from tests.views.conftest import Mount
from tests.views.data import DRIVER, OPERATOR, THERAPIST, appointment, staff, world
from tests.views.fake_client import FakeClient

BEA: Record = {"id": "t2", "username": "therapist2", "role": "therapist", "name": "Bea"}


def group_world(accepted: list[str]) -> dict[Entity, list[Record]]:
    appt = appointment(
        "g1", Status.PENDING, therapist_ids=["t1", "t2"], accepted_ids=accepted
    )
    records = world(appt)
    records["staff"].append(staff(BEA))
    return records


def card_texts(h: Harness, appt_id: str = "g1") -> list[str]:
    return h.texts(h.semantics(f"appt-{appt_id}"))


async def test_the_therapist_who_accepted_sees_that_she_did(mount: Mount) -> None:
    client = FakeClient(THERAPIST, group_world(accepted=[]))
    h = await mount(client)
    assert "New request — accept or reject" in card_texts(h)

    await h.click(h.button("Accept", within=h.semantics("appt-g1")))
    await h.settle()

    texts = card_texts(h)
    assert "You accepted — waiting for Bea to answer" in texts
    assert "New request — accept or reject" not in texts
    assert "Therapists: Ana and Bea" in texts
    # she is waiting on others now, and may only withdraw (the rules allow it)
    assert h.has_semantics("group-waiting")
    assert "Client g1" in h.texts(h.semantics("group-waiting"))
    assert h.buttons_in(h.semantics("appt-g1")) == ["Withdraw"]


async def test_the_other_therapist_sees_how_far_it_got(mount: Mount) -> None:
    client = FakeClient(BEA, group_world(accepted=["t1"]))
    h = await mount(client)
    texts = card_texts(h)
    assert "New request — 1 of 2 therapists accepted; accept or reject" in texts
    assert h.buttons_in(h.semantics("appt-g1")) == ["Accept", "Reject"]


@pytest.mark.parametrize("user", [OPERATOR, DRIVER], ids=lambda u: u["role"])
async def test_operator_and_driver_see_who_is_still_to_answer(
    mount: Mount, user: Record
) -> None:
    client = FakeClient(user, group_world(accepted=[]))
    h = await mount(client)
    before = client.view().get("appointment", "g1")
    assert before is not None
    await client.remote("appointment", {**before, "version": 2, "accepted_ids": ["t2"]})
    await h.settle()
    texts = card_texts(h) if h.has_semantics("appt-g1") else h.texts(h.semantics("queue-g1"))
    assert "1 of 2 therapists accepted — waiting for Ana" in texts
    assert "Therapists: Ana and Bea" in texts


async def test_a_one_therapist_booking_keeps_its_words(mount: Mount) -> None:
    client = FakeClient(OPERATOR, world(appointment("a1", Status.PENDING)))
    h = await mount(client)
    texts = h.texts(h.semantics("queue-a1"))
    assert "Therapist: Ana" in texts  # the operator's pending card names who is asked
    assert any(t.startswith("Pending") for t in texts)
