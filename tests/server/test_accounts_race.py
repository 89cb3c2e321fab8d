"""The accounts' standing on one server, in-process on a real SQLite file: a
read of the standings that began before a command changed someone's (the
periodic refresh, another request's check) never brings the old one back."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.commands import Command
from server.auth import AuthError, Session
from server.database import Database
from server.runtime import Runtime
from server.schema import users
from tests.server.in_process import actor


class HeldRead:
    """The runtime's database, whose next read takes its snapshot and then
    waits until let go: a slow read, finishing late with what was true when
    it began. The reads after it go at their own pace."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.held = asyncio.Event()
        self.let_go = asyncio.Event()
        self._next = True

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        this, self._next = self._next, False
        async with self.db.read() as conn:
            if this:
                await conn.execute(sa.text("SELECT 1 FROM users"))  # the snapshot
                self.held.set()
                await self.let_go.wait()
            yield conn

    def __getattr__(self, name: str) -> Any:
        return getattr(self.db, name)


async def test_a_refresh_read_before_a_deactivation_doesnt_let_them_back_in(
        rt: Runtime) -> None:
    operator, t1 = await actor(rt, "operator"), await actor(rt, "therapist1")
    async with rt.db.read() as conn:
        generation = (await conn.execute(
            sa.select(users.c.token_generation).where(users.c.id == t1.id))).scalar_one()
    session = Session(t1, generation=generation, expires=4e9)
    await rt.accounts.check(session)  # signed in, active

    reads = HeldRead(rt.db)
    rt.accounts._db = reads  # type: ignore[assignment]
    refresh = asyncio.create_task(rt.accounts.refresh())
    await reads.held.wait()  # its snapshot: therapist1 active
    status, body = await rt.commands.execute(
        operator, Command("staff.update", t1.id, {"active": False}, None, "c", 1))
    assert status == 200, body
    await asyncio.sleep(0.1)  # the command's own recheck reads meanwhile
    reads.let_go.set()
    await refresh  # ends after the deactivation, with what it read before

    with pytest.raises(AuthError) as refused:
        await rt.accounts.check(session)
    assert refused.value.code == "account_inactive"


async def test_a_sweep_read_before_a_change_doesnt_close_the_changed_persons_socket(
        rt: Runtime) -> None:
    """The periodic sweep read everyone before a command changed someone's
    standing (their username here: still signed in). Missing from what it
    keeps, they are not gone: their open screen stays connected."""
    operator, t1 = await actor(rt, "operator"), await actor(rt, "therapist1")
    async with rt.db.read() as conn:
        generation = (await conn.execute(
            sa.select(users.c.token_generation).where(users.c.id == t1.id))).scalar_one()
    session = Session(t1, generation=generation, expires=4e9)
    await rt.accounts.check(session)
    closed: list[AuthError] = []
    rt.accounts.watch(session, closed.append)  # her open screen

    reads = HeldRead(rt.db)
    rt.accounts._db = reads  # type: ignore[assignment]
    sweep = asyncio.create_task(rt.accounts.sweep())
    await reads.held.wait()
    status, body = await rt.commands.execute(
        operator, Command("staff.update", t1.id, {"username": "therapist.one"}, None, "c", 1))
    assert status == 200, body
    await asyncio.sleep(0.1)  # the command's own recheck: she may stay
    reads.let_go.set()
    await sweep

    assert closed == []
    await rt.accounts.check(session)  # and her requests still go through
