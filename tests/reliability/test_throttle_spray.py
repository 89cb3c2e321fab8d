"""Regression (fixed): server/auth.py LoginThrottle.failed
clears ALL throttling state once it holds more than 100,000 (username, ip)
pairs. An attacker who is blocked on one account can spray failed sign-ins for
100,001 made-up usernames (each costs the server one argon2 check, but none is
throttled: they are all new pairs) and the block on the real account is gone.
Suggested fix: evict only expired / oldest entries (e.g. an OrderedDict used as
an LRU, or drop entries whose block ended long ago), never the whole map."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx
import pytest

from server.auth import LoginThrottle
from server.settings import ServerSettings
from testkit import loopback
from testkit.server import DEMO_PASSWORD, ServerProcess


def test_a_username_spray_does_not_lift_a_block() -> None:
    throttle = LoginThrottle(ServerSettings())
    now = 1000.0
    for _ in range(10):
        throttle.failed("operator", "10.0.0.9", now=now)
    assert throttle.retry_after("operator", "10.0.0.9", now=now) > 0
    for i in range(100_001):
        throttle.failed(f"nobody{i}", "10.0.0.9", now=now)
    assert throttle.retry_after("operator", "10.0.0.9", now=now) > 0


# --- issue 17, point 2: a ceiling per address, whatever the usernames ----------------

PROXY = "127.0.0.1"  # the one address whose X-Forwarded-For is believed here
DIRECT = "127.0.0.2"  # a client reaching the server itself (still loopback on Linux)


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    env = {"FORWARDED_ALLOW_IPS": PROXY, "TANDEM_PICKUP_INTERVAL": "0",
           "TANDEM_AUTO_CANCEL_INTERVAL": "0"}
    with ServerProcess(tmp_path_factory.mktemp("spray"), seed="staff", env=env) as s:
        yield s


def client_from(srv: ServerProcess, address: str) -> httpx.Client:
    return loopback.Client(base_url=srv.url, timeout=60,
                        transport=httpx.HTTPTransport(local_address=address))


def spray(client: httpx.Client, count: int, forwarded_for: str | None = None) -> list[int]:
    """Wrong passwords for `count` different made-up usernames; the statuses."""
    statuses = []
    for _ in range(count):
        headers = {"X-Forwarded-For": forwarded_for or f"198.18.{secrets.randbelow(250)}.1"}
        r = client.post("/api/auth/login", headers=headers,
                        json={"username": f"spray-{secrets.token_hex(4)}", "password": "x1"})
        statuses.append(r.status_code)
        if r.status_code == 429:
            assert r.json()["code"] == "too_many_attempts", r.text
            assert int(r.headers["Retry-After"]) >= 1, r.headers
            break
    return statuses


def test_spraying_many_usernames_from_one_address_is_throttled(srv: ServerProcess) -> None:
    with client_from(srv, DIRECT) as direct:
        # A made-up X-Forwarded-For on each try: not a proxy's, so not believed.
        statuses = spray(direct, 40)
        assert statuses[-1] == 429 and statuses.count(401) == 21, statuses
        # The ceiling is the address's: even a right password waits now.
        r = direct.post("/api/auth/login",
                        json={"username": "operator", "password": DEMO_PASSWORD})
        assert r.status_code == 429 and "Retry-After" in r.headers, r.text
    with client_from(srv, PROXY) as proxy:
        # Through the proxy, the client's own address counts: another client
        # signs in, and a spray from behind the proxy hits its own ceiling.
        r = proxy.post("/api/auth/login", headers={"X-Forwarded-For": "203.0.113.7"},
                       json={"username": "operator", "password": DEMO_PASSWORD})
        assert r.status_code == 200, r.text
        statuses = spray(proxy, 40, forwarded_for="198.51.100.1")
        assert statuses[-1] == 429 and statuses.count(401) == 21, statuses
        assert spray(proxy, 3, forwarded_for="198.51.100.2") == [401, 401, 401]
