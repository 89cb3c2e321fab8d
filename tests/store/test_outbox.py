from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from store import outbox as outbox_module
from store.claims import AlreadyOpen
from store.outbox import Outbox


def _outbox(place: Path | None) -> Outbox:
    return Outbox(place / "outbox.jsonl" if place is not None else None)


def _add(box: Outbox, target: str = "a1", name: str = "appointment.accept") -> int:
    return box.enqueue(name, target, {}, None, "2026-11-21T06:00:00Z").seq


def test_commands_keep_order_and_seqs_only_grow(place: Path | None) -> None:
    box = _outbox(place)
    seqs = [_add(box, f"a{n}") for n in range(5)]
    assert seqs == [1, 2, 3, 4, 5]
    box.drop(5)
    assert _add(box) == 6  # never reused, even after a drop
    assert [e.target for e in box.pending()] == ["a0", "a1", "a2", "a3", "a1"]
    box.close()


def test_failed_commands_are_kept_apart(place: Path | None) -> None:
    box = _outbox(place)
    a, b = _add(box), _add(box)
    box.fail(a, "invalid_transition", "Can't accept")
    assert [e.seq for e in box.pending()] == [b]
    assert [(e.seq, e.error) for e in box.failed()] == [
        (a, {"code": "invalid_transition", "message": "Can't accept"})]
    box.close()


