from __future__ import annotations

from collections.abc import Iterator

import pytest

from testkit.server import ServerProcess


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
