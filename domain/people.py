"""Commands about people and messages: clients, staff duty, notifications."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain import validate as v
from domain.commands import Outcome
from domain.context import Ctx, upsert
from domain.errors import Forbidden, InvalidArgs
from domain.records import Record, bumped
from domain.times import iso

CLIENT_FIELDS = ("first_name", "last_name", "phone", "address", "email", "notes")
_REQUIRED = {
    "first_name": "a first name",
    "last_name": "a last name",
    "phone": "a phone number",
    "address": "an address",
}


def _client_fields(args: Any, *, partial: bool) -> dict[str, Any]:
    v.only(args, CLIENT_FIELDS)
    out: dict[str, Any] = {}
    for key in CLIENT_FIELDS:
        if partial and key not in args:
            continue
        what = _REQUIRED.get(key, key)
        out[key] = v.text(args, key, what, required=key in _REQUIRED)
    email = out.get("email")
    if email and ("@" not in email or " " in email):
        raise InvalidArgs("That email address doesn't look right.")
    return out


def _operator(ctx: Ctx) -> None:
    if ctx.actor.role != "operator":
        raise Forbidden("Only the operator can manage clients.")


def client_create(ctx: Ctx) -> Outcome:
    _operator(ctx)
    cid = ctx.new_id("client")
    record: Record = {"id": cid, "version": 1, **_client_fields(ctx.cmd.args, partial=False)}
    return Outcome((upsert("client", record, None),))


def client_update(ctx: Ctx) -> Outcome:
    _operator(ctx)
    client = ctx.target("client")
    fields = _client_fields(ctx.cmd.args, partial=True)
    if not fields:
        raise InvalidArgs("Nothing to change.")
    return Outcome((upsert("client", bumped(client, **fields), client),))


def set_duty(ctx: Ctx) -> Outcome:
    member = ctx.target("staff")
    v.only(ctx.cmd.args, ("on_duty",))
    if ctx.actor.role != "operator" and member["id"] != ctx.actor.id:
        raise Forbidden("You can only change your own duty status.")
    on = v.flag(ctx.cmd.args, "on_duty", "you are on duty")
    fields: dict[str, Any] = {"on_duty": on}
    if on and not member.get("on_duty"):
        fields["last_available_at"] = iso(ctx.now)  # idle from now
    return Outcome((upsert("staff", bumped(member, **fields), member),))


def mark_read(ctx: Ctx) -> Outcome:
    note = ctx.target("notification")
    v.only(ctx.cmd.args, ())
    if note.get("read"):
        return Outcome(())
    return Outcome((upsert("notification", bumped(note, read=True), note),))


def mark_all_read(ctx: Ctx) -> Outcome:
    v.only(ctx.cmd.args, ())
    unread = sorted(
        (
            n
            for n in ctx.snap.all("notification")
            if n.get("user_id") == ctx.actor.id and not n.get("read")
        ),
        key=lambda n: n["id"],
    )
    return Outcome(tuple(upsert("notification", bumped(n, read=True), n) for n in unread))


HANDLERS: dict[str, Callable[[Ctx], Outcome]] = {
    "client.create": client_create,
    "client.update": client_update,
    "staff.set_duty": set_duty,
    "notification.mark_read": mark_read,
    "notification.mark_all_read": mark_all_read,
}
