"""Helpers for the replica tests: the shared event log, a replica's LISTEN
connection as PostgreSQL sees it, and a tiny load balancer."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from server.replication import LISTENER_NAME
from testkit.server import ServerProcess
from tests.support.postgres import query


def pg_log(srv: ServerProcess, after: int = 0) -> list[dict[str, Any]]:
    """The shared event log, straight from PostgreSQL."""
    return query(srv.database_url,
                 "SELECT seq, entity, id, op, version, cause FROM events "
                 "WHERE seq > $1 ORDER BY seq", after)


def listener(srv: ServerProcess) -> dict[str, Any] | None:
    """The replica's LISTEN connection in pg_stat_activity (pid, query, state), if any."""
    assert srv.proc is not None
    rows = query(srv.database_url,
                 "SELECT pid, query, state FROM pg_stat_activity WHERE application_name = $1",
                 f"{LISTENER_NAME}/{srv.proc.pid}")
    assert len(rows) <= 1, rows
    return rows[0] if rows else None


def wait_listening(srv: ServerProcess, timeout: float = 30.0,
                   not_pid: int | None = None) -> int:
    """Wait until the replica LISTENs (on a backend other than `not_pid`); its pid."""
    deadline = time.monotonic() + timeout
    while True:
        row = listener(srv)
        # 'SELECT 1' is the ping, which only follows the LISTEN.
        if row is not None and row["pid"] != not_pid and (
                row["query"].upper().startswith("LISTEN") or row["query"] == "SELECT 1"):
            return int(row["pid"])
        assert time.monotonic() < deadline, f"replica on :{srv.port} not listening: {row}"
        time.sleep(0.05)


def terminate_listener(srv: ServerProcess) -> int:
    """pg_terminate_backend the replica's LISTEN connection; wait until it's gone."""
    row = listener(srv)
    assert row is not None, f"replica on :{srv.port} has no LISTEN connection"
    pid = int(row["pid"])
    assert query(srv.database_url, "SELECT pg_terminate_backend($1) AS ok", pid)[0]["ok"]
    deadline = time.monotonic() + 30
    while query(srv.database_url, "SELECT 1 FROM pg_stat_activity WHERE pid = $1", pid):
        assert time.monotonic() < deadline, "the LISTEN backend outlived pg_terminate_backend"
        time.sleep(0.02)
    return pid


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
