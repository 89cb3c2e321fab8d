"""Arguments of the actions that take more than a reason, table-driven: each
bad value is refused with words that say what to fix, and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from domain import Actor, DomainError, touched_dates
from domain.errors import InvalidArgs, NotFound
from tests.domain.world import D1, D2, OP, T1, World, booking, staff, world_at

OIL = {"name": "oil", "quantity": 1}

# materials (on complete): bad value, error, words in the message
BAD_MATERIALS: list[tuple[object, type[DomainError], str]] = [
    ("oil", InvalidArgs, "must be a list"),
    (OIL, InvalidArgs, "must be a list"),
    (3, InvalidArgs, "must be a list"),
    ([OIL] * 51, InvalidArgs, "must be a list"),
    (["oil"], InvalidArgs, "needs a name and a quantity"),
    ([OIL, None], InvalidArgs, "needs a name and a quantity"),
    ([{"quantity": 1}], InvalidArgs, "material's name"),
    ([{"name": "  ", "quantity": 1}], InvalidArgs, "material's name"),
    ([{"name": 7, "quantity": 1}], InvalidArgs, "must be text"),
    ([{"name": "oil"}], InvalidArgs, "quantity as a number"),
    ([{"name": "oil", "quantity": "2"}], InvalidArgs, "quantity as a number"),
    ([{"name": "oil", "quantity": True}], InvalidArgs, "quantity as a number"),
    ([{"name": "oil", "quantity": 0}], InvalidArgs, "more than zero"),
    ([{"name": "oil", "quantity": -1}], InvalidArgs, "more than zero"),
]

GOOD_MATERIALS: list[tuple[object, list[dict[str, Any]]]] = [
    (None, []),
    ([], []),
    ([{"name": " oil ", "quantity": 2}], [{"name": "oil", "quantity": 2.0}]),
    (
        [OIL, {"name": "towel", "quantity": 0.5, "colour": "white"}],
        [{"name": "oil", "quantity": 1.0}, {"name": "towel", "quantity": 0.5}],
    ),
    ([OIL] * 50, [{"name": "oil", "quantity": 1.0}] * 50),
]


@pytest.mark.parametrize(("materials", "error", "words"), BAD_MATERIALS)
def test_complete_refuses_bad_materials(
    materials: object, error: type[DomainError], words: str
) -> None:
    w = world_at("payment_verified")
    before = w.state()
    with pytest.raises(error, match=words):
        w.do(T1, "appointment.complete", "a1", materials=materials)
    assert w.state() == before


@pytest.mark.parametrize(("materials", "kept"), GOOD_MATERIALS)
def test_complete_keeps_the_materials_tidied(materials: object, kept: list[dict[str, Any]]) -> None:
    w = world_at("payment_verified")
    args: dict[str, Any] = {} if materials is None else {"materials": materials}
    w.do(T1, "appointment.complete", "a1", **args)
    assert w.appt()["status"] == "completed"
    assert w.appt()["materials"] == kept


def _driver_rejected(status: str) -> World:
    """a1 rejected by its driver d1 while `status`; d3 is an inactive driver."""
    w = world_at(status)
    w.snap.put("staff", staff(Actor("d3", "driver"), "Gil Ong", active=False))
    w.do(D1, "appointment.reject", "a1", reason="Car in the shop")
    return w


# reassigning a driver's rejection: driver_id, error, words in the message
BAD_NEW_DRIVERS: list[tuple[dict[str, Any], type[DomainError], str]] = [
    ({}, InvalidArgs, "the new driver"),
    ({"driver_id": ""}, InvalidArgs, "the new driver"),
    ({"driver_id": 2}, InvalidArgs, "the new driver"),
    ({"therapist_id": "t2"}, InvalidArgs, "the new driver"),
    ({"driver_id": "d1"}, InvalidArgs, "already on this appointment"),
    ({"driver_id": "t2"}, NotFound, "no driver with id t2"),
    ({"driver_id": "d9"}, NotFound, "no driver with id d9"),
    ({"driver_id": "d3"}, InvalidArgs, "Gil Ong is not active"),
    ({"driver_id": "d2", "car": "blue"}, InvalidArgs, "Unknown field"),
]


@pytest.mark.parametrize(("args", "error", "words"), BAD_NEW_DRIVERS)
def test_reassigning_a_driver_refuses_bad_drivers(
    args: dict[str, Any], error: type[DomainError], words: str
) -> None:
    w = _driver_rejected("therapist_confirmed")
    before = w.state()
    with pytest.raises(error, match=words):
        w.do(OP, "appointment.review_rejection", "a1", decision="reassign", **args)
    assert w.state() == before


# where the driver rejected from -> where reassigning goes back to
@pytest.mark.parametrize(
    ("rejected_from", "back_to"),
    [("therapist_confirmed", "therapist_confirmed"), ("pending", "pending")],
)
def test_reassigning_a_driver_hands_the_trip_to_the_new_driver(
    rejected_from: str, back_to: str
) -> None:
    w = _driver_rejected(rejected_from)
    w.later(45)
    out = w.do(OP, "appointment.review_rejection", "a1", decision="reassign", driver_id="d2")
    appt = w.appt()
    assert (appt["status"], appt["driver_id"]) == (back_to, "d2")
    assert appt["therapist_ids"] == ["t1"]
    assert appt["rejection"]["decision"] == "reassign"
    if back_to == "pending":
        assert appt["response_deadline"] == "2026-11-21T07:15:00Z"
    told = {c.record["user_id"] for c in out.changes if c.entity == "notification" and c.record}
    assert told == {"t1", "d1", "d2"}  # the old driver hears it is off the trip
    if back_to == "pending":
        w.do(T1, "appointment.accept", "a1")
    w.do(D2, "appointment.confirm", "a1")
    assert w.appt()["status"] == "driver_confirmed"
    with pytest.raises(NotFound):
        w.do(D1, "appointment.start_journey", "a1")


def _waiting_for_pickup() -> World:
    w = world_at("pickup_requested")
    w.do(D2, "staff.set_duty", "d2", on_duty=True)
    return w


# assign_pickup_driver: args, error, words in the message
BAD_PICKUP_DRIVERS: list[tuple[dict[str, Any], type[DomainError], str]] = [
    ({}, InvalidArgs, "Please choose a driver"),
    ({"driver_id": None}, InvalidArgs, "Please choose a driver"),
    ({"driver_id": ""}, InvalidArgs, "Please choose a driver"),
    ({"driver_id": ["d2"]}, InvalidArgs, "Please choose a driver"),
    ({"driver_id": "t1"}, NotFound, "no driver with id t1"),
    ({"driver_id": "d9"}, NotFound, "no driver with id d9"),
    ({"driver_id": "d2", "urgency": "urgent"}, InvalidArgs, "Unknown field"),
]


@pytest.mark.parametrize(("args", "error", "words"), BAD_PICKUP_DRIVERS)
def test_assign_pickup_driver_refuses_bad_drivers(
    args: dict[str, Any], error: type[DomainError], words: str
) -> None:
    w = _waiting_for_pickup()
    before = w.state()
    with pytest.raises(error, match=words):
        w.do(OP, "appointment.assign_pickup_driver", "a1", **args)
    assert w.state() == before
    w.do(OP, "appointment.assign_pickup_driver", "a1", driver_id="d2")
    assert w.appt()["pickup_driver_id"] == "d2"


# dates at the edge of the calendar: the day either side must exist
EDGE_DAYS = ["0001-01-01", "1899-12-31", "3000-01-01", "9999-12-31"]


@pytest.mark.parametrize("day", EDGE_DAYS)
def test_dates_out_of_range_are_refused_in_words(day: str) -> None:
    w = World()
    before = w.state()
    with pytest.raises(InvalidArgs, match="between 1900 and 2999"):
        w.do(OP, "appointment.create", "new", **booking(date=day))
    with pytest.raises(InvalidArgs, match="between 1900 and 2999"):
        w.do(OP, "availability.create", "slot", user_id="t1", date=day,
             start_time="09:00", end_time="10:00", available=True)
    assert w.state() == before
    assert touched_dates(w.command("appointment.accept", "a1", date=day), None) == set()


@pytest.mark.parametrize("day", ["1900-01-01", "2999-12-31"])
def test_the_first_and_last_days_have_neighbours(day: str) -> None:
    assert len(touched_dates(World().command("appointment.accept", "a1", date=day), None)) == 3
