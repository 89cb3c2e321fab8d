"""kill -9 a client with commands queued on disk; restart: each delivered once."""

from __future__ import annotations

import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from testkit.server import ServerProcess
from tests.services.helpers import (
    booking,
    new_id,
    server_events,
    server_state,
    sign_in,
    until,
    view_state,
)

SCRIPT = Path(__file__).with_name("crash_client.py")
ROOT = Path(__file__).resolve().parents[2]
RECORDS, EDITS = 6, 5


def run(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, str(SCRIPT), *args], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)


@pytest.mark.parametrize("server_up", [False, True], ids=["server-down", "server-up"])
async def test_killed_client_delivers_each_queued_command_once(
        staff_server: ServerProcess, tmp_path: Path, server_up: bool) -> None:
    srv = staff_server
    data = tmp_path / "client"
    op = await sign_in(srv, "operator", data_dir=data)  # saves the session on disk
    ids = [new_id() for _ in range(RECORDS)]
    for aid in ids:
        assert op.dispatch_now("appointment.create", aid, booking(op)).ok
    await op.wait_idle(30)
    await op.stop()
    start = server_events(srv, "operator")[-1]["seq"]

    if not server_up:
        srv.stop()
    proc = run(srv.url, str(data), "queue", str(EDITS), *ids)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip() == f"QUEUED {RECORDS * EDITS}" or server_up, line
    proc.kill()  # kill -9, mid-send when the server is up
    proc.wait()
    if not server_up:
        srv.start()

    drain = run(srv.url, str(data), "drain")
    out, _ = drain.communicate(timeout=90)
    assert drain.returncode == 0, out
    assert out.split()[0] == "DRAINED" and out.split()[2] == "0"  # nothing refused

    applied: dict[str, list[str]] = defaultdict(list)
    for event in server_events(srv, "operator", after=start):
        if event["cause"] == "appointment.update":
            applied[event["id"]].append(event["data"]["notes"])
    for aid in ids:
        assert applied[aid] == [f"crash {k}" for k in range(EDITS)]

    again = await sign_in(srv, "operator", data_dir=data)
    try:
        assert again.queued() == []
        await until(lambda: view_state(again) == server_state(srv, "operator"), 15)
    finally:
        await again.stop()
