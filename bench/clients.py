"""What the processes hosting many headless Tandem clients share
(bench.propagation_worker, bench.soak_worker): the JSON-lines answer on
stdout, clients on a saved session, started batch by batch, stopped bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import orjson

from services import session as sessions
from services.client import Client

C = TypeVar("C", bound=Client)
T = TypeVar("T")
BATCH = 25


def emit(obj: Any) -> None:
    """One JSON object per line to the driving process."""
    sys.stdout.write(orjson.dumps(obj).decode() + "\n")
    sys.stdout.flush()


async def resume(cls: type[C], url: str, username: str, login: dict[str, Any], data: Path,
                 flush_interval: float) -> C:
    """A client of `cls` on `login`'s saved session under `data` (no password:
    one sign-in per user serves all of that user's clients)."""
    directory = sessions.user_dir(data, url, username)
    sessions.Session(url.rstrip("/"), login["token"], login["user"], directory).save()
    client = await cls.start(url, username, None, data_dir=data, flush_interval=flush_interval)
    assert isinstance(client, cls)
    return client


async def start_in_batches(count: int, start: Callable[[int], Awaitable[T]],
                           client: Callable[[T], Client], seconds: float) -> list[T]:
    """`start(i)` for i in range(count), BATCH at a time, each batch online
    (or `seconds` gone in all) before the next: a stampede of hellos on a
    busy machine trips the server's hello timeout and costs retries."""
    out: list[T] = []
    deadline = time.monotonic() + seconds
    for first in range(0, count, BATCH):
        batch = await asyncio.gather(*(start(i) for i in range(first, min(count, first + BATCH))))
        out += batch
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(1.0, deadline - time.monotonic())):
                while any(client(x).status != "online" or client(x).cursor is None
                          for x in batch):
                    await asyncio.sleep(0.05)
    return out


async def stop_all(clients: Sequence[Client], seconds: float) -> None:
    """All at once and bounded: a busy server may take its time closing sockets."""
    with contextlib.suppress(Exception):
        async with asyncio.timeout(seconds):
            await asyncio.gather(*(c.stop() for c in clients), return_exceptions=True)
