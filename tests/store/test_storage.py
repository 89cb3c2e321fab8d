from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from tinydb import Query

from store.cache import Cache
from store.claims import AlreadyOpen
from store.storage import MemoryFileStorage


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


def test_change_during_flush_stays_dirty(place: Path | None) -> None:
    storage = MemoryFileStorage(_path(place, "db.json"))
    storage.write({"t": {}})
    generation_before = storage._generation
    storage.flush()
    storage.touch()
    assert storage.dirty and storage._generation == generation_before + 1
    storage.close()


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
