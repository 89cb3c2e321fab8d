"""Who may stay signed in: each account's standing, checked on every request
and every open socket.

An account's standing is its staff record's `active` flag and the users
row's `token_generation`. A token is honoured while its account is active
and the token is of the account's current generation: deactivating someone
(the staff record set inactive) or resetting their password (`reset_password`:
the next generation) refuses every token they hold, within
`account_check_interval` seconds — the standing is read again from the
database that often, so it holds across replicas and whoever changes it
(a command, a script, another replica). Open sockets of refused sessions are
told to close (`watch`), with the same 4401 and a reason code.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server import repo
from server.auth import AuthError, Passwords, Session
from server.database import Database
from server.schema import users

log = logging.getLogger("tandem.accounts")

def inactive() -> AuthError:
    return AuthError("Your account has been deactivated. Please ask the office.",
                     "account_inactive")


def revoked() -> AuthError:
    return AuthError("Your password was changed. Please sign in again.", "session_revoked")


def gone() -> AuthError:
    return AuthError("Your account no longer exists.", "invalid_token")


@dataclass(frozen=True)
class Standing:
    active: bool
    generation: int
    # the token (server.auth.token_key) that changed the password: it stays
    # signed in although its generation is an older one
    kept: str | None = None
    # signed in with a one-time password: only account.change_password may run
    must_change: bool = False


def refusal(standing: Standing | None, session: Session) -> AuthError | None:
    """Why `session` may not go on (None: it may)."""
    if standing is None:
        return gone()
    if not standing.active:
        return inactive()
    if session.generation != standing.generation and not (
            standing.kept and session.key == standing.kept):
        return revoked()
    return None


async def read_standings(conn: AsyncConnection,
                         ids: Iterable[str] | None = None) -> tuple[dict[str, Standing],
                                                                  list[str]]:
    """The standing of every account (or of `ids`), and every stored password hash."""
    query = sa.select(users.c.id, users.c.token_generation, users.c.password_hash,
                      users.c.kept_token, users.c.must_change_password)
    wanted = None if ids is None else list(ids)
    if wanted is not None:
        query = query.where(users.c.id.in_(wanted))
    rows = (await conn.execute(query)).all()
    staff = {r["id"]: r for r in (await repo.select(conn, "staff") if wanted is None
                                  else await repo.many(conn, "staff", wanted))}
    standings = {
        row.id: Standing(bool(staff.get(row.id, {}).get("active", True)),
                         int(row.token_generation), row.kept_token,
                         bool(row.must_change_password))
        for row in rows
    }
    return standings, [row.password_hash for row in rows]


def reset_statement(user_id: str, password_hash: str, *, must_change: bool,
                    keep: str | None = None) -> sa.Update:
    """A new password hash for `user_id`, and the next token generation:
    every token they hold is refused but `keep`'s (server.auth.token_key)."""
    return (sa.update(users).where(users.c.id == user_id)
            .values(password_hash=password_hash, must_change_password=must_change,
                    kept_token=keep, token_generation=users.c.token_generation + 1))


async def reset_password(db: Database, user_id: str, password_hash: str) -> bool:
    """Give `user_id` a new password hash and refuse every token they hold
    (the next token generation). False: no such account."""
    async with db.write() as tx:
        done = await tx.conn.execute(reset_statement(user_id, password_hash,
                                                     must_change=False))
    return bool(done.rowcount)


async def rehash(db: Database, user_id: str, old_hash: str, new_hash: str) -> None:
    """Replace a hash made with other parameters than today's (after a
    successful sign-in), unless it changed meanwhile. Tokens stay valid:
    the password is the same."""
    async with db.write() as tx:
        await tx.conn.execute(
            sa.update(users).where(users.c.id == user_id, users.c.password_hash == old_hash)
            .values(password_hash=new_hash))


Closer = Callable[[AuthError], None]


