from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from testkit.server import ServerProcess, server_maker


@pytest.fixture(scope="module")
def staff_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server per module with the demo people, services, clients and
    availability but no appointments (tests book their own, never clashing:
    see helpers.booking). Starting a server costs seconds on a busy machine."""
    srv = ServerProcess(tmp_path_factory.mktemp("staff-server"), seed="staff",
                        startup_timeout=120)
    srv.start()
    yield srv
    srv.close()


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """Make (and later stop) servers: `server_factory(seed="demo", args=(...))`."""
    with server_maker(tmp_path) as make:
        yield make
