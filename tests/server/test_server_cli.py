"""`python -m server`: problems a person can fix end with one clear line and a
non-zero exit, never a traceback; SIGTERM stops it cleanly."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from testkit.server import ROOT, ServerProcess, free_port, project_python


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("TANDEM_")}
    return subprocess.run([project_python(), "-m", "server", "--host", "127.0.0.1", *args],
                          cwd=ROOT, env={**base, **(env or {})}, capture_output=True,
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
    ("postgresql://u:p@localhost:notaport/db", "Can't read the database URL"),
    ("postgresql://u:p@[::1/db", "Can't read the database URL"),
    ("postgresql://u:p@127.0.0.1:99999/db", "has port 99999: a TCP port is 1-65535"),
])
def test_bad_database_url(url: str, words: str) -> None:
    result = run("--port", str(free_port()), "--database-url", url)
    refused(result, words)
    assert ":p@" not in result.stderr  # the password stays out of the message


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(bytes(range(256)) * 20)
    refused(run("--port", str(free_port()), "--database-url", f"sqlite:///{garbage}"),
            "file is not a database")
    # The secret key is kept beside a database only once the database is known good.
    assert not (tmp_path / "garbage.db.secret").exists()


def test_a_database_from_a_newer_version(tmp_path: Path) -> None:
    db = tmp_path / "newer.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
    con.execute("INSERT INTO alembic_version VALUES ('0099')")
    con.commit()
    con.close()
    result = run("--port", str(free_port()), "--database-url", f"sqlite:///{db}")
    refused(result, "Can't bring the database")
    assert "'0099'" in result.stderr and "newer version of Tandem" in result.stderr
    assert not (tmp_path / "newer.db.secret").exists()


def test_the_secret_is_kept_beside_a_good_database(tmp_path: Path) -> None:
    srv = ServerProcess(tmp_path)
    srv.env["TANDEM_SECRET_KEY"] = ""  # (ServerProcess gives one by default)
    with srv:
        pass
    assert (tmp_path / "tandem.db.secret").read_text().strip()


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


@pytest.mark.parametrize("args, env, words", [
    (("--ping-interval", "0"), {}, "--ping-interval (TANDEM_PING_INTERVAL) must be at least "
                                   "0.1 seconds, not 0.0"),
    ((), {"TANDEM_PING_INTERVAL": "nan"}, "TANDEM_PING_INTERVAL) must be at least 0.1 seconds"),
    (("--response-minutes", "-5"), {}, "--response-minutes (TANDEM_RESPONSE_MINUTES) must be "
                                       "0 or more minutes, not -5"),
    ((), {"TANDEM_RESPONSE_MINUTES": "-1"}, "must be 0 or more minutes"),
    ((), {"TANDEM_LATE_MINUTES": "-1"}, "TANDEM_LATE_MINUTES must be 0 or more minutes, not -1"),
    ((), {"TANDEM_TOKEN_TTL": "-60"}, "TANDEM_TOKEN_TTL must be at least 1 second, not -60"),
    ((), {"TANDEM_TOKEN_TTL": "0"}, "TANDEM_TOKEN_TTL must be at least 1 second"),
    ((), {"TANDEM_REPLICA_CHECK_INTERVAL": "0"},
     "TANDEM_REPLICA_CHECK_INTERVAL must be at least 0.05 seconds"),
    ((), {"TANDEM_REPLICA_CHECK_INTERVAL": "-1"},
     "TANDEM_REPLICA_CHECK_INTERVAL must be at least 0.05 seconds"),
    (("--auto-cancel-interval", "-1"), {}, "or 0 to turn the job off"),
    ((), {"TANDEM_SEND_QUEUE": "0"}, "TANDEM_SEND_QUEUE must be at least 1 frame"),
])
def test_settings_that_cannot_work_are_refused(tmp_path: Path, args: tuple[str, ...],
                                               env: dict[str, str], words: str) -> None:
    db = tmp_path / "a.db"
    refused(run("--port", str(free_port()), "--database-url", f"sqlite:///{db}", *args,
                env=env), words)
    assert list(tmp_path.iterdir()) == []  # refused before touching anything


def test_settings_are_checked_in_process_too() -> None:
    from server.settings import ServerSettings, SettingsError

    with pytest.raises(SettingsError, match="TANDEM_REPLICA_CHECK_INTERVAL"):
        ServerSettings(database_url="postgresql://u:p@db/t", replica_check_interval=0).resolved()
    ok = ServerSettings(database_url="postgresql://u:p@db/t", secret_key="k" * 40,
                        response_minutes=0, auto_cancel_interval=0, log_retention_days=0)
    assert ok.resolved() == ok


def test_settings_come_from_the_environment(tmp_path: Path) -> None:
    port = free_port()
    srv = ServerProcess(tmp_path, port=port,
                        env={"TANDEM_DATABASE_URL": f"sqlite:///{tmp_path}/env.db",
                             "TANDEM_SEED": "staff"})
    srv.command = lambda: [project_python(), "-m", "server", "--log-level", "warning"]  # type: ignore[method-assign]
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