def test_enqueued_is_on_disk_before_return(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.jsonl")
    seq = _add(box, "a9")
    # Read it back with a second, independent parser while the first is open.
    from store.outbox import _parse
    state = _parse((tmp_path / "outbox.jsonl").read_bytes())
    assert state.entries[seq].target == "a9"
    box.close()


def test_everything_survives_restart(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.jsonl")
    client_id = box.client_id
    a, b, c = _add(box, "a1"), _add(box, "a2"), _add(box, "a3")
    box.fail(b, "forbidden", "No")
    box.drop(a)
    box.mark_sending(c)
    box.close()
    again = Outbox(tmp_path / "outbox.jsonl")
    assert again.client_id == client_id
    assert [(e.seq, e.state) for e in again.entries()] == [(b, "failed"), (c, "queued")]
    assert again.next_seq == 4
    again.close()


def test_compaction_keeps_live_entries_and_the_seq(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.jsonl")
    keep = _add(box, "keep")
    for _ in range(200):
        box.drop(_add(box))
    size = (tmp_path / "outbox.jsonl").stat().st_size
    assert size < 64 * 400  # compacted, not 400 lines
    box.close()
    again = Outbox(tmp_path / "outbox.jsonl")
    assert [e.seq for e in again.entries()] == [keep]
    assert again.next_seq == 202
    again.close()


def test_torn_last_line_is_dropped_quietly(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.jsonl")
    _add(box, "a1")
    box.close()
    with open(tmp_path / "outbox.jsonl", "ab") as f:
        f.write(b'{"op":"add","client_id":"x","se')  # crash mid-append
    again = Outbox(tmp_path / "outbox.jsonl")
    assert again.problem is None
    assert [e.target for e in again.entries()] == ["a1"]
    assert _add(again, "a2") == 2
    again.close()


def test_corrupt_outbox_is_set_aside_and_reported(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.jsonl")
    old_client = box.client_id
    _add(box, "a1")
    box.close()
    raw = (tmp_path / "outbox.jsonl").read_bytes()
    (tmp_path / "outbox.jsonl").write_bytes(raw.replace(b'"op":"add"', b'"op":add"'))
    again = Outbox(tmp_path / "outbox.jsonl")
    assert again.problem is not None
    assert again.problem.set_aside.exists()
    assert again.problem.set_aside.read_bytes() == raw.replace(b'"op":"add"', b'"op":add"')
    assert "unsent changes" in again.problem.message
    assert again.entries() == []
    assert again.client_id != old_client  # new seqs can't collide with the lost ones
    again.close()


def test_one_writer_per_outbox(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.jsonl")
    with pytest.raises(AlreadyOpen):
        Outbox(tmp_path / "outbox.jsonl")
    box.close()



class Disk:
    """os.write and os.ftruncate as a filling disk has them: each write
    takes at most `chunk` bytes; once `room` bytes are written, ENOSPC."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, room: int, chunk: int = 7,
                 truncate_fails: bool = False) -> None:
        self.room, self.chunk = room, chunk
        self.real_write = os.write
        self.real_truncate = os.ftruncate
        self.truncate_fails = truncate_fails
        monkeypatch.setattr(os, "write", self.write)
        monkeypatch.setattr(os, "ftruncate", self.ftruncate)

    def write(self, fd: int, data: bytes | memoryview) -> int:
        if self.room <= 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        n = self.real_write(fd, bytes(data[: min(self.chunk, self.room)]))
        self.room -= n
        return n

    def ftruncate(self, fd: int, size: int) -> None:
        if self.truncate_fails:
            raise OSError(errno.EIO, "I/O error")
        self.real_truncate(fd, size)


def test_an_append_written_in_pieces_is_whole(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    box = Outbox(tmp_path / "outbox.jsonl")
    Disk(monkeypatch, room=10_000, chunk=7)  # every write takes 7 bytes at most
    _add(box, "a1")
    box.close()
    monkeypatch.undo()
    again = Outbox(tmp_path / "outbox.jsonl")
    assert again.problem is None and [e.target for e in again.entries()] == ["a1"]
    again.close()


@pytest.mark.parametrize("truncate_fails", [False, True])
def test_a_full_disk_fails_the_enqueue_and_leaves_no_torn_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, truncate_fails: bool) -> None:
    path = tmp_path / "outbox.jsonl"
    box = Outbox(path)
    _add(box, "a1")
    before = path.read_bytes()
    disk = Disk(monkeypatch, room=30, truncate_fails=truncate_fails)  # part of one line
    with pytest.raises(OSError):
        _add(box, "a2")
    assert [e.target for e in box.entries()] == ["a1"] and box.next_seq == 2  # not enqueued
    if not truncate_fails:
        assert path.read_bytes() == before  # the part that was written is cut off again
    disk.room = 10_000  # space again: the next command goes after a clean last line
    assert _add(box, "a3") == 2
    box.fail(1, "invalid_transition", "No")
    box.close()
    monkeypatch.undo()
    again = Outbox(path)
    assert again.problem is None  # no torn line in the middle: nothing set aside
    assert [(e.seq, e.target, e.state) for e in again.entries()] == [
        (1, "a1", "failed"), (2, "a3", "queued")]
    again.close()


def test_a_full_disk_loses_no_fail_or_drop_note_for_good(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A note the disk can't take is logged, not raised: the command stays
    on disk as queued and is sent again (the server repeats its answer)."""
    path = tmp_path / "outbox.jsonl"
    box = Outbox(path)
    a, b = _add(box, "a1"), _add(box, "a2")
    Disk(monkeypatch, room=0)
    box.fail(a, "forbidden", "No")
    box.drop(b)
    assert [(e.seq, e.state) for e in box.entries()] == [(a, "failed")]
    box.close()
    monkeypatch.undo()
    again = Outbox(path)
    assert again.problem is None
    assert [(e.seq, e.state) for e in again.entries()] == [(a, "queued"), (b, "queued")]
    again.close()


def test_a_failed_compaction_keeps_the_outbox_working(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "outbox.jsonl"
    box = Outbox(path)
    keep = _add(box, "keep")
    seqs = [_add(box) for _ in range(100)]

    def full(path: Path, data: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(outbox_module, "atomic_write", full)
    for seq in seqs:
        box.drop(seq)  # compaction is due, and fails: the log stays as it is
    monkeypatch.undo()
    last = _add(box, "last")  # the file descriptor is still good
    box.close()
    again = Outbox(path)
    assert again.problem is None
    assert [e.seq for e in again.entries()] == [keep, last]
    again.close()


class SlowDisk:
    """fsync waits for the test to let it through (a disk busy with other
    sessions' writes); each call is counted."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import threading

        self.gate = threading.Event()
        self.calls = 0
        real = os.fsync

        def fsync(fd: int) -> None:
            self.calls += 1
            self.gate.wait(5)
            real(fd)

        monkeypatch.setattr(outbox_module.os, "fsync", fsync)


async def test_on_a_loop_the_fsync_runs_off_it_and_is_shared(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The app's loop (every session of the web UI, the server) must not wait
    for the disk: an enqueue returns once the line is written, its fsync runs
    in a worker thread, and commands enqueued meanwhile share the next one."""
    import asyncio

    path = tmp_path / "outbox.jsonl"
    box = Outbox(path)
    disk = SlowDisk(monkeypatch)
    _add(box, "a1")  # returns while its fsync is held up
    ticks = 0
    for _ in range(5):  # the loop keeps running meanwhile
        await asyncio.sleep(0.01)
        ticks += 1
    _add(box, "a2")
    _add(box, "a3")
    assert ticks == 5 and disk.calls == 1
    from store.outbox import _parse
    assert [e.target for e in _parse(path.read_bytes()).entries.values()] == ["a1", "a2", "a3"]
    disk.gate.set()
    await asyncio.wait_for(box.synced(), 10)
    assert disk.calls == 2  # a2 and a3 in one fsync, after a1's
    box.close()
    monkeypatch.undo()
    again = Outbox(path)
    assert [e.target for e in again.entries()] == ["a1", "a2", "a3"]
    again.close()


async def test_a_failed_background_fsync_writes_the_outbox_again_whole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    import asyncio

    path = tmp_path / "outbox.jsonl"
    box = Outbox(path)
    real = os.fsync
    failing = {"on": True}

    def fsync(fd: int) -> None:
        if failing["on"] and threading_name() != "MainThread":
            raise OSError(errno.EIO, "I/O error")
        real(fd)

    monkeypatch.setattr(outbox_module.os, "fsync", fsync)
    _add(box, "a1")
    await asyncio.wait_for(box.synced(), 10)
    assert "fsync failed" in caplog.text
    failing["on"] = False
    _add(box, "a2")
    await asyncio.wait_for(box.synced(), 10)
    box.close()
    monkeypatch.undo()
    again = Outbox(path)
    assert again.problem is None and [e.target for e in again.entries()] == ["a1", "a2"]
    again.close()


def threading_name() -> str:
    import threading

    return threading.current_thread().name
