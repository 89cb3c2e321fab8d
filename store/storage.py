"""A TinyDB storage that keeps the database in memory and persists it
atomically, when told to.

TinyDB's JSONStorage re-reads and rewrites the whole file on every operation
(~53 ms per update at 10k documents) and writes in place, so a crash
mid-write corrupts it. Here `read`/`write` touch only memory and mark the data
dirty; `flush()` serializes (store.jsoncodec) and replaces the file atomically. The
services layer flushes from a background flusher (debounced, at most every
0.5 s), so no UI tap waits for the disk: `prepare_flush()` on the event loop
copies the tables (shallow: ~1 ms at 50k records) and the returned writer
serializes and writes from a worker thread in pieces, so the loop keeps
running (one JSON call over a 50k-record cache holds the GIL for its whole length).
With `path=None` it is a pure in-memory storage.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import Any

from tinydb.storages import Storage

from store import jsoncodec
from store.atomic import atomic_write, atomic_write_parts, remove_stale_temps
from store.claims import FileClaim

log = logging.getLogger(__name__)

Tables = dict[str, dict[str, Any]]
# Checks a loaded document beyond "an object of objects": raises ValueError
# (with the reason) when it is not what the owner wrote.
Validate = Callable[[Tables], None]
# Records per JSON call when a copy is written: a piece holds the GIL (and so the UI
# loop) for ~4 ms at the stdlib encoder's ~15 µs per record (bench client: "longest piece").
PIECE = 250


@contextmanager
def gc_paused() -> Iterator[None]:
    """Building many dicts at once (a 50k-record cache) triggers the cyclic
    GC over and over while nothing can be garbage yet: 5x slower. Pause it.

    What was built is the long-lived state (five tracked objects per record:
    the dict and its lists), so it is sent to the oldest generation at once,
    by one collection of the young ones: left young, the next young
    collections traverse all of it, and then again (at 10k records 15-50 ms,
    then 130-220 ms, in the middle of a cold start: bench device). A real
    collection, not gc.freeze + unfreeze (which moves without traversing):
    the GC then counts what reached the oldest generation, so its full
    collections, which free the closed sessions' stores (reference cycles),
    keep coming in a process that opens many (the web UI's)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
            gc.collect(1)


class MemoryFileStorage(Storage):
    """In-memory TinyDB storage with atomic, batched persistence.

    `corrupt` is set when the file existed but could not be read, or was
    read but is not what was written (`validate` refused it): the data
    starts empty and the caller decides what to do (re-bootstrap)."""

    def __init__(self, path: Path | str | None = None, validate: Validate | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self.corrupt = False
        self._data: Tables = {}
        self._generation = 0  # bumped on every change
        self._flushed = 0  # generation last written to disk
        self._flush_lock = threading.Lock()
        self._claim: FileClaim | None = None
        if self.path is not None:
            self._claim = FileClaim(self.path)
            try:
                remove_stale_temps(self.path)  # ours alone now: no writer owns them
                self._load(self.path, validate)
            except BaseException:
                self.release()
                raise

    def _load(self, path: Path, validate: Validate | None) -> None:
        if not path.exists():
            return
        try:
            with gc_paused():
                data = jsoncodec.loads(path.read_bytes())
            if not isinstance(data, dict) or not all(isinstance(t, dict) for t in data.values()):
                raise ValueError("not a TinyDB document")
            if validate is not None:
                validate(data)
        except (ValueError, OSError) as exc:
            log.warning("cache file %s is unreadable (%s); starting empty", path, exc)
            self.corrupt = True
            return
        self._data = data

    # TinyDB's Storage interface: memory only.
    def read(self) -> Tables | None:
        return self._data

    def write(self, data: Tables) -> None:
        self._data = data
        self.touch()

    @property
    def data(self) -> Tables:
        """The live tables (entity -> id -> record) for fast direct access."""
        return self._data

    def touch(self) -> None:
        """Mark the data changed (callers that edit `data` in place)."""
        self._generation += 1

    @property
    def dirty(self) -> bool:
        return self._generation != self._flushed

    def flush(self) -> bool:
        """Write the data to disk if it changed; True when it wrote. Safe to
        call from a worker thread: the encoder serializes while holding the GIL, so
        it sees one consistent state."""
        if self.path is None:
            self._flushed = self._generation
            return False
        with self._flush_lock:
            generation = self._generation  # read before dumping: a later change stays dirty
            if generation == self._flushed:
                return False
            payload = jsoncodec.dumps(self._data)
            atomic_write(self.path, payload)
            self._flushed = generation
            return True

    def prepare_flush(self) -> Callable[[], bool] | None:
        """Flush in two steps, for a caller on the thread that changes the
        data (the event loop): here, a consistent copy of the data, one
        shallow copy per table (records are replaced when they change, never
        edited in place); returned, the function that writes that copy (call
        it from a worker thread; True when it wrote). None: nothing to write.
        The writer serializes in pieces of PIECE records, so the GIL is free
        between them; the bytes are those `flush` would write for the copy.
        A change made after this call stays dirty, and a writer never
        replaces a newer flush."""
        if self.path is None:
            self._flushed = self._generation
            return None
        generation = self._generation
        if generation == self._flushed:
            return None
        copy = [(name, dict(table)) for name, table in self._data.items()]
        path = self.path

        def write() -> bool:
            with self._flush_lock:
                if self._flushed >= generation:
                    return False  # a newer state is on disk already
                atomic_write_parts(path, _dumps_in_pieces(copy))
                self._flushed = generation
                return True

        return write

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self.release()

    def release(self) -> None:
        """Give up the file without writing (`close` flushes first)."""
        if self._claim is not None:
            self._claim.release()
            self._claim = None


def _dumps_in_pieces(tables: list[tuple[str, dict[str, Any]]]) -> Iterator[bytes | memoryview]:
    """The bytes of `jsoncodec.dumps(dict(tables))`, in order, from JSON calls
    of at most PIECE records each (a thread holds the GIL for one whole
    call). Not joined: views into each piece, for `atomic_write_parts`."""
    yield b"{"
    for n, (name, table) in enumerate(tables):
        yield (b"," if n else b"") + jsoncodec.dumps(name) + b":"
        if len(table) <= PIECE:
            yield jsoncodec.dumps(table)
            continue
        yield b"{"
        items = iter(table.items())
        first = True
        while chunk := dict(islice(items, PIECE)):
            if not first:
                yield b","
            first = False
            yield memoryview(jsoncodec.dumps(chunk))[1:-1]  # without its braces
        yield b"}"
    yield b"}"
