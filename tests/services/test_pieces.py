"""Pure pieces of the services layer: backoff delays, outcome classification
(the table in services/sender.py's docstring)."""

from __future__ import annotations

import itertools

import pytest

from services.backoff import backoff
from services.sender import UNREADABLE, classify


def test_backoff_grows_is_jittered_and_capped() -> None:
    low = list(itertools.islice(backoff(base=1, cap=8, rand=lambda: 0.0), 6))
    high = list(itertools.islice(backoff(base=1, cap=8, rand=lambda: 0.999999), 6))
    assert low == [0.5, 1, 2, 4, 4, 4]
    assert [round(h) for h in high] == [1, 2, 4, 8, 8, 8]
    real = list(itertools.islice(backoff(base=1, cap=8), 50))
    assert all(lo <= d <= hi for d, lo, hi in zip(real, low + [4] * 44, high + [8] * 44,
                                                  strict=True))


@pytest.mark.parametrize(("status", "body", "kind", "strike"), [
    (200, {"status": "applied", "record": {}}, "applied", False),
    (409, {"status": "rejected", "code": "invalid_transition", "message": "Can't"}, "rejected",
     False),
    (422, {"status": "rejected", "code": "invalid_args", "message": "Please"}, "rejected", False),
    (403, {"status": "rejected", "code": "forbidden", "message": "Only"}, "rejected", False),
    (401, {"status": "rejected", "code": "token_expired", "message": "Sign in"}, "auth", False),
    # no answer, or "busy / away behind the gateway": retried for as long as it takes
    (None, None, "retry", False),
    (502, "<html>bad gateway</html>", "retry", False),
    (503, {"status": "rejected", "code": "unavailable", "message": "busy"}, "retry", False),
    (504, None, "retry", False),
    (429, {"code": "too_many", "message": "slow down"}, "retry", False),
    (408, None, "retry", False),
    # an answer that makes no sense for the command: retried, but a strike
    (500, None, "retry", True),
    (500, {"status": "rejected", "code": "server_error", "message": "oops"}, "retry", True),
    (404, "<html>proxy says no</html>", "retry", True),  # not the server's word: keep it
    (413, None, "retry", True),  # a proxy's body limit: the same every time
    (302, None, "retry", True),
    (200, {"unexpected": True}, "retry", True),
    (200, UNREADABLE, "retry", True),  # a body that won't decode
    (None, UNREADABLE, "retry", True),  # ... and not even a status known
])
def test_every_outcome_has_one_meaning(status: int | None, body: object, kind: str,
                                       strike: bool) -> None:
    verdict = classify(status, body)
    assert (verdict.kind, verdict.strike) == (kind, strike)


def test_rejection_keeps_the_servers_words() -> None:
    verdict = classify(409, {"status": "rejected", "code": "double_booked",
                             "message": "Ana is already booked then."})
    assert (verdict.code, verdict.message) == ("double_booked", "Ana is already booked then.")
