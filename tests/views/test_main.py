"""main.py refuses what can't work here with one clear line, never a traceback
and never a window without a display."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_main(
    *args: str, tmp: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    return subprocess.run(
        [sys.executable, "main.py", "--data-dir", str(tmp / "data"), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**clean, **(env or {})},
    )


def test_desktop_without_flet_desktop_or_display_is_refused_kindly(tmp_path: Path) -> None:
    r = run_main("--desktop", tmp=tmp_path)
    assert r.returncode == 2
    assert r.stderr.startswith("tandem: ") and "Traceback" not in r.stderr
    assert "--desktop" in r.stderr


def test_server_must_be_an_http_address(tmp_path: Path) -> None:
    r = run_main("--server", "ftp://example", tmp=tmp_path)
    assert r.returncode == 2 and "http://" in r.stderr and "Traceback" not in r.stderr


def test_port_in_use_is_a_clear_message(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = run_main("--server", "http://127.0.0.1:9", "--port", str(port), tmp=tmp_path)
    assert r.returncode == 2 and "already in use" in r.stderr and "Traceback" not in r.stderr
    # `make run` always asks for 8000: the message says how to take another
    [line] = r.stderr.strip().splitlines()
    other = int(line.rsplit("--port ", 1)[1].rstrip(")"))
    assert other > port and f'make run ARGS="--port {other}"' in line


def test_a_damaged_database_is_a_clear_message_and_gets_no_secret(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "tandem.db").write_bytes(b"this is not a database" * 100)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    r = run_main("--port", str(port), tmp=tmp_path)
    assert r.returncode == 2 and r.stderr.startswith("tandem: ") and "Traceback" not in r.stderr
    assert not (data / "tandem.db.secret").exists()


def test_the_web_ui_client_mode_imports_nothing_of_the_server(tmp_path: Path) -> None:
    """`--server URL` builds its app and binds without the server's packages
    (SQLAlchemy, its drivers, password hashing, tokens): a client machine
    needs only the web extra's UI side. Of server/ it may use the two ASGI
    wrappers the web UI shares with the server and the web UI's fence into
    flet_web with the websocket one it drives (Starlette, uvicorn, websockets
    only)."""
    probe = (
        "import sys, main\n"
        "from pathlib import Path\n"
        "ns = main.parse_args(['--server', 'http://127.0.0.1:9', '--port', '0'])\n"
        f"main.client_app(ns, Path({str(tmp_path)!r}))\n"
        "main.bind('127.0.0.1', 0).close()\n"
        "heavy = {'sqlalchemy', 'alembic', 'aiosqlite', 'asyncpg', 'argon2', 'jwt'}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy\n"
        "             or (m.startswith('server') and m not in UI_SIDE)))\n"
    ).replace("UI_SIDE", repr({"server", "server.guard", "server.mounted",
                               "server.flet_send", "server.uvicorn_ws"}))
    r = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"
