"""A client crashes after the server applied its commands but before it heard
the answers. After a restart the client sends them again; the server answers
from its idempotency record: nothing applied twice, nothing lost.

The answers are lost for real: a loopback proxy passes the requests to the
server and swallows what comes back; then the client process gets kill -9.
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from services.client import Client
from testkit.server import DEMO_PASSWORD, ServerProcess
from tests.reliability.proxy import FaultyProxy

SCRIPT = Path(__file__).with_name("crash_client.py")
ROOT = Path(__file__).resolve().parents[2]
N = 6


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    env = {"TANDEM_PICKUP_INTERVAL": "0", "TANDEM_AUTO_CANCEL_INTERVAL": "0"}
    with ServerProcess(tmp_path_factory.mktemp("ack-crash"), seed="staff", env=env) as s:
        yield s


def rows(srv: ServerProcess, sql: str, *args: Any) -> list[dict[str, Any]]:
    con = sqlite3.connect(srv.database_url.removeprefix("sqlite:///"))
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute(sql, args)]
    finally:
        con.close()


async def until(check: Any, timeout: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not check():
        assert loop.time() < end, f"timed out waiting for {what}"
        await asyncio.sleep(0.2)


async def test_retry_after_a_crash_is_answered_from_the_record(srv: ServerProcess,
                                                              tmp_path: Path) -> None:
    data = tmp_path / "client"
    proxy = await FaultyProxy.start(srv.port)
    proc: subprocess.Popen[str] | None = None
    try:
        first = await Client.start(proxy.url, "operator", DEMO_PASSWORD, data_dir=data)
        await first.stop()
        logged_before = rows(srv, "SELECT COUNT(*) AS n FROM command_log")[0]["n"]

        proxy.swallow_responses = True
        proc = subprocess.Popen([sys.executable, str(SCRIPT), proxy.url, str(data), str(N)],
                                cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 120)
        assert line.startswith("QUEUED "), line
        ids = line.split()[1:]
        assert len(ids) == N

        def created() -> list[dict[str, Any]]:
            marks = ",".join("?" * len(ids))
            return rows(srv, f"SELECT * FROM events WHERE entity = 'client' AND id IN ({marks})",
                        *ids)

        # The server applies all of them; the client hears none of the answers.
        await until(lambda: len(created()) == N, 120, "the server to apply every command")
        proc.kill()  # kill -9 between the server's apply and the client's ack
        proc.wait(30)
        events_before = rows(srv, "SELECT COUNT(*) AS n FROM events")[0]["n"]
        sent_before = proxy.commands_seen

        proxy.swallow_responses = False
        again = await Client.start(proxy.url, "operator", None, data_dir=data)
        try:
            await again.wait_idle(120)
            assert proxy.commands_seen > sent_before, "the restarted client never retried"
            assert not again.failed(), [(e.name, e.error) for e in again.failed()]
            for cid in ids:
                rec = again.get("client", cid)
                assert rec is not None and rec["version"] == 1, rec
                assert not again.is_pending("client", cid)
        finally:
            await again.stop()

        # Nothing applied twice: no new events, one creation each, one command row each.
        assert rows(srv, "SELECT COUNT(*) AS n FROM events")[0]["n"] == events_before
        per_id: dict[str, int] = {}
        for e in created():
            per_id[e["id"]] = per_id.get(e["id"], 0) + 1
        assert per_id == {cid: 1 for cid in ids}, per_id
        logged = rows(srv, "SELECT COUNT(*) AS n FROM command_log")[0]["n"]
        assert logged - logged_before == N, "one idempotency record per command"
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(30)
        await proxy.close()
