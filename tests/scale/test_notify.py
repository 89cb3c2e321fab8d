"""How one replica hears of another's commits, each path on its own.

A replica learns that the log moved by three paths (server.replication): a
NOTIFY on its LISTEN connection, a catch-up by sequence when that connection
comes back, and a periodic check of the log head. The other scale tests run
all three at once (a 0.5 s check), which would hide any one of them broken,
so here each test leaves only one path able to deliver in time:

- NOTIFY alone: a 600 s check (never within the test), no jobs, no writes on
  the receiving replica;
- a missed NOTIFY: the receiving replica is frozen (SIGSTOP) while its LISTEN
  backend is terminated and the other writes, so those NOTIFYs reach nobody
  on its behalf; only the catch-up on reconnect can bring the events (600 s
  check again);
- a NOTIFY that never comes, the connection staying up: a writer that commits
  to the log without pg_notify; only the periodic check can bring it.

Each time a websocket client of the receiving replica must get every event,
in order, with no gap and no repeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa

from domain.commands import Change
from domain.times import iso
from server import repo
from server.database import Database
from server.events import drafts_for
from server.schema import log_head
from server.settings import ServerSettings
from testkit import loopback
from testkit.server import ServerProcess
from tests.scale.conftest import Replicas
from tests.scale.helpers import terminate_listener, wait_listening
from tests.server.helpers import Api, Stream, new_client, stream

NO_JOBS = ("--auto-cancel-interval", "0", "--pickup-interval", "0")
NO_CHECK = {"TANDEM_REPLICA_CHECK_INTERVAL": "600"}  # never within a test
PROMPT = 10.0  # seconds: generous for a loaded machine, far below the 600 s check


def head(srv: ServerProcess) -> int:
    return int(loopback.get(srv.url + "/api/health", timeout=15).json()["cursor"])


async def write(op: Api) -> int:
    """A new client through `op`'s replica (one event, seen by operators); its seq."""
    answer = await asyncio.to_thread(
        op.cmd, "client.create", str(uuid.uuid4()), first_name="Notify", last_name="Test",
        phone="+63 900 000 0000", address="1 Listen St")
    return int(answer.ok().body["cursor"])


class Seen:
    """The seqs a websocket client receives, read all along by a task."""

    def __init__(self, s: Stream) -> None:
        self.seqs: list[int] = []
        self._task = asyncio.create_task(self._read(s))

    async def _read(self, s: Stream) -> None:
        while True:
            frame = await s.frame(timeout=3600)
            if frame["type"] == "event":
                self.seqs.append(frame["event"]["seq"])

    async def reach(self, seq: int, timeout: float = PROMPT, what: str = "") -> None:
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while not self.seqs or self.seqs[-1] < seq:
            assert not self._task.done(), self._task.exception()
            assert loop.time() < end, f"{what}: seq {seq} not there in {timeout}s ({self.seqs})"
            await asyncio.sleep(0.02)

    async def close(self) -> list[int]:
        await asyncio.sleep(0.3)  # a repeat would show up now
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        return self.seqs


async def test_notify_alone_brings_another_replicas_events_promptly(
    replicas: Replicas,
) -> None:
    r1, r2 = replicas(2, args=NO_JOBS, env=NO_CHECK)
    op1, op2 = Api(r1, "operator"), Api(r2, "operator")
    await asyncio.to_thread(wait_listening, r2)
    await asyncio.sleep(0.5)  # its catch-up read after LISTEN is behind us
    start = head(r1)
    assert head(r2) == start
    async with stream(r2, op2.token, start) as s:
        seen = Seen(s)
        for n in range(3):
            seq = await write(op1)
            await seen.reach(seq, what=f"write {n} on replica 1, by NOTIFY")
        got = await seen.close()
    assert got == list(range(start + 1, seq + 1))


async def test_events_written_while_the_listener_was_gone_arrive_on_reconnect(
    replicas: Replicas,
) -> None:
    r1, r2 = replicas(2, args=NO_JOBS, env=NO_CHECK)
    op1, op2 = Api(r1, "operator"), Api(r2, "operator")
    await asyncio.to_thread(wait_listening, r2)
    start = head(r1)
    async with stream(r2, op2.token, start) as s:
        seen = Seen(s)
        await seen.reach(await write(op1), what="before: by NOTIFY")
        # Freeze replica 2 and cut its LISTEN connection meanwhile: nothing on
        # its side listens while replica 1 writes, so these NOTIFYs are lost to it.
        assert r2.proc is not None
        os.kill(r2.proc.pid, signal.SIGSTOP)
        try:
            gone = await asyncio.to_thread(terminate_listener, r2)
            missed = [await write(op1) for _ in range(3)]
        finally:
            os.kill(r2.proc.pid, signal.SIGCONT)
        # It notices the lost connection, reconnects and reads the log from
        # where its hub is (no periodic check within the test).
        await seen.reach(missed[-1], what="missed: by the catch-up on reconnect")
        await asyncio.to_thread(wait_listening, r2, not_pid=gone)
        after = await write(op1)
        await seen.reach(after, what="after: by NOTIFY on the new connection")
        got = await seen.close()
    assert got == list(range(start + 1, after + 1))


async def write_without_notify(srv: ServerProcess, cid: str, notes: str) -> int:
    """What a writer whose NOTIFY got lost leaves behind: an update of client
    `cid` committed to the shared log under the head lock (as Database.write
    does) but without pg_notify. Its seq."""
    db = Database(ServerSettings(database_url=srv.database_url))
    try:
        async with db.writer.begin() as conn:
            seq = (await conn.execute(sa.select(log_head.c.seq).where(log_head.c.id == 1)
                                      .with_for_update())).scalar_one()
            before = await repo.get(conn, "client", cid)
            assert before is not None
            after = {**before, "notes": notes, "version": int(before["version"]) + 1}
            change = Change("client", cid, "upsert", after, before)
            events = [d.numbered(seq + 1 + i, "test.no_notify", iso(datetime.now(UTC)))
                      for i, d in enumerate(drafts_for(change))]
            await repo.write_final(conn, [("update", "client", cid, after)])
            await repo.append_events(conn, events)
        return events[-1].seq
    finally:
        await db.close()


async def test_a_commit_that_never_notified_arrives_by_the_periodic_check(
    replicas: Replicas,
) -> None:
    r1, r2 = replicas(2, args=NO_JOBS)  # the conftest's 0.5 s check
    op1, op2 = Api(r1, "operator"), Api(r2, "operator")
    cid = await asyncio.to_thread(new_client, op1)
    start = head(r1)
    async with stream(r1, op1.token, start) as s1, stream(r2, op2.token, start) as s2:
        seen = [Seen(s1), Seen(s2)]
        # No NOTIFY, no later write: only each replica's check finds it.
        silent = await write_without_notify(r1, cid, "written without a NOTIFY")
        for i, one in enumerate(seen):
            await one.reach(silent, what=f"replica {i + 1}, by the periodic check")
        # Replica 2 writes on top of it: its cache caught up with that record too.
        edit = await asyncio.to_thread(op2.cmd, "client.update", cid, 2, notes="next")
        edit.ok()
        assert edit.record["version"] == 3
        for one in seen:
            await one.reach(int(edit.body["cursor"]))
        got = [await one.close() for one in seen]
    assert got == [list(range(start + 1, int(edit.body["cursor"]) + 1))] * 2
    assert {e["id"]: e["data"]["notes"] for e in op1.events(start)}[cid] == "next"

