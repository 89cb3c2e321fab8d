"""Engines, migrations and the two kinds of transaction the server uses.

`write()` is THE serialized writer: one at a time per process (an asyncio
lock), and across processes by the database itself: SQLite takes its write
lock up front (BEGIN IMMEDIATE), PostgreSQL locks the single `log_head` row
(SELECT … FOR UPDATE) before reading anything. Because every writer holds
that lock from before it reads until it commits, sequence numbers are handed
out in commit order: a reader that saw seq N never later finds a smaller one.

On PostgreSQL every write also sends `pg_notify('tandem_log', <head>)` before
its commit, so other replicas hear about it exactly when it becomes visible
(server.replication).

The transaction's reads and writes for a batch of commands go through
`WriteTx.prepare` / `WriteTx.save`: SQLite does each in one hand-off to its
driver's thread, PostgreSQL reuses the head it locked. Nothing else in the
command path knows which database it runs on.

`read()` is a consistent read-only snapshot (SQLite: a deferred transaction
in WAL mode; PostgreSQL: REPEATABLE READ) for bootstrap and event reads.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command as alembic_command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from server import repo
from server.events import Event
from server.migrations import HEAD
from server.schema import log_head
from server.settings import ServerSettings, async_url

MIGRATIONS = Path(__file__).with_name("migrations")
MIGRATION_LOCK = 7_270_001  # pg_advisory_xact_lock key for schema migrations
REPLICATION_CHANNEL = "tandem_log"  # server.replication listens here
_NOTIFY = sa.text(
    f"SELECT pg_notify('{REPLICATION_CHANNEL}', seq::text) FROM log_head WHERE id = 1"
)


@dataclass
class WriteTx:
    conn: AsyncConnection
    sqlite: bool
    locked_head: int | None = None  # PostgreSQL: the head read under FOR UPDATE
    after_commit: list[Callable[[], None]] = field(default_factory=list)

    async def prepare(self, keys: Sequence[tuple[str, int]]) -> tuple[int, repo.Prior]:
        """The log's head and the stored answers for these (client_id, seq)."""
        if self.sqlite:
            head, _, prior = await repo.sqlite_prepare(self.conn, keys)
            return head, prior
        assert self.locked_head is not None
        return self.locked_head, await repo.logged_responses(self.conn, keys)

    async def save(self, writes: repo.Writes, events: Sequence[Event],
                   logged: Sequence[dict[str, Any]]) -> None:
        """Write the records, append the events (moving the head) and store
        the answers."""
        if self.sqlite:
            await repo.sqlite_write(self.conn, writes, events, logged)
            return
        await repo.write_final(self.conn, writes)
        await repo.append_events(self.conn, events)
        await repo.log_responses(self.conn, logged)


class Database:
    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self.is_sqlite = settings.is_sqlite
        url = async_url(settings.url)
        if self.is_sqlite:
            # One writer connection (writes are serialized anyway); readers
            # get their own pool so a bootstrap never waits for a write.
            self.writer = create_async_engine(url, pool_size=1, max_overflow=0)
            self.reader = create_async_engine(url, pool_size=4, max_overflow=4)
            _sqlite_hooks(self.writer, begin="BEGIN IMMEDIATE")
            _sqlite_hooks(self.reader, begin="BEGIN")
        else:
            self.writer = create_async_engine(url, pool_size=4, max_overflow=4)
            self.reader = create_async_engine(
                url, pool_size=8, max_overflow=8, isolation_level="REPEATABLE READ"
            )
        self._lock = asyncio.Lock()
        # PostgreSQL: awaited under the head lock with the head it found, before
        # the transaction's own work. Replication uses it to publish what other
        # replicas committed first, so this one's events follow them in the hub.
        self.on_locked: Callable[[int], Awaitable[None]] | None = None

    async def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision, in one transaction.

        Replicas starting together take turns on PostgreSQL: a transaction-
        scoped advisory lock, taken first and let go by the commit — or by
        the rollback when the upgrade fails, so nothing runs on an aborted
        transaction and the upgrade's own error is what surfaces. (DDL is
        transactional there: a failed upgrade leaves nothing half-done.)"""
        async with self.writer.connect() as conn:
            if not self.is_sqlite:
                await conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"),
                                   {"k": MIGRATION_LOCK})
            # Read under the lock: a replica that waited sees the other's upgrade.
            if await _revision(conn) != HEAD:
                await conn.run_sync(_upgrade)
            await conn.commit()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[WriteTx]:
        """The serialized write transaction (see the module docstring).

        `tx.after_commit` callbacks run after the commit but still under the
        writer lock, so whatever they publish is published in commit order."""
        async with self._lock:
            async with self.writer.begin() as conn:
                tx = WriteTx(conn, self.is_sqlite)
                if not self.is_sqlite:
                    locked = (await conn.execute(
                        sa.select(log_head.c.seq).where(log_head.c.id == 1).with_for_update()
                    )).scalar_one()
                    tx.locked_head = int(locked)
                    if self.on_locked is not None:
                        await self.on_locked(int(locked))
                yield tx
                if not self.is_sqlite:
                    # Tell the other replicas, on commit (NOTIFY is transactional;
                    # server.replication). Still under the head lock: in order.
                    await conn.execute(_NOTIFY)
            for callback in tx.after_commit:
                callback()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self.reader.begin() as conn:
            yield conn

    async def close(self) -> None:
        await self.writer.dispose()
        await self.reader.dispose()


async def _revision(conn: AsyncConnection) -> str | None:
    """The database's Alembic revision (None for a new database)."""
    try:
        async with conn.begin_nested():
            return (await conn.execute(sa.text("SELECT version_num FROM alembic_version"))
                    ).scalar()
    except sa.exc.DBAPIError:
        return None


def _upgrade(connection: Any) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    alembic_command.upgrade(cfg, "head")


def _sqlite_hooks(engine: AsyncEngine, *, begin: str) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        # Let us emit BEGIN ourselves (pysqlite's implicit BEGIN is deferred).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL survives a killed process (not a power cut) and is fast.
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)
