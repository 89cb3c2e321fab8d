"""Pure pieces of the services layer: backoff delays, outcome classification."""

from __future__ import annotations

import itertools

import pytest

from services.backoff import backoff
from services.sender import classify


def test_backoff_grows_is_jittered_and_capped() -> None:
    low = list(itertools.islice(backoff(base=1, cap=8, rand=lambda: 0.0), 6))
    high = list(itertools.islice(backoff(base=1, cap=8, rand=lambda: 0.999999), 6))
    assert low == [0.5, 1, 2, 4, 4, 4]
    assert [round(h) for h in high] == [1, 2, 4, 8, 8, 8]
    real = list(itertools.islice(backoff(base=1, cap=8), 50))
    assert all(lo <= d <= hi for d, lo, hi in zip(real, low + [4] * 44, high + [8] * 44,
                                                  strict=True))


@pytest.mark.parametrize(("status", "body", "kind"), [
    (200, {"status": "applied", "record": {}}, "applied"),
    (409, {"status": "rejected", "code": "invalid_transition", "message": "Can't"}, "rejected"),
    (422, {"status": "rejected", "code": "invalid_args", "message": "Please"}, "rejected"),
    (403, {"status": "rejected", "code": "forbidden", "message": "Only"}, "rejected"),
    (401, {"status": "rejected", "code": "token_expired", "message": "Sign in"}, "auth"),
    (None, None, "retry"),  # no answer at all
    (500, None, "retry"),
    (502, "<html>bad gateway</html>", "retry"),
    (503, {"status": "rejected", "code": "unavailable", "message": "busy"}, "retry"),
    (429, {"code": "too_many", "message": "slow down"}, "retry"),
    (404, "<html>proxy says no</html>", "retry"),  # not the server's word: keep it
    (200, {"unexpected": True}, "retry"),
])
def test_every_outcome_has_one_meaning(status: int | None, body: object, kind: str) -> None:
    assert classify(status, body).kind == kind


def test_rejection_keeps_the_servers_words() -> None:
    verdict = classify(409, {"status": "rejected", "code": "double_booked",
                             "message": "Ana is already booked then."})
    assert (verdict.code, verdict.message) == ("double_booked", "Ana is already booked then.")
