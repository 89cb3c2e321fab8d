"""The two-step flush (`prepare_flush` on the loop, the writer in a worker
thread): it writes the state at the moment of the copy, byte for byte what
`flush` would have written, keeps later changes dirty, and never replaces a
newer state on disk."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from domain.commands import Actor
from store import jsoncodec
from store.storage import PIECE, MemoryFileStorage, _dumps_in_pieces
from store.store import Store


def records(n: int, **extra: object) -> dict[str, dict[str, object]]:
    return {f"a{i}": {"id": f"a{i}", "version": 1, "note": "é \"quoted\"", **extra}
            for i in range(n)}


def test_pieces_are_the_bytes_of_one_dump() -> None:
    for sizes in ((0,), (1, 0, 3), (PIECE,), (PIECE + 1, 5), (3 * PIECE + 7, 0, PIECE * 2)):
        tables = [(f"t{k}", records(n, k=k)) for k, n in enumerate(sizes)]
        joined = b"".join(bytes(p) for p in _dumps_in_pieces(tables))
        assert joined == jsoncodec.dumps(dict(tables))


def test_the_writer_writes_the_copy_and_a_later_change_stays_dirty(tmp_path: Path) -> None:
    path = tmp_path / "db.json"
    storage = MemoryFileStorage(path)
    storage.write({"appointment": records(PIECE + 10), "_meta": {"state": {"cursor": 7}}})
    write = storage.prepare_flush()
    assert write is not None
    expected = jsoncodec.dumps(storage.data)
    # the loop carries on meanwhile: a record replaced, one added, the cursor moved
    storage.data["appointment"]["a0"] = {"id": "a0", "version": 2}
    storage.data["appointment"]["new"] = {"id": "new", "version": 1}
    storage.data["_meta"]["state"] = {"cursor": 8}
    storage.touch()
    with ThreadPoolExecutor(1) as worker:  # as the client's flusher: another thread
        assert worker.submit(write).result() is True
    assert path.read_bytes() == expected
    assert storage.dirty  # the later changes
    assert storage.flush()
    assert not storage.dirty
    assert jsoncodec.loads(path.read_bytes())["_meta"]["state"]["cursor"] == 8
    storage.close()


def test_an_older_copy_never_replaces_a_newer_flush(tmp_path: Path) -> None:
    path = tmp_path / "db.json"
    storage = MemoryFileStorage(path)
    storage.write({"t": {"1": {"v": 1}}})
    old = storage.prepare_flush()
    storage.write({"t": {"1": {"v": 2}}})
    assert storage.flush()
    assert old is not None and old() is False
    assert jsoncodec.loads(path.read_bytes()) == {"t": {"1": {"v": 2}}}
    assert not storage.dirty
    storage.close()


def test_nothing_to_write(tmp_path: Path) -> None:
    storage = MemoryFileStorage(tmp_path / "db.json")
    assert storage.prepare_flush() is None  # clean
    storage.write({"t": {}})
    write = storage.prepare_flush()
    assert write is not None and write() is True
    assert storage.prepare_flush() is None
    storage.close()
    memory = MemoryFileStorage(None)
    memory.write({"t": {}})
    assert memory.prepare_flush() is None and not memory.dirty


def test_a_store_reopens_from_a_two_step_flush(tmp_path: Path) -> None:
    store = Store(Actor("op", "operator"), directory=tmp_path)
    store.bootstrap({"cursor": 3, "clients": [{"id": "c1", "version": 1, "first_name": "A"}]})
    write = store.prepare_flush()
    assert write is not None and write()
    assert not store.dirty
    store.cache.storage._flushed = store.cache.storage._generation  # close without flushing
    store.close()
    again = Store(Actor("op", "operator"), directory=tmp_path)
    assert again.cursor == 3
    assert again.view.get("client", "c1") == {"id": "c1", "version": 1, "first_name": "A"}
    again.close()
