"""The account's part of the staff and account commands: what the domain
can't do because it is secret or slow.

The domain decides whether `staff.create`, `staff.update`,
`staff.reset_password` or `account.change_password` may run and what the
staff record becomes (domain/staff.py). The rest is here, in two steps:

- `prepare`, before the command is queued (never in the writer: argon2 takes
  tens of milliseconds): draw a one-time password and hash it, or check the
  current password and hash the new one.
- `effects`, inside the command's transaction once the domain said yes: the
  `users` row's statements (a new account, a new username or role, a new
  hash and token generation) and what the answer adds.

A one-time password is in the answer only (`one_time_password`), never in a
record, an event, the bootstrap or the command log: the stored answer a retry
gets says `one_time_password_shown` instead, and the operator resets the
password if it was lost. Changing your own password moves the account to the
next token generation but keeps the session that asked (its token's digest,
`users.kept_token`), so that device carries on and every other one is
signed out.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from domain.commands import Command, Outcome
from domain.errors import Forbidden, InvalidArgs
from server.accounts import reset_statement
from server.auth import Passwords
from server.database import Database
from server.schema import users

COMMANDS = frozenset(
    {"staff.create", "staff.update", "staff.reset_password", "account.change_password"})
# what an answer may carry that the command log must not keep
SECRET_FIELDS = ("one_time_password",)
# no 0/O, 1/l/I: read aloud or copied from a screen
_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
ONE_TIME_LENGTH = 12


def one_time_password() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(ONE_TIME_LENGTH))


@dataclass(frozen=True)
class Prepared:
    """What `prepare` worked out before the command was queued."""

    password: str | None = None  # a one-time password, in plain (the answer only)
    hash: str | None = None  # its hash, or the new password's
    current_ok: bool = False  # account.change_password: the current one matched
    keep: str | None = None  # account.change_password: the asking session's token digest


@dataclass
class Effects:
    statements: list[sa.Executable] = field(default_factory=list)
    answer: dict[str, Any] = field(default_factory=dict)  # added to the answer
    accounts: list[str] = field(default_factory=list)  # whose standing changed


class Credentials:
    def __init__(self, db: Database, passwords: Passwords) -> None:
        self._db = db
        self._passwords = passwords

    async def prepare(self, actor_id: str, command: Command,
                      session_key: str | None) -> Prepared | None:
        if command.name in ("staff.create", "staff.reset_password"):
            password = one_time_password()
            return Prepared(password=password,
                            hash=await asyncio.to_thread(self._passwords.hash, password))
        if command.name != "account.change_password":
            return None
        args = command.args if isinstance(command.args, dict) else {}
        current, new = args.get("current_password"), args.get("new_password")
        if not isinstance(current, str) or not isinstance(new, str) or not new:
            return Prepared()  # the domain refuses it in words
        async with self._db.read() as conn:
            stored = (await conn.execute(
                sa.select(users.c.password_hash).where(users.c.id == actor_id))).scalar()
        ok = await asyncio.to_thread(self._passwords.verify, stored, current)
        new_hash = await asyncio.to_thread(self._passwords.hash, new) if ok else None
        return Prepared(hash=new_hash, current_ok=ok, keep=session_key)


def effects(command: Command, actor_id: str, outcome: Outcome, prepared: Prepared | None,
            stamp: str) -> Effects:
    """The `users` statements and the answer's additions for an applied
    staff or account command. Raises a DomainError (the command changes
    nothing) when the account's part refuses it."""
    out = Effects()
    name = command.name
    if name == "staff.create":
        record = outcome.record
        assert record is not None and prepared is not None and prepared.hash
        out.statements.append(users.insert().values(
            id=record["id"], username=record["username"], password_hash=prepared.hash,
            role=record["role"], created_at=stamp, token_generation=0,
            must_change_password=True))
        out.answer["one_time_password"] = prepared.password
    elif name == "staff.update":
        change = outcome.changes[0]
        before, after = change.previous or {}, change.record or {}
        values: dict[str, Any] = {}
        if after.get("username") != before.get("username"):
            values["username"] = after["username"]
        if after.get("role") != before.get("role"):
            # a token names its role: the person signs in again as the new one
            values["role"] = after["role"]
            values["token_generation"] = users.c.token_generation + 1
            values["kept_token"] = None
        if values:
            out.statements.append(sa.update(users).where(users.c.id == change.id)
                                  .values(**values))
        if values or after.get("active") != before.get("active"):
            out.accounts.append(change.id)
    elif name == "staff.reset_password":
        assert prepared is not None and prepared.hash and isinstance(command.target, str)
        out.statements.append(reset_statement(command.target, prepared.hash,
                                              must_change=True))
        out.answer["one_time_password"] = prepared.password
        out.accounts.append(command.target)
    elif name == "account.change_password":
        if prepared is None or not prepared.current_ok or not prepared.hash:
            raise InvalidArgs("Your current password isn't right. Please try again.",
                              code="wrong_password")
        if not prepared.keep:
            raise Forbidden("Please sign in again to change your password.")
        out.statements.append(reset_statement(actor_id, prepared.hash, must_change=False,
                                              keep=prepared.keep))
        out.answer["password_changed"] = True
        out.accounts.append(actor_id)
    return out


def stored(answer: dict[str, Any]) -> dict[str, Any]:
    """The answer as the command log keeps it: no secrets."""
    if not any(key in answer for key in SECRET_FIELDS):
        return answer
    kept = {k: v for k, v in answer.items() if k not in SECRET_FIELDS}
    kept["one_time_password_shown"] = True  # once, to the first answer
    return kept
