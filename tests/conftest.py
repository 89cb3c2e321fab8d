"""Suite-wide settings. Kept small: fixtures live next to the tests that use them, and
shared helpers in tests/support/ (import them as `tests.support.<module>`; pytest runs in
importlib mode, so test directories are not on sys.path and files may share names), and
what the benchmarks share too in testkit/.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from testkit.server import ServerProcess, server_maker, use_prefork

# Two cores shared by several processes: a wall-clock deadline per example would make
# property tests flaky without finding anything. A failure prints the blob to reproduce it.
settings.register_profile(
    "tandem",
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
# The inner loop (make test-fast) tries fewer examples; the full suite keeps the default.
settings.register_profile("fast", parent=settings.get_profile("tandem"), max_examples=20)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "tandem"))


# Test servers fork from a process that has imported the server already (testkit.prefork):
# a start takes a second instead of several, and the suite starts a hundred of them.
use_prefork()
# Cheap password hashes for the servers the tests start (each login is one argon2
# check): the server's own settings, so the code path is the same. A test about the
# hashing parameters sets its own (tests/reliability/test_login_timing.py).
os.environ.setdefault("TANDEM_PASSWORD_TIME_COST", "1")
os.environ.setdefault("TANDEM_PASSWORD_MEMORY_KIB", "1024")


# The markers (pyproject.toml), applied by where a test lives and what it needs, so
# `make test-fast` (-m "not slow and not e2e and not postgres") is the inner loop and
# `make test` still runs everything.
FOLDER_MARKS: dict[str, tuple[str, ...]] = {
    "e2e": ("e2e", "slow"),  # a server, the web UI and a real browser per test
    "scale": ("postgres", "slow"),  # replicas on a real PostgreSQL
    "reliability": ("slow",),  # faults, crashes, sprays, the access matrix over HTTP
}
POSTGRES_FIXTURES = frozenset({"postgres_cluster", "postgres_url", "postgres_database"})
TESTS = Path(__file__).parent


def needs_postgres(item: pytest.Item) -> bool:
    """A PostgreSQL fixture, or the `[postgresql]` run of a server suite."""
    callspec = getattr(item, "callspec", None)
    backend = callspec.params.get("backend") if callspec is not None else None
    fixtures = set(getattr(item, "fixturenames", ()))
    return backend == "postgresql" or bool(POSTGRES_FIXTURES & fixtures)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        folder = item.path.relative_to(TESTS).parts[0] if item.path.is_relative_to(TESTS) else ""
        marks = set(FOLDER_MARKS.get(folder, ()))
        if needs_postgres(item):
            marks.add("postgres")
        for mark in sorted(marks):
            item.add_marker(mark)
    # The files with slow tests first: the workers of `make test` take files in this
    # order, and a long one taken last would leave the others idle while it runs.
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_files)


def pytest_configure(config: pytest.Config) -> None:
    # pytest-xdist's --dist loadfile queues the files with the most tests first unless
    # told not to: the one-test browser and benchmark files (minutes each) went last and
    # ran on after the rest had finished. Keep the order above.
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


# Servers made per test; tests/server overrides it to run on each database backend.
@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """Make (and later stop) servers: `server_factory(seed="demo", args=(...))`."""
    with server_maker(tmp_path) as make:
        yield make