class Accounts:
    def __init__(self, db: Database, passwords: Passwords, interval: float) -> None:
        self._db = db
        self._passwords = passwords
        self._interval = interval
        self._standing: dict[str, Standing] = {}
        self._sockets: dict[int, tuple[Session, Closer]] = {}
        self._task: asyncio.Task[None] | None = None
        self._rechecks: set[asyncio.Task[None]] = set()
        # A read that began before a command changed someone's standing may
        # end after it: `_forgotten` (id -> `_ticks` then) tells whose answer
        # is too old to keep (`_keep`).
        self._ticks = 0
        self._forgotten: dict[str, int] = {}

    async def sweep(self) -> None:
        """Read everyone's standing and close the sockets it now refuses
        (the periodic check)."""
        self._close_refused(await self.refresh())

    async def refresh(self) -> int:
        """Read everyone's standing; returns the tick the read began at."""
        since = self._ticks
        async with self._db.read() as conn:
            found, hashes = await read_standings(conn)
        self._standing = {}
        self._keep(found, since)
        self._passwords.in_use(hashes)
        return since

    def _fresh(self, user_id: str, since: int) -> bool:
        """Whether a read from `since` on still speaks for `user_id` (their
        standing was not forgotten after it began)."""
        return self._forgotten.get(user_id, -1) <= since

    def _keep(self, found: dict[str, Standing], since: int) -> None:
        """Take the standings read from `since` on, but of those forgotten
        meanwhile (the next `check` reads theirs again)."""
        for user_id, standing in found.items():
            if self._fresh(user_id, since):
                self._standing[user_id] = standing

    async def check(self, session: Session) -> None:
        """Raise the AuthError that refuses `session`, if any."""
        standing = self._standing.get(session.actor.id)
        if standing is None or refusal(standing, session) is not None:
            # Unknown here yet (a new account), or refused: make sure with
            # the database's word now, not the last refresh's.
            since = self._ticks
            async with self._db.read() as conn:
                found, _ = await read_standings(conn, [session.actor.id])
            standing = found.get(session.actor.id)
            self._keep(found, since)
        error = refusal(standing, session)
        if error is not None:
            raise error

    async def must_change(self, user_id: str) -> bool:
        """Whether `user_id` still has to replace a one-time password. Only a
        yes is read again from the database (it may have just changed)."""
        standing = self._standing.get(user_id)
        if standing is None or not standing.must_change:
            return False
        since = self._ticks
        async with self._db.read() as conn:
            found, _ = await read_standings(conn, [user_id])
        standing = found.get(user_id)
        self._keep(found, since)
        return standing is not None and standing.must_change

    async def recheck(self, ids: Iterable[str]) -> None:
        """Read these accounts' standing now (a staff or account command just
        changed it on this server) and close their refused sockets at once,
        rather than at the next periodic check."""
        since = self._ticks
        async with self._db.read() as conn:
            found, _ = await read_standings(conn, list(ids))
        self._keep(found, since)
        self._close_refused(since, set(found))

    def recheck_soon(self, ids: Iterable[str]) -> None:
        """`recheck`, with the old standing forgotten at once: a request that
        comes before the recheck has read the database (the very next one,
        after the command's answer) reads it itself (`check`)."""
        ids = list(ids)
        self._ticks += 1
        for user_id in ids:
            self._standing.pop(user_id, None)
            self._forgotten[user_id] = self._ticks
        task = asyncio.get_running_loop().create_task(self.recheck(ids))
        self._rechecks.add(task)
        task.add_done_callback(self._rechecks.discard)

    def _close_refused(self, since: int, only: set[str] | None = None) -> None:
        """Close the sockets the read from `since` refuses. Not those whose
        standing was forgotten meanwhile: missing here, they are not gone,
        and the recheck that forgot them reads and closes for itself."""
        for key, (session, close) in list(self._sockets.items()):
            user_id = session.actor.id
            if (only is not None and user_id not in only) or not self._fresh(user_id, since):
                continue
            error = refusal(self._standing.get(user_id), session)
            if error is not None:
                self._sockets.pop(key, None)
                close(error)

    def watch(self, session: Session, close: Closer) -> Callable[[], None]:
        """Call `close` (once) when `session` is refused; returns the unwatch."""
        key = id(close)
        self._sockets[key] = (session, close)
        return lambda: self._sockets.pop(key, None) and None

    async def start(self) -> None:
        await self.refresh()
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        for task in list(self._rechecks):
            task.cancel()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.sweep()
            except Exception:  # noqa: BLE001 - a database hiccup: try again next time
                log.warning("could not read the accounts' standing", exc_info=True)
