"""Fan-out between replicas on PostgreSQL: LISTEN/NOTIFY plus a periodic check.

Every write transaction ends with `pg_notify(CHANNEL, <log head>)` (see
`Database.write`), delivered to every listener when — and only if — it
commits. Each replica keeps one dedicated asyncpg connection LISTENing; a
notification says "the log reaches seq N", and the replica's hub loads what it
lacks from the log, in order, and wakes its own sockets (`Hub.advance`).

NOTIFY is a nudge, not the data: the events themselves are read from the log
by sequence number. So a lost notification only delays an event, never loses
it: one sent while the listener was away is made up for by the read of the
head each time it (re)connects, and any other by the periodic check of the
head (`replica_check_interval`, 1 s by default); a duplicate or stale one is a
no-op. The check also picks up another replica's log trimming.
(tests/scale/test_notify.py takes each of these paths on its own.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from typing import TYPE_CHECKING, Any

from server import repo
from server.database import REPLICATION_CHANNEL
from server.tasks import cancel_and_wait

if TYPE_CHECKING:
    from server.runtime import Runtime

log = logging.getLogger("tandem.replication")

CHANNEL = REPLICATION_CHANNEL
# The LISTEN connection's application_name is "tandem-listen/<pid>", so it can
# be told apart in pg_stat_activity (its last query is only ever the ping).
LISTENER_NAME = "tandem-listen"
# How often the listener connection is pinged, so a half-dead socket is noticed.
PING_EVERY = 10.0
RECONNECT_MAX = 5.0


class Replication:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.interval = rt.settings.replica_check_interval
        self.wanted = 0  # the highest seq any replica told us about
        self.listening = asyncio.Event()  # set while LISTEN is active (tests wait on it)
        self.notified = 0  # notifications received (diagnostics)
        self._kick = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        rt.db.on_locked = self._before_write

    async def _before_write(self, head: int) -> None:
        """Under the head lock, before this replica appends events after `head`:
        the hub must have every event up to `head` first. Otherwise a live
        socket would get this replica's new events pushed ahead of another
        replica's older ones that the NOTIFY hasn't brought yet — a gap.
        (Nothing can commit meanwhile: we hold the lock.)"""
        if head > self.rt.hub.head:
            await self.rt.hub.advance(head)

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._listen(), name="replication-listen"),
            asyncio.create_task(self._advance(), name="replication-advance"),
            asyncio.create_task(self._check(), name="replication-check"),
        ]

    async def stop(self) -> None:
        await cancel_and_wait(self._tasks)
        self._tasks = []

    def want(self, seq: int) -> None:
        if seq > self.wanted:
            self.wanted = seq
        if self.wanted > self.rt.hub.head:
            self._kick.set()

    # --- the three tasks ----------------------------------------------------------------

    async def _advance(self) -> None:
        """The one task that moves the hub forward (NOTIFY and checks only ask)."""
        while True:
            await self._kick.wait()
            self._kick.clear()
            try:
                await self.rt.hub.advance(self.wanted)
            except asyncio.CancelledError:
                raise
            except Exception:  # the database is away: the next check retries
                log.warning("catching up with the event log failed", exc_info=True)

    async def _check(self) -> None:
        """Read the head now and then: what a lost NOTIFY would have said."""
        while True:
            await asyncio.sleep(self.interval)
            try:
                async with self.rt.db.read() as conn:
                    head, trimmed = await repo.head(conn)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("checking the event log head failed", exc_info=True)
                continue
            hub = self.rt.hub
            hub.trimmed = max(hub.trimmed, trimmed)  # another replica trimmed the log
            self.want(head)

    async def _listen(self) -> None:
        """LISTEN on a dedicated connection; reconnect (with backoff) when it drops."""
        import asyncpg

        delay = 0.2
        while True:
            conn: Any = None
            lost = asyncio.Event()
            try:
                conn = await asyncpg.connect(
                    _dsn(self.rt), timeout=10,
                    server_settings={"application_name": f"{LISTENER_NAME}/{os.getpid()}"})
                conn.add_termination_listener(lambda _c, lost=lost: lost.set())
                await conn.add_listener(CHANNEL, self._on_notify)
                self.listening.set()
                delay = 0.2
                # Anything committed while we weren't listening: catch up now.
                async with self.rt.db.read() as read:
                    head, _ = await repo.head(read)
                self.want(head)
                while not lost.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(lost.wait(), PING_EVERY)
                    if not lost.is_set():
                        await asyncio.wait_for(conn.fetchval("SELECT 1"), PING_EVERY)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("replica listener lost its connection (%s); reconnecting", exc)
            finally:
                self.listening.clear()
                if conn is not None and not conn.is_closed():
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(conn.close(), 2)
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECONNECT_MAX)

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        self.notified += 1
        try:
            self.want(int(payload))
        except ValueError:
            log.warning("ignoring a malformed notification %r", payload)


def _dsn(rt: Runtime) -> str:
    """The database URL as asyncpg wants it (plain postgresql://, password kept)."""
    url = rt.settings.url.set(drivername="postgresql")
    return url.render_as_string(hide_password=False)
