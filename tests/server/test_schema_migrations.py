"""SQLite runs in WAL mode; the Alembic migrations build exactly the schema of
server/schema.py; a database at the first revision upgrades to the newest."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext

from server.database import MIGRATIONS, Database
from server.migrations import HEAD
from server.schema import metadata
from server.settings import ServerSettings
from testkit.server import ServerProcess

SECRET = "migration-test-secret-0123456789abcdefghij"


def settings(path: Path) -> ServerSettings:
    return ServerSettings(database_url=f"sqlite:///{path}", secret_key=SECRET,
                          auto_cancel_interval=0, pickup_interval=0, trim_interval=0)


def migrate(path: Path) -> None:
    async def run() -> None:
        db = Database(settings(path))
        try:
            await db.migrate()
        finally:
            await db.close()

    asyncio.run(run())


def upgrade_to(path: Path, revision: str) -> None:
    """Alembic's own upgrade (as Database.migrate runs it) to `revision`."""
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as conn:
            cfg = Config()
            cfg.set_main_option("script_location", str(MIGRATIONS))
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    finally:
        engine.dispose()


def shape(path: Path) -> dict[str, Any]:
    """Tables, columns, keys and indexes as SQLAlchemy's inspector sees them."""
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        insp = sa.inspect(engine)
        out: dict[str, Any] = {}
        for table in sorted(set(insp.get_table_names()) - {"alembic_version"}):
            out[table] = {
                "columns": [(c["name"], str(c["type"]), c["nullable"], c.get("default"))
                            for c in insp.get_columns(table)],
                "primary_key": insp.get_pk_constraint(table)["constrained_columns"],
                "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]))
                                  for i in insp.get_indexes(table)),
                "unique": sorted(tuple(u["column_names"])
                                 for u in insp.get_unique_constraints(table)),
                "foreign_keys": insp.get_foreign_keys(table),
            }
        return out
    finally:
        engine.dispose()


def revision(path: Path) -> str:
    con = sqlite3.connect(path)
    try:
        return str(con.execute("SELECT version_num FROM alembic_version").fetchone()[0])
    finally:
        con.close()


async def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    db = Database(settings(tmp_path / "wal.db"))
    try:
        await db.migrate()
        async with db.read() as conn:
            assert (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
        async with db.write() as tx:
            assert (await tx.conn.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
    finally:
        await db.close()
    # WAL is a property of the file: any other reader sees it too.
    con = sqlite3.connect(tmp_path / "wal.db")
    try:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        con.close()


def test_the_migrations_make_the_schema_of_schema_py(tmp_path: Path) -> None:
    migrated, declared = tmp_path / "migrated.db", tmp_path / "declared.db"
    migrate(migrated)
    assert revision(migrated) == HEAD
    engine = sa.create_engine(f"sqlite:///{declared}")
    metadata.create_all(engine)
    engine.dispose()
    assert shape(migrated) == shape(declared)
    # …and Alembic's autogenerate finds nothing to add, drop or alter.
    engine = sa.create_engine(f"sqlite:///{migrated}")
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_a_database_at_the_first_revision_upgrades_to_the_newest(tmp_path: Path) -> None:
    db = tmp_path / "tandem.db"
    upgrade_to(db, "0001")
    assert revision(db) == "0001"
    assert "ix_events_entity_id" not in {i[0] for i in shape(db)["events"]["indexes"]}
    # The server starts on it (migrating it), seeds it and works.
    with ServerProcess(tmp_path, seed="staff", database_url=f"sqlite:///{db}") as srv:
        with srv.client("operator") as c:
            boot = c.get("/api/sync/bootstrap").json()
        assert len(boot["staff"]) == 6 and boot["cursor"] > 0
    assert revision(db) == HEAD
    fresh = tmp_path / "fresh.db"
    migrate(fresh)
    assert shape(db) == shape(fresh)
