"""The overdue sweep: a booking nobody accepted by its response deadline is
cancelled, by the server's job or the operator."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from domain.commands import Change, Outcome
from domain.context import Ctx, upsert
from domain.errors import Forbidden
from domain.lifecycle import TABLE, stamped
from domain.notify import assigned, describe, notices, operators
from domain.records import Record
from domain.status import Status
from domain.times import parse_instant

# An appointment waits for its answers until its response deadline; the
# overdue sweep reads every appointment in one of these, whatever its date.
AWAITING_ANSWERS = frozenset({Status.PENDING})


def overdue(appointments: Iterable[Record], now: datetime) -> list[Record]:
    """Pending appointments whose response deadline has passed at `now`."""
    return [
        a
        for a in appointments
        if a["status"] in AWAITING_ANSWERS
        and a.get("response_deadline")
        and parse_instant(a["response_deadline"]) <= now
    ]


def auto_cancel_overdue(ctx: Ctx) -> Outcome:
    """Idempotent: a second run finds nothing pending past its deadline."""
    if ctx.actor.role not in ("operator", "system"):
        raise Forbidden("Only the operator can cancel overdue appointments.")
    row = TABLE["auto_cancel"]
    changes: list[Change] = []
    late = sorted(overdue(ctx.snap.all("appointment"), ctx.now), key=lambda a: a["id"])
    for i, appt in enumerate(late):
        new = stamped(
            appt,
            row,
            ctx.actor,
            ctx.now,
            row.to,
            cancel_reason="Not accepted before the response deadline",
        )
        changes.append(upsert("appointment", new, appt))
        changes += notices(
            ctx.cmd,
            ctx.now,
            [*operators(ctx.snap), *assigned(appt)],
            "auto_cancelled",
            f"Auto-cancelled (not accepted in time): {describe(appt)}",
            appt["id"],
            start=i * 100,
        )
    return Outcome(tuple(changes))


HANDLERS: dict[str, Callable[[Ctx], Outcome]] = {
    "appointments.auto_cancel_overdue": auto_cancel_overdue,
}
