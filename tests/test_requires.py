"""tests/support/requires.py: found, skipped locally, failed under CI."""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

import pytest

from tests.support import requires
from tests.support.requires import find_binary, free_port, require_binary

MISSING = "tandem-no-such-program-7f3a"


def _make_program(directory: Path, name: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    program = directory / name
    program.write_text("#!/bin/sh\nexit 0\n")
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    return program


def test_found_on_path_returns_its_path() -> None:
    path = require_binary("sh", "install a shell")
    assert os.path.basename(path) == "sh"
    assert os.access(path, os.X_OK)


@pytest.mark.parametrize("ci", ["", "0", "false"])
def test_missing_locally_skips_with_the_hint(monkeypatch: pytest.MonkeyPatch, ci: str) -> None:
    monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.skip.Exception) as outcome:
        require_binary(MISSING, "apt-get install tandem-thing")
    assert MISSING in str(outcome.value)
    assert "apt-get install tandem-thing" in str(outcome.value)


def test_missing_locally_without_ci_variable_skips(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        require_binary(MISSING, "hint")


@pytest.mark.parametrize("ci", ["true", "1", "TRUE"])
def test_missing_under_ci_fails(monkeypatch: pytest.MonkeyPatch, ci: str) -> None:
    monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.fail.Exception) as outcome:
        require_binary(MISSING, "apt-get install tandem-thing")
    assert "apt-get install tandem-thing" in str(outcome.value)


def test_postgres_style_dirs_are_searched_newest_major_first(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A Debian-like tree: /usr/lib/postgresql/<major>/bin, not on PATH.
    for major in ("9.6", "15", "16"):
        _make_program(tmp_path / "postgresql" / major / "bin", "pg_ctl")
    monkeypatch.setattr(requires, "EXTRA_BIN_GLOBS", (str(tmp_path / "postgresql/*/bin"),))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setenv("CI", "true")

    assert require_binary("pg_ctl", "apt-get install postgresql") == str(
        tmp_path / "postgresql" / "16" / "bin" / "pg_ctl"
    )
    with pytest.raises(pytest.fail.Exception):
        require_binary("initdb", "apt-get install postgresql")


def test_path_wins_over_extra_dirs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    on_path = _make_program(tmp_path / "bin", "postgres")
    _make_program(tmp_path / "postgresql" / "15" / "bin", "postgres")
    monkeypatch.setattr(requires, "EXTRA_BIN_GLOBS", (str(tmp_path / "postgresql/*/bin"),))
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert find_binary("postgres") == str(on_path)


def test_a_non_executable_file_is_not_a_program(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    plain = tmp_path / "postgresql" / "15" / "bin" / "initdb"
    plain.parent.mkdir(parents=True)
    plain.write_text("not a program")
    monkeypatch.setattr(requires, "EXTRA_BIN_GLOBS", (str(tmp_path / "postgresql/*/bin"),))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert find_binary("initdb") is None


def test_free_port_is_a_bindable_loopback_port() -> None:
    port = free_port()
    assert 1024 <= port <= 65535
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", port))
