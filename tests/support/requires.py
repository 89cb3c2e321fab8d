"""Find the external programs a test needs (chromium, PostgreSQL), or say how to get them.

Locally a missing program skips the test with an install hint, so `make test` works on a
laptop without them. Under CI (the `CI` environment variable set) it fails instead: a
missing apt package must never turn a CI run green by silently skipping its tests.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import socket

import pytest

# Debian's postgresql package keeps initdb, pg_ctl and postgres in
# /usr/lib/postgresql/<major>/bin, which is not on PATH.
EXTRA_BIN_GLOBS: tuple[str, ...] = ("/usr/lib/postgresql/*/bin",)


def in_ci() -> bool:
    """True when running under CI (CI=true, CI=1, ...; unset, "", "0", "false" are not)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _version_key(directory: str) -> tuple[int, ...]:
    # "/usr/lib/postgresql/16/bin" sorts after ".../9.6/bin": compare numbers, not text.
    return tuple(int(n) for n in re.findall(r"\d+", directory))


def find_binary(name: str) -> str | None:
    """The path of program `name`: PATH first, then the extra dirs, newest version first."""
    found = shutil.which(name)
    if found is not None:
        return found
    for pattern in EXTRA_BIN_GLOBS:
        for directory in sorted(glob.glob(pattern), key=_version_key, reverse=True):
            candidate = os.path.join(directory, name)
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return candidate
    return None


def require_binary(name: str, install_hint: str) -> str:
    """The path of program `name`; otherwise skip the test (fail it under CI) with the hint.

    Usable inside a test, a fixture, or at module level.
    """
    path = find_binary(name)
    if path is not None:
        return path
    message = f"{name} not found; {install_hint}"
    if in_ci():
        pytest.fail(f"{message} (CI must install it: see .ci/run)", pytrace=False)
    pytest.skip(message, allow_module_level=True)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
