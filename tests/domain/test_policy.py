"""Every role x every appointment action x own / someone else's appointment.

The expected party of each action is written out here from docs/architecture.md, not
read from the domain's table, so the table is checked against the written rules.
"""

from __future__ import annotations

from typing import Any

import pytest

from domain import Actor
from domain.errors import Forbidden, NotFound
from domain.lifecycle import allowed
from domain.policy import can_see
from tests.domain.world import MAIN_PATH, OP, World, booking, staff, world_at

# action -> (status it starts from, who may do it, args)
BRIEF: dict[str, tuple[str, str, dict[str, Any]]] = {
    "accept": ("pending", "therapist", {}),
    "reject": ("pending", "assigned", {"reason": "sick"}),
    "confirm": ("therapist_confirmed", "driver", {}),
    "start": ("driver_confirmed", "operator", {}),
    "start_journey": ("in_progress", "driver", {}),
    "arrive": ("journey", "driver", {}),
    "drop_off": ("arrived", "driver", {}),
    "start_session": ("dropped_off", "therapist", {}),
    "request_payment": ("session_in_progress", "therapist", {}),
    "verify_payment": ("awaiting_payment", "operator", {"method": "cash", "amount": 5}),
    "complete": ("payment_verified", "therapist", {}),
    "request_pickup": ("completed", "therapist", {"urgency": "normal"}),
    "assign_pickup_driver": ("pickup_requested", "operator", {"driver_id": "d3"}),
    "confirm_pickup": ("driver_assigned_pickup", "pickup_driver", {}),
    "complete_return": ("return_journey", "pickup_driver", {}),
    "cancel": ("pending", "operator", {}),
    "review_rejection": ("rejected", "operator", {"decision": "deny"}),
}

# (label, actor, which parties it counts as on appointment a1)
OWN_T, OTHER_T = Actor("t1", "therapist"), Actor("t2", "therapist")
OWN_D, PICKUP_D, OTHER_D = Actor("d1", "driver"), Actor("d2", "driver"), Actor("d3", "driver")
ACTORS: list[tuple[str, Actor, set[str]]] = [
    ("operator", OP, {"operator"}),
    ("own therapist", OWN_T, {"therapist", "assigned"}),
    ("other therapist", OTHER_T, set()),
    ("own driver", OWN_D, {"driver", "assigned"}),
    ("pickup driver", PICKUP_D, {"pickup_driver"}),
    ("other driver", OTHER_D, set()),
]


def _prepared(status: str) -> World:
    w = world_at(status)
    w.snap.put("staff", staff(Actor("d3", "driver"), "Fe Go"))
    if status in ("driver_assigned_pickup", "return_journey"):
        assert w.appt()["pickup_driver_id"] == "d2"
    return w


@pytest.mark.parametrize("action", sorted(BRIEF))
@pytest.mark.parametrize(("label", "actor", "parties"), ACTORS, ids=[a[0] for a in ACTORS])
def test_policy_matrix(action: str, label: str, actor: Actor, parties: set[str]) -> None:
    status, party, args = BRIEF[action]
    w = _prepared(status)
    before = w.state()
    sees = can_see(actor, "appointment", w.appt())
    if party in parties:
        w.do(actor, f"appointment.{action}", "a1", **args)
        assert w.appt()["version"] == before["appointment"]["a1"]["version"] + 1
        return
    expected = Forbidden if sees else NotFound
    with pytest.raises(expected):
        w.do(actor, f"appointment.{action}", "a1", **args)
    assert w.state() == before


@pytest.mark.parametrize("step", range(len(MAIN_PATH)))
def test_views_show_exactly_the_actions_the_domain_allows(step: int) -> None:
    """`allowed` agrees with apply for every actor at every main-path status."""
    status = "pending" if step == 0 else MAIN_PATH[step - 1][3]
    w = _prepared(status)
    for _, actor, _ in ACTORS:
        for action, (_, _, args) in BRIEF.items():
            if not can_see(actor, "appointment", w.appt()):
                continue
            trial = _prepared(status)
            try:
                trial.do(actor, f"appointment.{action}", "a1", **args)
                applied = True
            except Exception:
                applied = False
            assert allowed(w.appt(), actor, action) == applied, (actor, action, status)


def test_visibility_follows_assignment() -> None:
    w = World()
    w.do(OP, "appointment.create", "a1", **booking(therapist_ids=["t1", "t2"]))
    appt = w.appt()
    assert can_see(OWN_T, "appointment", appt) and can_see(OTHER_T, "appointment", appt)
    assert can_see(OWN_D, "appointment", appt) and not can_see(OTHER_D, "appointment", appt)
    assert not can_see(Actor("t3", "therapist"), "appointment", appt)
    assert can_see(OWN_T, "staff", {"id": "d2", "role": "driver"})
    assert not can_see(OWN_T, "client", {"id": "c1"})
    assert can_see(OP, "client", {"id": "c1"})
    note = {"id": "n", "user_id": "t1"}
    assert can_see(OWN_T, "notification", note) and not can_see(OP, "notification", note)
