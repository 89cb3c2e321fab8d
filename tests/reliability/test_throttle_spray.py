"""Regression (fixed): server/auth.py LoginThrottle.failed
clears ALL throttling state once it holds more than 100,000 (username, ip)
pairs. An attacker who is blocked on one account can spray failed sign-ins for
100,001 made-up usernames (each costs the server one argon2 check, but none is
throttled: they are all new pairs) and the block on the real account is gone.
Suggested fix: evict only expired / oldest entries (e.g. an OrderedDict used as
an LRU, or drop entries whose block ended long ago), never the whole map."""

from __future__ import annotations

from server.auth import LoginThrottle
from server.settings import ServerSettings


def test_a_username_spray_does_not_lift_a_block() -> None:
    throttle = LoginThrottle(ServerSettings())
    now = 1000.0
    for _ in range(10):
        throttle.failed("operator", "10.0.0.9", now=now)
    assert throttle.retry_after("operator", "10.0.0.9", now=now) > 0
    for i in range(100_001):
        throttle.failed(f"nobody{i}", "10.0.0.9", now=now)
    assert throttle.retry_after("operator", "10.0.0.9", now=now) > 0
