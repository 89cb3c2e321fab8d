"""The server suites run the real server (testkit.server) on loopback,
on SQLite and — for the modules in POSTGRES_MODULES — on PostgreSQL too.

The server fixtures (`demo_server`, `staff_server`, `empty_server`,
`server_factory`) depend on a module-scoped `backend`, parametrized here: a
test in one of those modules runs twice, `[sqlite]` and `[postgresql]`; the
PostgreSQL runs get a fresh database per server from the session's throwaway
cluster (tests.support.postgres; skipped locally without PostgreSQL, failed
under CI). The rest of the suite (bad input — whose database-error tests
plant SQLite triggers —, app composition, the websocket link, the in-process
state tests) exercises code that doesn't depend on the database, or only
SQLite, and stays SQLite-only to keep CI time modest.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from server.runtime import Runtime
from testkit.server import ServerProcess, server_maker
from tests.server.helpers import Api
from tests.server.in_process import settings
from tests.support.postgres import PostgresCluster, postgres_cluster

__all__ = ["backend", "demo_server", "empty_server", "postgres_cluster", "rt",
           "server_factory", "staff_server"]

# The files whose behaviour depends on the database: the command path (one
# command or a batch), the event log and its streams, idempotency, visibility,
# jobs, the timeline, a restart on the same database (test_server_cli's only
# server_factory test; its other tests don't take a `backend`).
POSTGRES_MODULES = frozenset({
    "test_api_lifecycle.py", "test_api_visibility.py", "test_api_idempotency.py",
    "test_api_stream.py", "test_api_jobs.py", "test_timeline.py",
    "test_batch.py", "test_batch_single_route.py", "test_server_cli.py",
    "test_sessions.py", "test_api_stock.py", "test_api_staff.py",
    "test_api_attendance.py",
    "test_api_receipts.py", "test_api_reports.py",
})


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" not in metafunc.fixturenames:
        return
    both = Path(str(metafunc.definition.fspath)).name in POSTGRES_MODULES
    metafunc.parametrize("backend", ["sqlite", "postgresql"] if both else ["sqlite"],
                         indirect=True, scope="module")


@pytest.fixture(scope="module")
def backend(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "sqlite"))


_seeded: dict[tuple[int, str], str] = {}  # (cluster port, seed) → template database


def _database_url(request: pytest.FixtureRequest, backend: str,
                  seed: str | None = None) -> str | None:
    """None: ServerProcess's own SQLite file; else a fresh PostgreSQL database
    (with `seed`: a copy of a database seeded once per session — the demo seed
    runs hundreds of commands, too slow to repeat for every module)."""
    if backend != "postgresql":
        return None
    cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    if seed is None:
        return cluster.create_database()
    key = (cluster.port, seed)
    if key not in _seeded:
        url = cluster.create_database()
        tmp = Path(tempfile.mkdtemp(prefix="tandem-seed-"))
        seeder = ServerProcess(tmp, seed=seed, database_url=url)
        try:
            seeder.start()
        finally:
            seeder.stop()
            shutil.rmtree(tmp, ignore_errors=True)
        _seeded[key] = url.rsplit("/", 1)[1]
    return cluster.create_database(template=_seeded[key])


def _server(request: pytest.FixtureRequest, backend: str, tmp: Path,
            seed: str | None) -> Iterator[ServerProcess]:
    url = _database_url(request, backend, seed)
    # A copied database already has its seed (seeding again would be skipped).
    srv = ServerProcess(tmp, seed=seed if url is None else None, database_url=url)
    srv.start()
    yield srv
    srv.close()


@pytest.fixture(scope="module")
def demo_server(request: pytest.FixtureRequest, backend: str,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One demo-seeded server per test module (and backend)."""
    yield from _server(request, backend, tmp_path_factory.mktemp("demo-server"), "demo")


@pytest.fixture(scope="module")
def staff_server(request: pytest.FixtureRequest, backend: str,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """The demo people, services, clients and availability, but no appointments."""
    yield from _server(request, backend, tmp_path_factory.mktemp("staff-server"), "staff")


@pytest.fixture(scope="module")
def empty_server(request: pytest.FixtureRequest, backend: str,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    yield from _server(request, backend, tmp_path_factory.mktemp("empty-server"), None)


@pytest.fixture
def server_factory(request: pytest.FixtureRequest, backend: str,
                   tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """Make (and later stop) servers: `server_factory(seed="demo", args=(...))`."""

    def on_backend(kwargs: dict[str, Any]) -> None:
        if "database_url" not in kwargs:
            seed = kwargs.get("seed")
            url = _database_url(request, backend, seed if isinstance(seed, str) else None)
            if url is not None:  # PostgreSQL: a copy of a seeded database
                kwargs.update(database_url=url, seed=None)

    with server_maker(tmp_path, on_backend) as make:
        yield make


# Signed-in staff of the `staff` seed, one per module, for the module's `srv`.
@pytest.fixture(scope="module")
def op(srv: ServerProcess) -> Api:
    return Api(srv, "operator")


@pytest.fixture(scope="module")
def t1(srv: ServerProcess) -> Api:
    return Api(srv, "therapist1")


@pytest.fixture(scope="module")
def t2(srv: ServerProcess) -> Api:
    return Api(srv, "therapist2")


@pytest.fixture(scope="module")
def t3(srv: ServerProcess) -> Api:
    return Api(srv, "therapist3")


@pytest.fixture(scope="module")
def d1(srv: ServerProcess) -> Api:
    return Api(srv, "driver1")


@pytest.fixture(scope="module")
def d2(srv: ServerProcess) -> Api:
    return Api(srv, "driver2")


@pytest.fixture
async def rt(tmp_path: Path) -> AsyncIterator[Runtime]:
    """The server in-process on the staff seed (tests.server.in_process)."""
    runtime = Runtime(settings(tmp_path / "s.db", seed="staff"))
    await runtime.start()
    yield runtime
    await runtime.stop()
