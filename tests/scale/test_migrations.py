"""`Database.migrate` on PostgreSQL: replicas starting together take turns,
and a migration that fails says why (its own error, not a follow-up one),
leaves nothing half-done and doesn't keep the migration lock."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from server.database import MIGRATION_LOCK, Database
from server.migrations import HEAD
from server.settings import ServerSettings
from tests.support.postgres import query


def lock_is_free(url: str) -> bool:
    """Whether another session can take the migration lock (and it lets go at once)."""
    rows = query(url, "SELECT pg_try_advisory_lock($1) AS got, "
                      "pg_advisory_unlock_all() IS NULL AS _", MIGRATION_LOCK)
    return bool(rows[0]["got"])


def tables(url: str) -> set[str]:
    return {r["tablename"] for r in query(
        url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}


async def test_a_failing_migration_reports_its_own_error_and_lets_go(
    postgres_database: Callable[..., str],
) -> None:
    url = postgres_database(migrated=False)
    # Something in the way: the first migration's CREATE TABLE records fails.
    query(url, "CREATE TABLE records (x int)")
    db = Database(ServerSettings(database_url=url))
    try:
        with pytest.raises(sa.exc.DBAPIError) as failed:
            await db.migrate()
        # The cause, not "current transaction is aborted" from the clean-up.
        assert "already exists" in str(failed.value), failed.value
        assert "aborted" not in str(failed.value)
        # Nothing half-done (DDL is transactional), and the lock is free while
        # this process lives on (its connection went back to the pool).
        assert tables(url) == {"records"}
        assert lock_is_free(url)
        # Out of the way: the same Database migrates.
        query(url, "DROP TABLE records")
        await db.migrate()
    finally:
        await db.close()
    assert query(url, "SELECT version_num FROM alembic_version") == [{"version_num": HEAD}]


async def test_replicas_starting_together_migrate_once(
    postgres_database: Callable[..., str],
) -> None:
    url = postgres_database(migrated=False)
    dbs = [Database(ServerSettings(database_url=url)) for _ in range(3)]
    try:
        await asyncio.gather(*(db.migrate() for db in dbs))
    finally:
        for db in dbs:
            await db.close()
    assert query(url, "SELECT version_num FROM alembic_version") == [{"version_num": HEAD}]
    assert {"records", "events", "log_head"} <= tables(url)
    assert lock_is_free(url)
