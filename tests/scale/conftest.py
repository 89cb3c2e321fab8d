"""Replicas of the real server on one throwaway PostgreSQL database.

`replicas(n, **server_options)` starts n `python -m server` processes on n
loopback ports sharing one fresh database and one TANDEM_SECRET_KEY; the first
seeds it (seed="staff" by default), the others start after it (a replica
never seeds a database that already has users).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from testkit.server import ServerProcess
from tests.support.postgres import (
    PostgresCluster,
    postgres_cluster,
    postgres_database,
    postgres_url,
)

__all__ = ["postgres_cluster", "postgres_database", "postgres_url", "replicas"]

SHARED_SECRET = "tandem-scale-test-shared-secret-0123456789abcdef"

Replicas = Callable[..., list[ServerProcess]]


@pytest.fixture
def replicas(postgres_url: str, postgres_cluster: PostgresCluster,
             tmp_path: Path) -> Iterator[Replicas]:
    made: list[ServerProcess] = []

    def make(n: int = 2, *, seed: str | None = "staff", args: tuple[str, ...] = (),
             own_args: tuple[tuple[str, ...], ...] = (), env: dict[str, str] | None = None,
             **options: Any) -> list[ServerProcess]:
        """`args` for every replica; `own_args[i]` added for replica i only."""
        env = {"TANDEM_SECRET_KEY": SHARED_SECRET, "TANDEM_REPLICA_CHECK_INTERVAL": "0.5",
               **(env or {})}
        out = []
        for i in range(n):
            srv = ServerProcess(tmp_path / f"replica{len(made)}", database_url=postgres_url,
                                seed=seed if i == 0 else None,
                                args=args + (own_args[i] if i < len(own_args) else ()),
                                env=env, **options)
            made.append(srv)
            out.append(srv.start())
        return out

    yield make
    for srv in made:
        srv.close()
