"""Helpers for the replica tests: the shared event log, and a tiny load balancer."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from tests.support.postgres import query
from tests.support.server import ServerProcess


def pg_log(srv: ServerProcess, after: int = 0) -> list[dict[str, Any]]:
    """The shared event log, straight from PostgreSQL."""
    return query(srv.database_url,
                 "SELECT seq, entity, id, op, version, cause FROM events "
                 "WHERE seq > $1 ORDER BY seq", after)


class Balancer:
    """A TCP load balancer on loopback, like nginx with backup servers: each new
    connection goes to the first backend that accepts it. A killed replica
    refuses connections, so clients that reconnect land on the next one."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self.port = 0
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> Balancer:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for t in list(self._pipes):
            t.cancel()
        for t in list(self._pipes):
            with contextlib.suppress(asyncio.CancelledError):
                await t

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._pipes.add(task)
        try:
            for port in self.ports:
                try:
                    up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
                    break
                except OSError:
                    continue
            else:
                return
            try:
                await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
            finally:
                up_writer.close()
        finally:
            writer.close()
            self._pipes.discard(task)


async def _pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
    try:
        while data := await src.read(65536):
            dst.write(data)
            await dst.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        # Either side gone: close both directions (a killed replica resets).
        with contextlib.suppress(Exception):
            dst.close()
