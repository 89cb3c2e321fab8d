"""SQLite without TANDEM_SECRET_KEY: the server generates its token-signing
secret once and keeps it beside the database file, readable by its owner
only, so sign-ins survive a restart."""

from __future__ import annotations

import stat
from pathlib import Path

import jwt

from testkit import loopback
from testkit.server import ServerProcess


def bootstrap_status(srv: ServerProcess, token: str) -> int:
    return loopback.get(srv.url + "/api/sync/bootstrap", timeout=30,
                     headers={"Authorization": f"Bearer {token}"}).status_code


def test_a_generated_secret_is_kept_beside_the_database(tmp_path: Path) -> None:
    srv = ServerProcess(tmp_path, seed="staff", secret_key=False,
                        args=("--auto-cancel-interval", "0", "--pickup-interval", "0"))
    secret = tmp_path / "tandem.db.secret"
    try:
        srv.start()
        assert secret.is_file()
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600
        key = secret.read_text().strip()
        assert len(key) >= 32
        token = srv.login("therapist1")
        # Signed with that very key (not some built-in default).
        claims = jwt.decode(token, key, algorithms=["HS256"], options={"verify_exp": False})
        assert claims["role"] == "therapist"
        assert bootstrap_status(srv, token) == 200

        assert srv.stop() == 0
        srv.start()  # same file: the same key, the token still works
        assert secret.read_text().strip() == key
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600
        assert bootstrap_status(srv, token) == 200
        forged = jwt.encode(dict(claims), "not-the-secret-" + "x" * 32, algorithm="HS256")
        assert bootstrap_status(srv, forged) == 401
    finally:
        srv.close()
