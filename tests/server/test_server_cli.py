"""`python -m server`: problems a person can fix end with one clear line and a
non-zero exit, never a traceback; SIGTERM stops it cleanly."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.server import ROOT, ServerProcess, _python, free_port


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([_python(), "-m", "server", "--host", "127.0.0.1", *args],
                          cwd=ROOT, env={**os.environ, **(env or {})}, capture_output=True,
                          text=True, timeout=60)


def refused(result: subprocess.CompletedProcess[str], words: str) -> None:
    assert result.returncode != 0
    assert words in result.stderr, result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        refused(run("--port", str(port), "--database-url", f"sqlite:///{tmp_path}/a.db"),
                f"Port {port} on 127.0.0.1 is already in use")


@pytest.mark.parametrize("url, words", [
    ("mysql://u:p@localhost/db", "Unsupported database 'mysql'"),
    ("not a url", "Can't read the database URL"),
    ("sqlite://", "SQLite needs a file path"),
])
def test_bad_database_url(url: str, words: str) -> None:
    refused(run("--port", str(free_port()), "--database-url", url), words)


def test_unreachable_postgres_is_a_clear_message() -> None:
    url = f"postgresql://tandem:pw@127.0.0.1:{free_port()}/tandem"
    refused(run("--port", str(free_port()), "--database-url", url), "Can't open the database")


def test_unwritable_path(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    refused(run("--port", str(free_port()), "--database-url", f"sqlite:///{blocker}/x.db"),
            "Can't create the data directory")
    (tmp_path / "dir.db").mkdir()
    refused(run("--port", str(free_port()), "--database-url", f"sqlite:///{tmp_path}/dir.db"),
            "is a directory")


def test_bad_settings_from_the_environment(tmp_path: Path) -> None:
    refused(run("--database-url", f"sqlite:///{tmp_path}/a.db", env={"TANDEM_PORT": "eighty"}),
            "TANDEM_PORT must be a number")
    refused(run("--port", str(free_port()), "--database-url", f"sqlite:///{tmp_path}/a.db",
                "--timezone", "Mars/Olympus"), "Unknown time zone")
    bad_seed = run("--seed", "everything")
    assert bad_seed.returncode == 2 and "invalid choice" in bad_seed.stderr


def test_settings_come_from_the_environment(tmp_path: Path) -> None:
    port = free_port()
    srv = ServerProcess(tmp_path, port=port,
                        env={"TANDEM_DATABASE_URL": f"sqlite:///{tmp_path}/env.db",
                             "TANDEM_SEED": "staff"})
    srv.command = lambda: [_python(), "-m", "server", "--log-level", "warning"]  # type: ignore[method-assign]
    srv.env["TANDEM_PORT"] = str(port)
    srv.env["TANDEM_HOST"] = "127.0.0.1"
    with srv:
        assert srv.login("operator")
    assert (tmp_path / "env.db").exists()


def test_sigterm_stops_cleanly_and_the_data_stays(
    server_factory: Callable[..., ServerProcess],
) -> None:
    srv = server_factory(seed="staff")
    token = srv.login("therapist1")
    assert srv.stop() == 0
    srv.start()  # same port, same database, the demo isn't seeded twice
    with srv.client("operator") as c:
        staff = c.get("/api/sync/bootstrap").json()["staff"]
    assert len(staff) == 6
    assert srv.client().get("/api/sync/bootstrap",
                            headers={"Authorization": f"Bearer {token}"}).status_code == 200
