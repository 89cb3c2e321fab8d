"""Files that read as JSON but are not what the store wrote, temp files an
interrupted write left, and a store that fails to open: the client still
starts (a bad cache re-bootstraps, a bad outbox is set aside and reported),
and a failed open gives both files back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import orjson
import pytest

from domain.commands import Actor, Command, Outcome, Settings, Snapshot
from store import outbox as outbox_module
from store.atomic import atomic_write, atomic_write_parts
from store.cache import Cache
from store.claims import is_claimed
from store.outbox import Outbox
from store.storage import MemoryFileStorage
from store.store import CACHE_FILE, OUTBOX_FILE, Store, domain_apply
from testkit.fake_server import NOW, OP, T1, FakeServer, appointment, business, view_state

GOOD_ADD = {"op": "add", "client_id": "x", "seq": 1, "name": "appointment.accept",
            "target": "a1", "args": {}, "base_version": None,
            "created_at": "2026-11-21T06:00:00Z", "state": "queued", "error": None}
HEAD = {"op": "meta", "client_id": "x", "next_seq": 2}


def lines(*records: object) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in records)


BAD_CACHES = {
    "cursor_text": b'{"_meta": {"state": {"cursor": "abc"}}}',
    "cursor_bool": b'{"_meta": {"state": {"cursor": true}}}',
    "state_list": b'{"_meta": {"state": [1]}}',
    "record_number": b'{"appointment": {"a1": 5}, "_meta": {"state": {"cursor": 3}}}',
    "record_list": b'{"staff": {"t1": [1]}, "_meta": {"state": {"cursor": 3}}}',
    "id_mismatch": b'{"appointment": {"a1": {"id": "a2", "version": 1}},'
                   b' "_meta": {"state": {"cursor": 3}}}',
    "id_number": b'{"client": {"1": {"id": 1, "version": 1}}, "_meta": {"state": {"cursor": 3}}}',
    "version_text": b'{"appointment": {"a1": {"id": "a1", "version": "2"}},'
                    b' "_meta": {"state": {"cursor": 3}}}',
    "tombstone": b'{"_deleted": {"appointment:a1": {}}, "_meta": {"state": {"cursor": 3}}}',
    "not_tables": b"[1, 2]",
}

BAD_OUTBOXES = {
    "next_seq_text": lines({**HEAD, "next_seq": "zz"}),
    "next_seq_bool": lines({**HEAD, "next_seq": True}),
    "created_at_words": lines(HEAD, {**GOOD_ADD, "created_at": "yesterday"}),
    "created_at_naive": lines(HEAD, {**GOOD_ADD, "created_at": "2026-11-21T06:00:00"}),
    "created_at_number": lines(HEAD, {**GOOD_ADD, "created_at": 5}),
    "args_list": lines(HEAD, {**GOOD_ADD, "args": [1]}),
    "seq_text": lines(HEAD, {**GOOD_ADD, "seq": "1"}),
    "seq_zero": lines(HEAD, {**GOOD_ADD, "seq": 0}),
    "name_missing": lines(HEAD, {k: v for k, v in GOOD_ADD.items() if k != "name"}),
    "target_number": lines(HEAD, {**GOOD_ADD, "target": 7}),
    "base_version_text": lines(HEAD, {**GOOD_ADD, "base_version": "3"}),
    "unknown_field": lines(HEAD, {**GOOD_ADD, "colour": "red"}),
    "state_words": lines(HEAD, {**GOOD_ADD, "state": "lost"}),
    "error_text": lines(HEAD, GOOD_ADD, {"op": "fail", "seq": 1, "error": "no"}),
    "drop_no_seq": lines(HEAD, GOOD_ADD, {"op": "drop"}),
    "line_number": lines(HEAD, 5),
    "line_null": lines(HEAD, GOOD_ADD, None),
}


@pytest.mark.parametrize("raw", BAD_CACHES.values(), ids=BAD_CACHES.keys())
def test_a_cache_of_the_wrong_shape_is_corrupt_and_rebootstraps(tmp_path: Path,
                                                                  raw: bytes) -> None:
    (tmp_path / CACHE_FILE).write_bytes(raw)
    store = Store(OP, directory=tmp_path, clock=lambda: NOW)
    assert store.cache.corrupt and store.needs_bootstrap
    assert [m.code for m in store.messages] == ["cache_corrupt"]
    assert all(list(store.view.all(e)) == [] for e in view_state(store))
    server = FakeServer(business())
    server.snap.put("appointment", appointment("a1"))
    store.bootstrap(server.bootstrap(OP))
    assert view_state(store) == server.visible(OP)
    store.close()
    again = Store(OP, directory=tmp_path, clock=lambda: NOW)  # the good copy replaced it
    assert not again.cache.corrupt and view_state(again) == server.visible(OP)
    again.close()


def test_a_cache_as_written_passes_the_checks(tmp_path: Path) -> None:
    cache = Cache(tmp_path / CACHE_FILE)
    cache.replace_all({"cursor": 4, "appointments": [appointment("a1")],
                       "staff": [{"id": "t1", "version": 2, "role": "therapist"}]})
    cache.apply_event({"seq": 5, "entity": "appointment", "id": "a1", "op": "delete",
                       "version": 2, "data": None, "cause": "x"})
    cache.storage.data["_default"] = {"1": {"any": "thing"}}  # a table of TinyDB's own
    cache.close()
    again = Cache(tmp_path / CACHE_FILE)
    assert not again.corrupt and again.cursor == 5
    assert again.get("staff", "t1") == {"id": "t1", "version": 2, "role": "therapist"}
    again.close()


@pytest.mark.parametrize("raw", BAD_OUTBOXES.values(), ids=BAD_OUTBOXES.keys())
def test_an_outbox_of_the_wrong_shape_is_set_aside_and_reported(tmp_path: Path,
                                                                  raw: bytes) -> None:
    (tmp_path / OUTBOX_FILE).write_bytes(raw)
    store = Store(T1, directory=tmp_path, clock=lambda: NOW)
    problem = store.outbox.problem
    assert problem is not None
    assert problem.set_aside.read_bytes() == raw  # kept whole, never silently lost
    assert [m.code for m in store.messages] == ["outbox_corrupt"]
    assert store.queued() == [] and store.failed() == []
    assert store.outbox.client_id != "x"  # new seqs can't collide with the set-aside ones
    store.close()
    again = Store(T1, directory=tmp_path, clock=lambda: NOW)  # a fresh, good outbox now
    assert again.outbox.problem is None and again.messages == []
    again.close()


def test_an_outbox_as_written_passes_the_checks(tmp_path: Path) -> None:
    raw = lines(HEAD, GOOD_ADD, {**GOOD_ADD, "seq": 2, "base_version": 3, "target": None,
                                 "args": {"x": [1]}, "created_at": "2026-11-21T06:00:00+08:00"},
                {"op": "fail", "seq": 1, "error": {"code": "c", "message": "m"}},
                {"op": "drop", "seq": 9})
    (tmp_path / OUTBOX_FILE).write_bytes(raw)
    box = Outbox(tmp_path / OUTBOX_FILE)
    assert box.problem is None
    assert [(e.seq, e.state) for e in box.entries()] == [(1, "failed"), (2, "queued")]
    assert box.next_seq == 3
    box.close()


def failing_apply(snap: Snapshot, actor: Actor, command: Command, now: datetime,
                  settings: Settings) -> Outcome:
    raise RuntimeError("a defect while replaying")


def test_a_store_that_fails_to_open_gives_both_files_back(tmp_path: Path) -> None:
    store = Store(T1, directory=tmp_path, clock=lambda: NOW)
    store.bootstrap(FakeServer(business()).bootstrap(T1))
    store.outbox.enqueue("appointment.accept", "a1", {}, None, "2026-11-21T06:00:00Z")
    store.close()
    with pytest.raises(RuntimeError):
        Store(T1, directory=tmp_path, apply=failing_apply)
    assert not is_claimed(tmp_path / CACHE_FILE)
    assert not is_claimed(tmp_path / OUTBOX_FILE)
    again = Store(T1, directory=tmp_path, apply=domain_apply, clock=lambda: NOW)
    assert [e.seq for e in again.queued()] == [1]  # nothing was lost on the way
    again.close()


def test_an_outbox_that_fails_to_open_gives_its_file_back(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    def full(path: Path, data: bytes) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(outbox_module, "atomic_write", full)
    with pytest.raises(OSError):
        Store(T1, directory=tmp_path)
    assert not is_claimed(tmp_path / OUTBOX_FILE)
    assert not is_claimed(tmp_path / CACHE_FILE)
    monkeypatch.undo()
    Store(T1, directory=tmp_path).close()


def test_a_failed_atomic_write_leaves_no_temp_file_and_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "db.json"
    atomic_write(path, b"old")

    def parts() -> Iterator[bytes]:
        yield b"new, half"
        raise ValueError("the serializer failed")

    with pytest.raises(ValueError):
        atomic_write_parts(path, parts())
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["db.json"]

    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "x").write_bytes(b"")
    with pytest.raises(OSError):  # the rename fails: a directory is in the way
        atomic_write(tmp_path / "dir", b"new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["db.json", "dir"]


STRANGERS = [".db.json.tmp", ".db.json.12a.tmp", "db.json.123.tmp", ".other.json.123.tmp",
             ".db.json.123.tmp.keep", "db.json.corrupt-20261121T000000000000"]


def test_opening_removes_our_stale_temp_files_only(tmp_path: Path) -> None:
    for name in [".db.json.123.tmp", ".db.json.4.tmp", *STRANGERS]:
        (tmp_path / name).write_bytes(b'{"client": {"c1": {"phone": "0917"}}}')
    storage = MemoryFileStorage(tmp_path / "db.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*STRANGERS, "db.json.lock"])
    storage.close()


def test_opening_an_outbox_removes_its_stale_temp_files(tmp_path: Path) -> None:
    (tmp_path / ".outbox.jsonl.77.tmp").write_bytes(b"half")
    (tmp_path / ".cache.json.77.tmp").write_bytes(b"the cache's: not the outbox's to remove")
    box = Outbox(tmp_path / OUTBOX_FILE)
    assert not (tmp_path / ".outbox.jsonl.77.tmp").exists()
    assert (tmp_path / ".cache.json.77.tmp").exists()
    box.close()


def test_a_memory_store_has_no_files_to_check(tmp_path: Path) -> None:
    store = Store(T1, directory=None)
    assert not store.cache.corrupt and store.outbox.problem is None
    store.close()
