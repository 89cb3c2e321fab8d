"""The server in-process (no HTTP): its Runtime on a real SQLite file. The
`rt` fixture (tests/server/conftest.py) is one on the staff seed."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from domain.commands import Actor
from server.runtime import Runtime
from server.schema import users
from server.settings import ServerSettings

SECRET = "state-test-secret-0123456789abcdefghijkl"


def settings(path: Path, seed: str | None = None) -> ServerSettings:
    """Jobs off (interval 0): these tests drive every command themselves."""
    return ServerSettings(database_url=f"sqlite:///{path}", secret_key=SECRET, seed=seed,
                          auto_cancel_interval=0, pickup_interval=0, trim_interval=0)


async def actor(rt: Runtime, username: str) -> Actor:
    async with rt.db.read() as conn:
        row = (await conn.execute(sa.select(users).where(users.c.username == username))).one()
    return Actor(row.id, row.role)
