"""Regression (fixed): `python -m server --log-level debug`
turns on aiosqlite's DEBUG logger, which prints every SQL statement with its
parameters — including users.password_hash (argon2 hashes, crackable offline)
when the seed or a password change writes them. Fix: in server/__main__.py,
after logging.basicConfig, `logging.getLogger("aiosqlite").setLevel(logging.INFO)`
(or never log parameters)."""

from __future__ import annotations

from testkit.server import ServerProcess


def test_no_password_hash_in_debug_log(tmp_path: object) -> None:
    with ServerProcess(seed="staff", args=("--log-level", "debug")) as srv:
        srv.login("operator")
        log = srv.output()
    leaks = [ln for ln in log.splitlines() if "$argon2" in ln]
    assert not leaks, leaks[:2]
