"""Notifications a command leaves for the people it concerns, as ordinary
changes, with ids derived from the command so client and server agree."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from domain.commands import Change, Command, Outcome, Snapshot
from domain.context import Ctx, upsert
from domain.records import Record
from domain.times import iso


def operators(snap: Snapshot) -> list[str]:
    return [
        s["id"] for s in snap.all("staff") if s.get("role") == "operator" and s.get("active", True)
    ]


def assigned(appt: Record) -> list[str]:
    people = list(appt.get("therapist_ids") or [])
    people += [p for p in (appt.get("driver_id"), appt.get("pickup_driver_id")) if p]
    return list(dict.fromkeys(people))


def describe(appt: Record) -> str:
    """ "Maria Santos, 2026-11-21 at 14:00"."""
    who = appt.get("client_name") or "a client"
    return f"{who}, {appt.get('date')} at {appt.get('start_time')}"


def notices(
    cmd: Command,
    now: datetime,
    users: Iterable[str],
    kind: str,
    text: str,
    appointment_id: str | None,
    *,
    start: int = 0,
    skip: str | None = None,
) -> list[Change]:
    """One unread notification per user (except `skip`, usually the actor)."""
    out: list[Change] = []
    for n, user in enumerate(dict.fromkeys(users), start=start):
        if user == skip:
            continue
        nid = cmd.derived_id(1000 + n)
        record: Record = {
            "id": nid,
            "version": 1,
            "user_id": user,
            "kind": kind,
            "text": text,
            "appointment_id": appointment_id,
            "read": False,
            "created_at": iso(now),
        }
        out.append(Change("notification", nid, "upsert", record, None))
    return out


def told(
    ctx: Ctx, before: Record | None, after: Record, users: Iterable[str], kind: str, text: str
) -> Outcome:
    """The appointment's change, and a notice of it for each of `users`."""
    return Outcome(
        (
            upsert("appointment", after, before),
            *notices(ctx.cmd, ctx.now, users, kind, text, after["id"]),
        )
    )
