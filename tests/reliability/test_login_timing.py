"""Timing never tells usernames apart, whatever the cost settings (issue 17,
point 1). A wrong password costs one argon2 check with the parameters of the
stored hash; an unknown username, one check of a decoy with parameters in
use too — not today's settings, which may differ from what the stored
hashes were made with. A successful sign-in rehashes with today's."""

from __future__ import annotations

import sqlite3
import statistics
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from argon2 import PasswordHasher, extract_parameters

from server.auth import Passwords
from server.settings import ServerSettings
from testkit import loopback
from testkit.server import DEMO_PASSWORD, ServerProcess

SEEDED = {"TANDEM_PASSWORD_TIME_COST": "3", "TANDEM_PASSWORD_MEMORY_KIB": "32768"}
CHEAPER = {"TANDEM_PASSWORD_TIME_COST": "1", "TANDEM_PASSWORD_MEMORY_KIB": "1024"}
QUIET = {"TANDEM_PICKUP_INTERVAL": "0", "TANDEM_AUTO_CANCEL_INTERVAL": "0",
         # many failures from one address on purpose: no throttling here
         "TANDEM_LOGIN_FREE_FAILURES": "100000", "TANDEM_LOGIN_ADDRESS_FAILURES": "100000"}
# medians of wall-clock times: `make test` runs this file with nothing beside it
pytestmark = pytest.mark.alone

TRIES = 15  # per kind; medians, interleaved (a noisy shared machine)
REAL = ("operator", "therapist1", "therapist2", "driver1", "driver2")


def parameters_of(stored: str) -> tuple[int, int, int]:
    p = extract_parameters(stored)
    return p.time_cost, p.memory_cost, p.parallelism


def test_a_decoy_has_the_parameters_of_the_stored_hashes() -> None:
    """The structural check: both paths verify one hash of the same parameters."""
    old = PasswordHasher(time_cost=3, memory_cost=4096, parallelism=1)
    stored = [old.hash(f"pw{i}") for i in range(3)]
    passwords = Passwords(ServerSettings(password_time_cost=1, password_memory_kib=1024))
    passwords.in_use(stored)
    for name in ("ghost", "nobody", "admin", "x" * 50):
        decoy = passwords.against(None, name)
        assert parameters_of(decoy) == parameters_of(stored[0]), name
        assert passwords.against(None, name) == decoy  # the same name, the same cost
    assert passwords.against(stored[1], "real") == stored[1]
    assert passwords.needs_rehash(stored[0])
    assert not passwords.needs_rehash(passwords.hash("new"))


def test_unknown_names_draw_decoys_in_the_proportions_in_use() -> None:
    new = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    old = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)
    passwords = Passwords(ServerSettings(password_time_cost=1, password_memory_kib=1024))
    passwords.in_use([new.hash("a")] * 3 + [old.hash("b")])
    drawn = [parameters_of(passwords.against(None, f"user{i}"))[0] for i in range(400)]
    assert 0.15 < drawn.count(2) / len(drawn) < 0.35, drawn.count(2)


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    s = ServerProcess(tmp_path_factory.mktemp("timing"), seed="staff", env={**QUIET, **SEEDED})
    s.start()
    s.stop()
    s.env.update(CHEAPER)  # the cost settings change; the stored hashes keep theirs
    s.start()
    yield s
    s.close()


def attempt(client: httpx.Client, username: str) -> float:
    started = time.perf_counter()
    r = client.post("/api/auth/login", json={"username": username, "password": "wrong-pw"})
    took = time.perf_counter() - started
    assert r.status_code == 401 and r.json()["code"] == "bad_credentials", r.text
    return took


def test_wrong_passwords_cost_the_same_for_real_and_unknown_users(srv: ServerProcess) -> None:
    real: list[float] = []
    unknown: list[float] = []
    with loopback.Client(base_url=srv.url, timeout=60) as client:
        attempt(client, "warm-up")
        for i in range(TRIES):
            real.append(attempt(client, REAL[i % len(REAL)]))
            unknown.append(attempt(client, f"nobody-{uuid.uuid4().hex[:8]}"))
    slow, fast = statistics.median(real), statistics.median(unknown)
    # Before the fix: ~10x apart (the decoy used today's cheap settings).
    assert max(slow, fast) / min(slow, fast) < 2.5, (slow, fast, real, unknown)


def test_a_successful_sign_in_rehashes_with_todays_settings(srv: ServerProcess) -> None:
    db = sqlite3.connect(srv.data_dir / "tandem.db")
    try:
        def stored(username: str) -> str:
            row = db.execute("SELECT password_hash FROM users WHERE username = ?",
                             (username,)).fetchone()
            return str(row[0])

        assert parameters_of(stored("therapist3")) == (3, 32768, 1)
        token = srv.login("therapist3", DEMO_PASSWORD)
        assert parameters_of(stored("therapist3")) == (1, 1024, 1)
        assert parameters_of(stored("driver1")) == (3, 32768, 1)  # the others: not yet
        # The same password still signs in; the earlier token still works.
        srv.login("therapist3", DEMO_PASSWORD)
        r = loopback.get(srv.url + "/api/sync/bootstrap",
                      headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert r.status_code == 200, r.text
    finally:
        db.close()
