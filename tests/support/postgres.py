"""A throwaway PostgreSQL cluster for the tests (Debian's packages, no service needed).

    cluster = PostgresCluster().start()     # initdb + pg_ctl in a temp dir, loopback port
    url = cluster.create_database()         # postgresql://postgres@127.0.0.1:PORT/tandem_N
    cluster.stop()                          # stop it and delete everything

The cluster runs as the `postgres` user when we are root (CI runs as root and
postgres refuses to): its files live in a temp dir owned by that user and the
programs start through `runuser -u postgres --`. Durability is off (fsync,
synchronous_commit): a test cluster that dies is thrown away anyway, and the
two shared cores are better spent on the tests.

Fixtures: `postgres_cluster` (session), `postgres_url` (a fresh database per
test), `postgres_database` (a factory: `postgres_database()` → a fresh URL).
Missing binaries skip locally with an install hint and fail under CI
(tests.support.requires).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.requires import free_port, require_binary

INSTALL_HINT = "install PostgreSQL (Debian/Ubuntu: apt-get install postgresql)"
SUPERUSER = "postgres"
TEMPLATE = "tandem_template"  # migrated, empty: fresh databases are copies of it

_names = itertools.count(1)


def run_async(coro: Any) -> Any:
    """Run a coroutine to completion from sync code, even inside a running
    event loop (async tests call sync helpers): on a thread of its own."""
    out: dict[str, Any] = {}

    def target() -> None:
        try:
            out["value"] = asyncio.run(coro)
        except BaseException as exc:  # re-raised in the caller
            out["error"] = exc

    t = threading.Thread(target=target)
    t.start()
    t.join()
    if "error" in out:
        raise out["error"]
    return out.get("value")


def query(url: str, sql: str, *args: Any) -> list[dict[str, Any]]:
    """Rows of one query against a PostgreSQL URL, as dicts (asyncpg, own connection)."""
    import asyncpg

    async def go() -> list[dict[str, Any]]:
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            return [dict(r) for r in await conn.fetch(sql, *args)]
        finally:
            await conn.close()

    rows: list[dict[str, Any]] = run_async(go())
    return rows


class PostgresCluster:
    def __init__(self) -> None:
        self.initdb = require_binary("initdb", INSTALL_HINT)
        self.pg_ctl = require_binary("pg_ctl", INSTALL_HINT)
        require_binary("postgres", INSTALL_HINT)
        self.as_postgres = os.geteuid() == 0
        self.port = 0
        self.dir = Path()
        self._template_ready = False

    @property
    def data(self) -> Path:
        return self.dir / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _run(self, *cmd: str) -> None:
        argv = (["runuser", "-u", "postgres", "--", *cmd] if self.as_postgres else list(cmd))
        done = subprocess.run(argv, cwd=self.dir, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            log = (self.dir / "postgres.log")
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            raise RuntimeError(f"{' '.join(cmd[:2])} failed ({done.returncode}):\n"
                               f"{done.stdout}\n{done.stderr}\n{tail}")

    def start(self) -> PostgresCluster:
        # Not under pytest's 0700 base temp: the postgres user must reach it.
        self.dir = Path(tempfile.mkdtemp(prefix="tandem-pg-"))
        if self.as_postgres:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self._run(self.initdb, "-D", str(self.data), "-U", SUPERUSER, "--auth=trust",
                  "-E", "UTF8", "--no-locale", "--no-sync")
        self.port = free_port()
        options = " ".join([
            f"-p {self.port}", "-c listen_addresses=127.0.0.1",
            f"-c unix_socket_directories={self.dir}", "-c fsync=off",
            "-c synchronous_commit=off", "-c full_page_writes=off",
            "-c max_connections=200", "-c shared_buffers=32MB",
        ])
        self._run(self.pg_ctl, "-D", str(self.data), "-l", str(self.dir / "postgres.log"),
                  "-o", options, "-w", "-t", "60", "start")
        return self

    def stop(self) -> None:
        if self.port and self.data.exists():
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                self._run(self.pg_ctl, "-D", str(self.data), "-m", "immediate", "-w", "stop")
        if self.dir != Path() and self.dir.exists():
            shutil.rmtree(self.dir, ignore_errors=True)
        self.port = 0

    def execute(self, sql: str, database: str = "postgres") -> None:
        query(self.url(database), sql)

    def _template(self) -> None:
        """The migrated empty schema, once: every fresh database copies it."""
        if self._template_ready:
            return
        from server.database import Database
        from server.settings import ServerSettings

        self.execute(f'CREATE DATABASE "{TEMPLATE}"')

        async def migrate() -> None:
            db = Database(ServerSettings(database_url=self.url(TEMPLATE)))
            try:
                await db.migrate()
            finally:
                await db.close()

        run_async(migrate())
        self._template_ready = True

    def create_database(self, name: str | None = None, *, migrated: bool = True,
                        template: str | None = None) -> str:
        """A fresh database (a copy of `template`, of the migrated template, or
        empty); its URL."""
        name = name or f"tandem_{os.getpid()}_{next(_names)}"
        if template is not None:
            self.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        elif migrated:
            self._template()
            self.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"')
        else:
            self.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster().start()
    yield cluster
    cluster.stop()


@pytest.fixture
def postgres_database(postgres_cluster: PostgresCluster) -> Iterator[Callable[..., str]]:
    """Make fresh databases (dropped after the test): `postgres_database()` → URL."""
    made: list[str] = []

    def make(*, migrated: bool = True) -> str:
        url = postgres_cluster.create_database(migrated=migrated)
        made.append(url)
        return url

    yield make
    for url in made:
        postgres_cluster.drop_database(url)


@pytest.fixture
def postgres_url(postgres_database: Callable[..., str]) -> str:
    """A fresh, migrated, empty database for this test."""
    return postgres_database()
