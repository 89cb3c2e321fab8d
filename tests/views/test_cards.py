"""Cards show only what the domain allows, and a remote event about one
appointment re-renders that card alone."""

from __future__ import annotations

import flet as ft
import pytest

from domain.commands import Actor
from domain.lifecycle import allowed
from domain.status import Status
from testkit.flet_harness import descendants
from tests.views.conftest import Mount
from tests.views.data import DRIVER, OPERATOR, THERAPIST, appointment, world
from tests.views.fake_client import FakeClient
from views.components.actions import LABELS, OFFERED

# The section of each role's screen with its appointment cards (appt-<id>): a mount of
# just that one renders what these tests look at, not the operator's ten sections.
CARDS = {"therapist": ("appointments",), "driver": ("trips",), "operator": ("board",)}


@pytest.mark.parametrize("user", [THERAPIST, DRIVER, OPERATOR], ids=lambda u: u["role"])
@pytest.mark.parametrize("status", list(Status), ids=str)
async def test_buttons_match_domain_allowed(
    mount: Mount, user: dict[str, str], status: Status
) -> None:
    appt = appointment("a1", status)
    client = FakeClient(user, world(appt))
    h = await mount(client, only=CARDS[user["role"]])
    actor = Actor(user["id"], user["role"])  # type: ignore[arg-type]
    expected = [LABELS[a] for a in OFFERED[actor.role] if allowed(appt, actor, a)]
    if not h.has_semantics("appt-a1"):
        # finished appointments from the past are left out; today's show in "Done"
        assert not expected
        return
    card = h.semantics("appt-a1")
    assert h.buttons_in(card) == expected


async def test_every_role_sees_some_action_somewhere(mount: Mount) -> None:
    # guards the parametrized test above against passing vacuously
    shown = 0
    for user in (THERAPIST, DRIVER, OPERATOR):
        for status in Status:
            client = FakeClient(user, world(appointment("a1", status)))
            h = await mount(client, only=CARDS[user["role"]])
            if h.has_semantics("appt-a1"):
                shown += len(h.buttons_in(h.semantics("appt-a1")))
    assert shown >= 15


async def test_remote_event_patches_only_that_card(mount: Mount) -> None:
    a1 = appointment("a1", Status.THERAPIST_CONFIRMED, start="09:00")
    a2 = appointment("a2", Status.THERAPIST_CONFIRMED, start="12:00")
    client = FakeClient(THERAPIST, world(a1, a2))
    h = await mount(client)
    card = h.semantics("appt-a2")
    inside = {c._i for c in descendants(card)}
    other = {c._i for c in descendants(h.semantics("appt-a1"))}

    mark = h.mark()
    await client.remote(
        "appointment", {**a2, "version": 2, "notes": "Gate code 1234", "location": "14 Palm Street"}
    )
    await h.settle()

    patched = h.patched_ids(mark)
    assert patched, "the event must reach the screen"
    assert patched <= inside
    assert not patched & other
    assert "14 Palm Street" in h.texts(h.semantics("appt-a2"))


async def test_status_change_moves_card_and_counts_only(mount: Mount) -> None:
    a1 = appointment("a1", Status.PENDING)
    a2 = appointment("a2", Status.THERAPIST_CONFIRMED, start="12:00")
    client = FakeClient(THERAPIST, world(a1, a2))
    h = await mount(client)
    untouched = {c._i for c in descendants(h.semantics("appt-a2"))}
    groups = {
        c._i
        for g in ("group-answer", "group-turn", "group-waiting", "group-done")
        for c in descendants(h.semantics(g))
    }

    mark = h.mark()
    # the operator cancelled a1 elsewhere: it leaves "Needs your answer"
    await client.remote("appointment", {**a1, "version": 2, "status": "cancelled"})
    await h.settle()

    patched = h.patched_ids(mark)
    assert patched and patched <= groups
    assert not patched & untouched
    assert "(0)" in h.texts(h.semantics("group-answer"))
    assert "Cancelled" in h.texts(h.semantics("appt-a1"))


async def test_new_appointment_appears_in_place(mount: Mount) -> None:
    a1 = appointment("a1", Status.PENDING, start="09:00")
    a3 = appointment("a3", Status.PENDING, start="15:00")
    client = FakeClient(THERAPIST, world(a1, a3))
    h = await mount(client)
    await client.remote("appointment", appointment("a2", Status.PENDING, start="12:00"))
    await h.settle()
    group = h.semantics("group-answer")
    order = [
        s.identifier
        for s in descendants(group)
        if isinstance(s, ft.Semantics) and str(s.identifier or "").startswith("appt-")
    ]
    assert order == ["appt-a1", "appt-a2", "appt-a3"]
    assert "(3)" in h.texts(group)


