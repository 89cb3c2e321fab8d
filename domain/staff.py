"""The people of the business and their accounts: taking someone on,
changing their details, letting them go, and passwords.

The staff record is everyone's to see (the booking form lists therapists
and drivers); nothing secret lives in it. What a person signs in with (the
password's hash, the one-time password, the token generation) is the
server's alone: these handlers only decide whether a command may run and
what the record becomes, and the server does the account's part in the same
transaction (server/credentials.py). So the form and the server check
fields with the same functions (`staff_field`, `password_problem`).

A deactivated person keeps their record (old bookings name them); their
bookings still to come are flagged for the operator (`needs_new_person`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from domain import validate as v
from domain.commands import Outcome, Snapshot
from domain.context import Ctx, upsert
from domain.errors import Conflict, Forbidden, InvalidArgs
from domain.records import Record, bumped, staff_name
from domain.status import ROLES, TERMINAL

ROLE_FIELDS: dict[str, tuple[str, ...]] = {
    "operator": (),
    "therapist": ("specialization", "pressure_preference", "license"),
    "driver": ("plate",),
}
OPTIONAL = ("specialization", "pressure_preference", "license", "plate")
STAFF_FIELDS = ("username", "role", "name", "phone", *OPTIONAL, "active")
# hand out or take a password: sent straight to the server, never queued on disk
ONLINE_ONLY = frozenset({"staff.create", "staff.reset_password", "account.change_password"})
MIN_PASSWORD = 8
MAX_PASSWORD = 128  # argon2 hashes any length; a bound keeps a request cheap
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,31}$")

WORDS = {
    "username": "a username",
    "role": "a role",
    "name": "the person's name",
    "phone": "a phone number",
    "specialization": "the specialization",
    "pressure_preference": "the pressure preference",
    "license": "the license number",
    "plate": "the plate number",
}


class UsernameTaken(Conflict):
    code = "username_taken"


def staff_field(args: Mapping[str, Any], key: str) -> Any:
    """One field of a staff record, checked (the form shows each under its field)."""
    if key == "username":
        name = v.required_text(args, "username", WORDS["username"])
        if not _USERNAME.match(name):
            raise InvalidArgs(
                "A username is 3 to 32 letters, digits, dots, dashes or underscores, "
                "starting with a letter or digit."
            )
        return name
    if key == "role":
        return v.choice(args, "role", ROLES, "a role")
    if key in ("name", "phone"):
        return v.required_text(args, key, WORDS[key])
    if key == "active":
        return v.flag(args, "active", "the person can sign in")
    return v.text(args, key, WORDS[key], required=False)


def password_problem(password: object, username: str | None = None) -> str | None:
    """Why `password` can't be a new password (None: it can)."""
    if not isinstance(password, str) or not password:
        return "Please give a new password."
    if len(password) < MIN_PASSWORD:
        return f"A password needs at least {MIN_PASSWORD} characters."
    if len(password) > MAX_PASSWORD:
        return f"A password can have at most {MAX_PASSWORD} characters."
    if not password.strip():
        return "A password can't be only spaces."
    if username and password.lower() == username.lower():
        return "Your password can't be your username."
    return None


def _fields(args: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    v.only(args, STAFF_FIELDS)
    required = ("username", "role", "name", "phone")
    return {
        key: staff_field(args, key)
        for key in STAFF_FIELDS
        if key in args or (not partial and key in required)
    }


def find_username(snap: Snapshot, username: str, own_id: str | None = None) -> Record | None:
    """The staff record that already has `username` (any case), if any."""
    wanted = username.lower()
    for other in snap.all("staff"):
        if other["id"] != own_id and str(other.get("username", "")).lower() == wanted:
            return other
    return None


def _unique(snap: Snapshot, username: str, own_id: str) -> None:
    other = find_username(snap, username, own_id)
    if other is not None:
        raise UsernameTaken(
            f"The username {username} is taken (by {staff_name(other)}): choose another."
        )


def _operator(ctx: Ctx, what: str) -> None:
    if ctx.actor.role != "operator":
        raise Forbidden(f"Only the operator can {what}.")


def _tidy(record: Record) -> Record:
    """Fields of another role are cleared (a driver has no license)."""
    keep = ROLE_FIELDS.get(str(record.get("role")), ())
    return {**record, **{k: None for k in OPTIONAL if k not in keep}}


def staff_create(ctx: Ctx) -> Outcome:
    _operator(ctx, "add staff")
    sid = ctx.new_id("staff")
    f = _fields(ctx.cmd.args, partial=False)
    _unique(ctx.snap, f["username"], sid)
    record: Record = {
        "id": sid,
        "version": 1,
        **{k: None for k in OPTIONAL},
        "active": True,
        "on_duty": False,
        "last_available_at": None,
        **f,
    }
    return Outcome((upsert("staff", _tidy(record), None),))


def staff_update(ctx: Ctx) -> Outcome:
    _operator(ctx, "change staff details")
    member = ctx.target("staff")
    f = _fields(ctx.cmd.args, partial=True)
    if not f:
        raise InvalidArgs("Nothing to change.")
    if "username" in f:
        _unique(ctx.snap, f["username"], member["id"])
    if member["id"] == ctx.actor.id:
        if f.get("active") is False:
            raise Forbidden("You can't deactivate your own account: ask another operator.")
        if f.get("role", "operator") != "operator":
            raise Forbidden("You can't change your own role: ask another operator.")
    new = bumped(member, **f)
    if f.get("active") is False:
        new["on_duty"] = False  # nobody sends work to someone who left
    return Outcome((upsert("staff", _tidy(new), member),))


def staff_reset_password(ctx: Ctx) -> Outcome:
    """The server hands out the new one-time password; no record changes."""
    _operator(ctx, "reset passwords")
    ctx.target("staff")
    v.only(ctx.cmd.args, ())
    return Outcome(())


def change_password(ctx: Ctx) -> Outcome:
    """Your own password; the server checks the current one."""
    if ctx.cmd.target != ctx.actor.id:
        raise Forbidden("You can only change your own password.")
    me = ctx.target("staff")
    v.only(ctx.cmd.args, ("current_password", "new_password"))
    current = ctx.cmd.args.get("current_password")
    if not isinstance(current, str) or not current:
        raise InvalidArgs("Please give your current password.")
    new = ctx.cmd.args.get("new_password")
    problem = password_problem(new, str(me.get("username") or ""))
    if problem:
        raise InvalidArgs(problem)
    if new == current:
        raise InvalidArgs("The new password must differ from the current one.")
    return Outcome(())


def is_inactive(record: Record | None) -> bool:
    return bool(record) and (record or {}).get("active", True) is False


def needs_new_person(appointment: Record, staff: Callable[[str], Record | None]) -> list[str]:
    """The names of the deactivated people a booking still to be done is
    assigned to: the operator must choose someone else."""
    if appointment.get("status") in TERMINAL:
        return []
    ids: Iterable[Any] = (
        *(appointment.get("therapist_ids") or ()),
        appointment.get("driver_id"),
        appointment.get("pickup_driver_id"),
    )
    out: list[str] = []
    for pid in dict.fromkeys(i for i in ids if i):
        member = staff(str(pid))
        if is_inactive(member):
            out.append(staff_name(member))
    return out


HANDLERS: dict[str, Callable[[Ctx], Outcome]] = {
    "staff.create": staff_create,
    "staff.update": staff_update,
    "staff.reset_password": staff_reset_password,
    "account.change_password": change_password,
}
