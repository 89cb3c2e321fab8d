"""The words a group booking's progress is told in, per viewer."""

from __future__ import annotations

import pytest

from domain.acceptance import names, status_line, still_to_answer
from domain.commands import Actor
from domain.records import Record

NAMES = {"t1": "Ana", "t2": "Bea", "t3": "Cora"}
ANA = Actor("t1", "therapist")
BEA = Actor("t2", "therapist")
OPERATOR = Actor("o1", "operator")
DRIVER = Actor("d1", "driver")


def appt(team: list[str], accepted: list[str], status: str = "pending") -> Record:
    return {"status": status, "therapist_ids": team, "accepted_ids": accepted}


@pytest.mark.parametrize(
    ("record", "viewer", "expected"),
    [
        (appt(["t1", "t2"], ["t1"]), ANA, "You accepted — waiting for Bea to answer"),
        (
            appt(["t1", "t2"], ["t1"]),
            BEA,
            "New request — 1 of 2 therapists accepted; accept or reject",
        ),
        (appt(["t1", "t2"], ["t1"]), OPERATOR, "1 of 2 therapists accepted — waiting for Bea"),
        (
            appt(["t1", "t2", "t3"], ["t2"]),
            DRIVER,
            "1 of 3 therapists accepted — waiting for Ana and Cora",
        ),
        # nobody accepted yet, one therapist, or no longer pending: the status words
        (appt(["t1", "t2"], []), ANA, "New request — accept or reject"),
        (appt(["t1"], []), OPERATOR, "Pending — waiting for the therapist to accept"),
        (
            appt(["t1", "t2"], ["t1", "t2"], "therapist_confirmed"),
            ANA,
            "Accepted — waiting for your driver",
        ),
    ],
)
def test_status_line(record: Record, viewer: Actor, expected: str) -> None:
    assert status_line(record, viewer, NAMES.__getitem__) == expected


def test_names_and_order() -> None:
    assert names([], NAMES.__getitem__) == ""
    assert names(["t2"], NAMES.__getitem__) == "Bea"
    assert names(["t3", "t1", "t2"], NAMES.__getitem__) == "Cora, Ana and Bea"
    # the team's order, whatever order they accepted in
    assert still_to_answer(appt(["t3", "t1", "t2"], ["t1"])) == ["t3", "t2"]
