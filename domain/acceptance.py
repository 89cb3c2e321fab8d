"""Where a group booking stands while its therapists answer: who accepted,
who is still to answer, and the one line each person's card says about it.

A booking for several therapists stays pending until every one of them has
accepted (`lifecycle.TABLE["accept"]`), so "pending" alone hides progress:
the therapist who accepted must see that she did, and the operator how many
of the team have.
"""

from __future__ import annotations

from collections.abc import Callable

from domain.commands import Actor
from domain.records import Record
from domain.status import Status, status_text

NameOf = Callable[[str], str]  # a staff id -> the name people know them by


def accepted(appt: Record) -> list[str]:
    """The team members who accepted, in the team's order."""
    yes = set(appt.get("accepted_ids") or [])
    return [t for t in appt.get("therapist_ids") or [] if t in yes]


def still_to_answer(appt: Record) -> list[str]:
    """The team members who haven't accepted yet, in the team's order."""
    yes = set(appt.get("accepted_ids") or [])
    return [t for t in appt.get("therapist_ids") or [] if t not in yes]


def has_accepted(appt: Record, actor: Actor) -> bool:
    return actor.id in (appt.get("accepted_ids") or [])


def names(ids: list[str], name_of: NameOf) -> str:
    """'Ana', 'Ana and Bea', 'Ana, Bea and Cora'."""
    shown = [name_of(i) for i in ids]
    if len(shown) <= 1:
        return "".join(shown)
    return ", ".join(shown[:-1]) + " and " + shown[-1]


def status_line(appt: Record, viewer: Actor, name_of: NameOf) -> str:
    """What `viewer`'s card says of the booking's status: the status words,
    or, for a group booking some of whose team accepted, how far it got."""
    status = Status(appt["status"])
    team = list(appt.get("therapist_ids") or [])
    done = accepted(appt)
    if status != Status.PENDING or len(team) < 2 or not done:
        return status_text(status, viewer.role)
    missing = names(still_to_answer(appt), name_of)
    if viewer.role == "therapist" and viewer.id in done:
        return f"You accepted — waiting for {missing} to answer"
    progress = f"{len(done)} of {len(team)} therapists accepted"
    if viewer.role == "therapist":
        return f"New request — {progress}; accept or reject"
    return f"{progress} — waiting for {missing}"
