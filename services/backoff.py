"""Reconnect / retry delays: jittered exponential backoff as a plain
generator, so callers and tests just take `next(delays)`."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator


def backoff(base: float = 0.25, cap: float = 15.0, factor: float = 2.0,
            rand: Callable[[], float] = random.random) -> Iterator[float]:
    """base, 2·base, 4·base … up to cap, each drawn from [d/2, d] ("equal
    jitter"): never zero, and many clients never retry in lockstep."""
    n = 0
    while True:
        ceiling = min(cap, base * factor**n)
        yield ceiling / 2 + rand() * ceiling / 2
        n += 1


def probes(base: float = 0.25, cap: float = 1.0,
           rand: Callable[[], float] = random.random) -> Iterator[float]:
    """Delays between tries to reach a server that answered nothing: never
    more than `cap` apart, so a client notices within a second that it is
    back. A server that is down is not burdened by them (its host refuses
    the connection); one that answers but refuses gets `backoff` instead."""
    return backoff(base, cap, rand=rand)
