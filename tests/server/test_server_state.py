"""The command path in-process on a real SQLite file (no HTTP): batches see
their own earlier commands, two processes sharing a database stay correct,
and the hub's `advance` catches a replica up from the log."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from domain.commands import Command
from server import repo
from server.runtime import Runtime
from tests.server.in_process import actor, settings


def slot(seq: int, start: str, end: str, client: str = "c") -> Command:
    return Command("availability.create", str(uuid.uuid4()),
                   {"date": "2033-03-03", "start_time": start, "end_time": end,
                    "available": True}, None, client, seq)


async def test_a_batch_sees_its_own_earlier_commands(rt: Runtime) -> None:
    t1 = await actor(rt, "therapist1")
    answers = await asyncio.gather(*(rt.commands.execute(t1, slot(i + 1, "09:00", "10:00"))
                                     for i in range(20)))
    codes = sorted(status for status, _ in answers)
    assert codes == [200] + [409] * 19
    assert {b["code"] for s, b in answers if s == 409} == {"availability_overlap"}
    async with rt.db.read() as conn:
        slots = await repo.select(conn, "availability")
    assert len([s for s in slots if s["date"] == "2033-03-03"]) == 1


async def test_cursors_are_consecutive_and_match_the_log(rt: Runtime) -> None:
    t1 = await actor(rt, "therapist1")
    start = rt.hub.head
    answers = await asyncio.gather(*(
        rt.commands.execute(t1, slot(i + 1, f"{i:02d}:00", f"{i:02d}:30", "cur"))
        for i in range(10)))
    cursors = sorted(b["cursor"] for _, b in answers)
    assert cursors == list(range(start + 1, start + 11))
    async with rt.db.read() as conn:
        events = await repo.events_after(conn, start, 100)
    assert [e.seq for e in events] == cursors
    assert rt.state.seq == rt.hub.head == cursors[-1]


async def test_two_processes_on_one_database_see_each_others_writes(
    rt: Runtime, tmp_path: Path
) -> None:
    other = Runtime(settings(tmp_path / "s.db"))
    await other.start()
    try:
        t1 = await actor(rt, "therapist1")
        first = await rt.commands.execute(t1, slot(1, "14:00", "16:00", "p1"))
        assert first[0] == 200
        # The other process's cache predates that write; it must catch up first.
        clash = await other.commands.execute(t1, slot(1, "15:00", "17:00", "p2"))
        assert (clash[0], clash[1]["code"]) == (409, "availability_overlap")
        assert other.state.seq == rt.state.seq
        # …and a retry sent to the other process gets the first answer.
        again = await other.commands.execute(t1, Command(
            "availability.create", "whatever", {}, None, "p1", 1))
        assert again == first
        # Its hub catches up from the log when told how far it reaches.
        sub = other.hub.subscribe(t1)
        await other.hub.advance(rt.hub.head)
        assert sub.wake.is_set() and other.hub.head == rt.hub.head
        tail = await other.hub.read_after(rt.hub.head - 1)
        assert [e.seq for e in tail] == [rt.hub.head]
    finally:
        await other.stop()


async def test_state_cache_matches_the_database(rt: Runtime) -> None:
    t1 = await actor(rt, "therapist1")
    made = await rt.commands.execute(t1, slot(1, "18:00", "19:00", "m"))
    sid = made[1]["record"]["id"]
    await rt.commands.execute(t1, Command("availability.update", sid, {"available": False},
                                          1, "m", 2))
    await rt.commands.execute(t1, Command("availability.delete", sid, {}, None, "m", 3))
    fresh = Runtime(settings(rt.settings.sqlite_path))  # type: ignore[arg-type]
    async with fresh.db.read() as conn:
        await fresh.state.load(conn)
    await fresh.db.close()
    assert fresh.state.tables == rt.state.tables
    assert rt.state.get("availability", sid) is None


def test_the_known_head_revision_is_the_scripts_head() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from server.database import MIGRATIONS
    from server.migrations import HEAD

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(cfg).get_current_head() == HEAD


async def test_hub_ring_stays_contiguous_when_advance_overlaps_publish() -> None:
    from server.events import Event
    from server.hub import Hub

    def ev(seq: int) -> Event:
        return Event(seq, "service", f"s{seq}", "upsert", 1, {"id": f"s{seq}"}, "t",
                     frozenset(), True, True)

    log = [ev(i) for i in range(1, 11)]

    async def loader(after: int, limit: int) -> list[Event]:
        return [e for e in log if e.seq > after][:limit]

    hub = Hub(loader, ring_size=100)
    hub.start(0, 0)
    hub.publish(log[:5])
    hub.publish(log[2:7])  # an overlapping, late batch (a NOTIFY catch-up)
    assert [e.seq for e in hub.ring] == [1, 2, 3, 4, 5, 6, 7] and hub.head == 7
    hub.publish(log[8:])  # a gap: the ring restarts, readers use the log
    assert hub.head == 10
    assert [e.seq for e in await hub.read_after(3)] == [4, 5, 6, 7, 8, 9, 10]
    assert [e.seq for e in await hub.read_after(8)] == [9, 10]
    await hub.advance(10)
    assert hub.head == 10


async def test_attendance_reads_the_actor_s_own_shifts_and_slots(rt: Runtime) -> None:
    """The per-person index: a clock-in's snapshot holds the actor's shifts
    and availability, nobody else's; a reload (another process's view)
    rebuilds the same."""
    ana, maria = await actor(rt, "therapist1"), await actor(rt, "therapist2")
    for n, who in enumerate((ana, maria)):
        status, body = await rt.commands.execute(
            who, Command("attendance.clock_in", f"shift-{n}", {}, None, "att", 100 + n))
        assert status == 200, body

    def read(state: object) -> tuple[set[str], set[str]]:
        snap = state.snapshot(ana, Command("attendance.clock_in", "new", {}))  # type: ignore[attr-defined]
        return ({s["user_id"] for s in snap.all("shift")},
                {s["user_id"] for s in snap.all("availability")})

    assert read(rt.state) == ({ana.id}, {ana.id})
    async with rt.db.read() as conn:
        await rt.state.load(conn)
    assert read(rt.state) == ({ana.id}, {ana.id})
    # closed and opened again: still one open shift of hers in what it reads
    status, _ = await rt.commands.execute(
        ana, Command("attendance.clock_out", "shift-0", {}, None, "att", 102))
    assert status == 200
    snap = rt.state.snapshot(ana, Command("attendance.clock_in", "new", {}))
    assert [s["clock_out_at"] is None for s in snap.all("shift")] == [False]
