"""A process whose in-memory state predates the event log's trim point (a
replica idle while another one wrote and trimmed) can't learn from the log
which records changed: it reloads everything before its next write, so it
never judges a command against a record only the trimmed events touched."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from domain.commands import Actor, Command
from server import repo
from server.runtime import Runtime
from server.schema import users
from server.settings import ServerSettings

SECRET = "state-trim-test-secret-0123456789abcdefgh"
DAY = "2033-04-04"


def settings(path: Path, seed: str | None = None) -> ServerSettings:
    """Jobs off: the test writes and trims by hand."""
    return ServerSettings(database_url=f"sqlite:///{path}", secret_key=SECRET, seed=seed,
                          auto_cancel_interval=0, pickup_interval=0, trim_interval=0)


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[tuple[Runtime, Runtime]]:
    """Two processes' runtimes on one database file (like two replicas)."""
    first = Runtime(settings(tmp_path / "t.db", seed="staff"))
    await first.start()
    second = Runtime(settings(tmp_path / "t.db"))
    await second.start()
    yield first, second
    await second.stop()
    await first.stop()


async def therapist(rt: Runtime) -> Actor:
    async with rt.db.read() as conn:
        row = (await conn.execute(sa.select(users).where(users.c.username == "therapist1"))
               ).one()
    return Actor(row.id, row.role)


def slot(client: str, seq: int, start: str, end: str) -> Command:
    return Command("availability.create", str(uuid.uuid4()),
                   {"date": DAY, "start_time": start, "end_time": end, "available": True},
                   None, client, seq)


async def trim_everything(rt: Runtime) -> int:
    async with rt.db.write() as tx:
        return await repo.trim_events(tx.conn, "9999-12-31T00:00:00Z")


async def test_a_state_older_than_the_trim_point_reloads(
    pair: tuple[Runtime, Runtime],
) -> None:
    first, second = pair
    t1 = await therapist(first)
    assert second.state.seq == first.state.seq
    # On the first process: a slot 09:00-11:00, then the log is trimmed past it,
    # then an unrelated write (so the second process has something to catch up on).
    made = await first.commands.execute(t1, slot("a", 1, "09:00", "11:00"))
    assert made[0] == 200
    booked = made[1]["record"]["id"]
    trimmed = await trim_everything(first)
    assert trimmed == first.state.seq > second.state.seq
    assert (await first.commands.execute(t1, slot("a", 2, "15:00", "16:00")))[0] == 200

    # The second process knows nothing of the first slot; the only event that
    # named it is gone. A clashing slot must still be refused there.
    clash = await second.commands.execute(t1, slot("b", 1, "10:00", "12:00"))
    assert (clash[0], clash[1].get("code")) == (409, "availability_overlap"), clash
    assert second.state.get("availability", booked) is not None
    assert second.state.seq == first.state.seq
    fresh = Runtime(settings(first.settings.sqlite_path))  # type: ignore[arg-type]
    async with fresh.db.read() as conn:
        await fresh.state.load(conn)
    await fresh.db.close()
    assert second.state.tables == fresh.state.tables


async def test_a_trim_that_left_no_events_still_reloads(
    pair: tuple[Runtime, Runtime],
) -> None:
    first, second = pair
    t1 = await therapist(first)
    made = await first.commands.execute(t1, slot("c", 1, "13:00", "14:00"))
    assert made[0] == 200
    await trim_everything(first)  # the log is empty; its head is past the second's state
    clash = await second.commands.execute(t1, slot("d", 1, "13:30", "14:30"))
    assert (clash[0], clash[1].get("code")) == (409, "availability_overlap"), clash
    assert second.state.get("availability", made[1]["record"]["id"]) is not None
