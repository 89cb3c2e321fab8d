from __future__ import annotations

import gc
import subprocess
import sys
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson
import pytest
from tinydb import Query

from store import storage as storage_module
from store.atomic import atomic_write_parts
from store.cache import Cache
from store.claims import AlreadyOpen
from store.storage import MemoryFileStorage
from store.store import CACHE_FILE, Store
from testkit.fake_server import NOW, OP, T1, FakeServer, appointment, business


def _path(place: Path | None, name: str) -> Path | None:
    return place / name if place is not None else None


def test_reads_and_writes_stay_in_memory_until_flush(place: Path | None) -> None:
    storage = MemoryFileStorage(_path(place, "db.json"))
    storage.write({"appointment": {"a1": {"id": "a1", "version": 1}}})
    assert storage.dirty
    assert storage.read() == {"appointment": {"a1": {"id": "a1", "version": 1}}}
    if place is not None:
        assert not (place / "db.json").exists()  # nothing on disk before flush
    storage.flush()
    assert not storage.dirty
    assert storage.flush() is False  # clean: no write
    storage.close()
    if place is not None:
        assert orjson.loads((place / "db.json").read_bytes())["appointment"]["a1"]["version"] == 1


def test_flushed_data_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "db.json"
    storage = MemoryFileStorage(path)
    storage.write({"t": {"1": {"x": 1}}})
    storage.close()  # close flushes
    again = MemoryFileStorage(path)
    assert again.read() == {"t": {"1": {"x": 1}}}
    assert not again.corrupt
    again.close()


def test_flush_leaves_no_temp_files_and_replaces_whole(tmp_path: Path) -> None:
    path = tmp_path / "db.json"
    storage = MemoryFileStorage(path)
    for n in range(3):
        storage.write({"t": {str(n): {"n": n}}})
        storage.flush()
    storage.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["db.json", "db.json.lock"]
    assert orjson.loads(path.read_bytes()) == {"t": {"2": {"n": 2}}}


class Paused:
    """Holds the flusher's file write (store.storage's atomic_write and
    atomic_write_parts) after its first bytes until `go` is set, so a test
    can change the data while the worker thread is in the middle of it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.started, self.go = threading.Event(), threading.Event()
        monkeypatch.setattr(storage_module, "atomic_write_parts", self.write_parts)
        monkeypatch.setattr(storage_module, "atomic_write", self.write)

    def write_parts(self, path: Path, parts: Iterable[bytes | memoryview]) -> None:
        def held() -> Iterator[bytes | memoryview]:
            for n, part in enumerate(parts):
                yield part
                if n == 0:
                    self.started.set()
                    assert self.go.wait(10)
        atomic_write_parts(path, held())

    def write(self, path: Path, data: bytes) -> None:
        self.write_parts(path, (data[:1], data[1:]))


@pytest.mark.parametrize("how", ["two_steps", "flush"])
def test_change_during_flush_stays_dirty(place: Path | None, how: str,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The app flushes from a worker thread (Store.prepare_flush on the loop,
    the writer in a thread) while the loop keeps changing the store: a
    change made after the copy, while the writer is still writing, is not
    in that write, stays dirty, and the next flush persists it."""
    store = Store(T1, directory=place, clock=lambda: NOW)
    server = FakeServer(business())
    server.snap.put("appointment", appointment("a1"))
    store.bootstrap(server.bootstrap(T1))
    paused = Paused(monkeypatch)
    with ThreadPoolExecutor(1) as worker:
        written = None
        if place is None:  # memory: nothing to write, at once
            assert (store.prepare_flush() if how == "two_steps" else store.flush()) in (None, False)
        elif how == "two_steps":
            write = store.prepare_flush()
            assert write is not None
            written = worker.submit(write)
        else:
            written = worker.submit(store.flush)
        if written is not None:
            assert paused.started.wait(10)  # the writer is mid-file now
        server.act(OP, "appointment.update", "a1", notes="changed meanwhile")
        store.apply_events(server.events(T1, store.cursor or 0))  # on the loop, meanwhile
        assert store.dirty
        paused.go.set()
        assert written is None or written.result() is True
    assert store.dirty  # the change came after the copy: not on disk yet
    if place is not None:
        on_disk = orjson.loads((place / CACHE_FILE).read_bytes())
        assert on_disk["appointment"]["a1"]["version"] == 1  # the write held the copy
    monkeypatch.undo()
    assert store.flush() is (place is not None)
    assert not store.dirty
    store.close()
    if place is not None:
        again = Store(T1, directory=place, clock=lambda: NOW)
        held = again.cache.get("appointment", "a1")
        assert held is not None and held["notes"] == "changed meanwhile"
        assert again.cursor == server.cursor
        again.close()


def test_corrupt_file_starts_empty_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "db.json"
    path.write_bytes(b'{"appointment": {"a1": {"id": ')
    storage = MemoryFileStorage(path)
    assert storage.corrupt
    assert storage.read() == {}
    storage.close()


def test_second_open_of_the_same_file_is_refused(tmp_path: Path) -> None:
    first = MemoryFileStorage(tmp_path / "db.json")
    with pytest.raises(AlreadyOpen):
        MemoryFileStorage(tmp_path / "db.json")
    with pytest.raises(AlreadyOpen):  # another spelling of the same path
        MemoryFileStorage(tmp_path / "." / "db.json")
    first.close()
    MemoryFileStorage(tmp_path / "db.json").close()  # free again after close


def test_another_process_cannot_open_it(tmp_path: Path) -> None:
    first = MemoryFileStorage(tmp_path / "db.json")
    code = (
        "import sys\nfrom store.storage import MemoryFileStorage\n"
        "from store.claims import AlreadyOpen\n"
        f"try:\n    MemoryFileStorage({str(tmp_path / 'db.json')!r})\n"
        "except AlreadyOpen:\n    sys.exit(3)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parents[2], check=False)
    assert done.returncode == 3
    first.close()


def test_cache_is_a_tinydb_with_string_ids(place: Path | None) -> None:
    cache = Cache(_path(place, "cache.json"))
    cache.put("appointment", {"id": "a1", "version": 1, "status": "pending"})
    cache.put("appointment", {"id": "a2", "version": 1, "status": "completed"})
    table = cache.table("appointment")
    assert table.get(doc_id="a1")["status"] == "pending"  # type: ignore[call-overload]
    assert [d["id"] for d in table.search(Query().status == "completed")] == ["a2"]
    cache.close()
    if place is not None:
        again = Cache(place / "cache.json")
        assert again.get("appointment", "a2") == {"id": "a2", "version": 1, "status": "completed"}
        again.close()


def _generation_of(obj: object) -> int | None:
    return next((g for g in range(3) if any(o is obj for o in gc.get_objects(g))), None)


def test_a_loaded_cache_goes_straight_to_the_oldest_gc_generation(tmp_path: Path) -> None:
    # Left young, the next young collections traverse the whole cache (five
    # tracked objects per record) in the middle of a cold start (bench device).
    records = {f"a{i}": {"id": f"a{i}", "version": 1, "service_ids": ["s1"]} for i in range(50)}
    (tmp_path / "db.json").write_bytes(orjson.dumps({"appointment": records}))
    storage = MemoryFileStorage(tmp_path / "db.json")
    try:
        loaded = storage.data["appointment"]["a7"]
        assert gc.is_tracked(loaded)
        assert _generation_of(loaded) == 2
        assert _generation_of(storage.data["appointment"]) == 2
    finally:
        storage.release()