async def test_a_card_moving_into_a_group_leaves_the_other_cards_undiffed(mount: Mount) -> None:
    """A group's update carries its own changes (a card in or out, its count),
    not the insides of the cards already in it: each card sends its own
    updates. Flet diffed every card of the group before (bench ui: 60-180 ms
    of the event loop for a group of twenty cards on a busy machine)."""
    a1 = appointment("a1", Status.PENDING)
    a2 = appointment("a2", Status.THERAPIST_CONFIRMED, start="12:00")
    client = FakeClient(THERAPIST, world(a1, a2))
    h = await mount(client)
    waiting = h.semantics("appt-a2")
    assert waiting.is_isolated()
    # a change inside a2 that nothing has sent yet: a group's update must not carry it
    title = next(t for t in descendants(waiting) if isinstance(t, ft.Text)
                 and t.value == "Client a2")
    title.value = "Not sent by the group"

    mark = h.mark()
    await client.remote("appointment", {**a1, "version": 2,
                                        "status": "therapist_confirmed"})
    await h.settle()
    sent = repr([m.body for m in h.conn.messages[mark:]])
    assert "Client a1" in sent  # the card that moved in is sent whole
    assert "Not sent by the group" not in sent


async def test_a_card_changes_in_place_and_sends_only_what_differs(mount: Mount) -> None:
    """A card keeps its controls: a new status changes its words and buttons,
    a new address its line, and nothing else is sent again (it was rebuilt
    from scratch before: ~15 new controls, ~1.3 kB per update, bench ui)."""
    a1 = appointment("a1", Status.PENDING)
    client = FakeClient(THERAPIST, world(a1))
    h = await mount(client)
    before = {c._i for c in descendants(h.semantics("appt-a1"))}

    mark = h.mark()
    await client.remote("appointment", {**a1, "version": 2, "location": "14 Palm Street"})
    await h.settle()
    assert "14 Palm Street" in h.texts(h.semantics("appt-a1"))
    assert {c._i for c in descendants(h.semantics("appt-a1"))} == before
    sent = repr([m.body for m in h.conn.messages[mark:]])
    assert "14 Palm Street" in sent and "Client a1" not in sent  # the line, not the card

    await h.click(h.button("Accept", h.semantics("appt-a1")))  # pending: the mark shows
    card = h.semantics("appt-a1")
    assert "Waiting to sync" in h.texts(card)
    assert h.buttons_in(card) == []  # an accepted request has nothing left to tap here
    await client.ack()
    await h.settle()
    assert "Waiting to sync" not in h.texts(h.semantics("appt-a1"))


async def test_a_tap_sends_the_outcome_not_a_spinner_first(mount: Mount) -> None:
    """The dispatch answers at once (the store applies it locally): the tap
    sends the card's new state, not a busy spinner before it (issue 14)."""
    client = FakeClient(THERAPIST, world(appointment("a1", Status.PENDING)))
    h = await mount(client)
    mark = h.mark()
    await h.click(h.button("Accept", h.semantics("appt-a1")))
    sent = repr([m.body for m in h.conn.messages[mark:]])
    assert "Waiting to sync" in sent  # the outcome went out
    assert "ProgressRing" not in sent


@pytest.mark.parametrize(("user", "first", "then"), [
    (THERAPIST, Status.DROPPED_OFF, Status.SESSION_IN_PROGRESS),  # Start session -> Request payment
    (DRIVER, Status.IN_PROGRESS, Status.JOURNEY),  # Start journey -> Arrive
], ids=["therapist", "driver"])
async def test_a_new_status_shows_other_buttons_of_the_card_not_new_ones(
        mount: Mount, user: dict[str, str], first: Status, then: Status) -> None:
    """Every button the role is ever offered is made with the card: a status
    change that keeps the card in its group shows and hides them, and sends
    no new button for the screen to build (bench ui: new buttons made the
    card's paint dearer)."""
    actor = Actor(user["id"], user["role"])  # type: ignore[arg-type]

    def offered(status: Status) -> list[str]:
        appt = appointment("a1", status)
        return [LABELS[a] for a in OFFERED[actor.role] if allowed(appt, actor, a)]

    assert offered(first) and offered(then) and offered(first) != offered(then)
    client = FakeClient(user, world(appointment("a1", first)))
    h = await mount(client, only=CARDS[user["role"]])
    assert h.buttons_in(h.semantics("appt-a1")) == offered(first)
    before = {c._i for c in descendants(h.semantics("appt-a1"))}

    mark = h.mark()
    await client.remote("appointment", {**appointment("a1", then), "version": 2})
    await h.settle()
    card = h.semantics("appt-a1")
    assert h.buttons_in(card) == offered(then)
    assert {c._i for c in descendants(card)} <= before  # nothing new in the card
    assert "Button" not in repr([m.body for m in h.conn.messages[mark:]])
