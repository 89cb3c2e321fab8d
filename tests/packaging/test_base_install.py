"""The phone app runs from the base install alone: a venv made with
`pip install <repo>` (no extras, as a phone's packages) runs main.py's device
entry point against a real server, started from the full venv: it signs in,
applies the operator's event and sends a command, importing no server or web
package. The web modes, which need the web extra, say so in one line."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from testkit.server import ServerProcess, free_port

# pip install from the registry (a minute or two on a busy machine) comes first
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
# What a source checkout holds that a package build doesn't need (or must not see).
NOT_COPIED = shutil.ignore_patterns(
    ".git", ".venv", "venv", "data", "build", "dist", "*.egg-info", "__pycache__",
    "artifacts", "test-results", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis",
    "results",
)
INSTALL_TIMEOUT = 900


@pytest.fixture(scope="session")
def base_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with `pip install <repo>` and nothing else; made once per session.
    It installs from a copy, so the build leaves nothing in the checkout."""
    where = tmp_path_factory.mktemp("base-install")
    source = where / "tandem"
    shutil.copytree(ROOT, source, ignore=NOT_COPIED)
    subprocess.run([sys.executable, "-m", "venv", str(where / "venv")], check=True,
                   timeout=300)
    python = where / "venv" / "bin" / "python"
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--quiet",
         str(source)], capture_output=True, text=True, timeout=INSTALL_TIMEOUT)
    assert done.returncode == 0, done.stderr[-3000:]
    return python


def installed(python: Path) -> set[str]:
    out = subprocess.run([str(python), "-m", "pip", "list", "--format=json",
                          "--disable-pip-version-check"], capture_output=True, text=True,
                         check=True, timeout=120).stdout
    return {p["name"].lower() for p in json.loads(out)}


def test_the_base_install_has_no_server_or_web_package(base_python: Path) -> None:
    got = installed(base_python)
    assert {"flet", "flet-charts", "httpx", "websockets", "tinydb"} <= got
    assert not got & {"flet-web", "fastapi", "uvicorn", "starlette", "sqlalchemy", "orjson",
                      "pydantic", "pydantic-core", "alembic", "uvloop"}


def test_the_device_entry_signs_in_gets_an_event_and_sends_a_command(
    base_python: Path, tmp_path: Path
) -> None:
    with ServerProcess(tmp_path / "server", seed="staff") as srv:
        done = subprocess.run(
            [str(base_python), str(ROOT / "tests" / "packaging" / "device_client.py"),
             str(ROOT), srv.url, str(tmp_path)],
            cwd=tmp_path, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-4000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["trip_seen"] and seen["duty_sent"]
    # the app's packages came from the base venv, and nothing server- or web-side came in
    assert seen["views_from"].startswith(str(base_python.parent.parent))
    assert seen["imported"] == []
    # the signed-in user's files are in the app's private storage
    assert any((tmp_path / "app-storage").rglob("outbox*"))


@pytest.mark.parametrize("args", [["--server", "http://127.0.0.1:9"], []],
                         ids=["web-ui-client", "embedded-server"])
def test_a_web_mode_without_the_web_extra_is_one_friendly_line(
    base_python: Path, tmp_path: Path, args: list[str]
) -> None:
    done = subprocess.run(
        [str(base_python), str(ROOT / "main.py"), "--port", str(free_port()),
         "--data-dir", str(tmp_path / "data"), *args],
        capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tandem: The web UI needs the web extra")
    assert "'.[web]'" in lines[0]


def test_the_server_without_its_extra_is_one_friendly_line(base_python: Path,
                                                           tmp_path: Path) -> None:
    done = subprocess.run([str(base_python), "-m", "server", "--port", str(free_port())],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tandem: the server needs the server extra")
