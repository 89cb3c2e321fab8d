"""4. Client: local apply + notify, durable enqueue, cold start, by cache size.

A therapist's on-disk store (real store.Store: TinyDB cache + outbox files)
holds N appointments (bootstrapped from the in-memory server twin of the
store tests) plus today's pending jobs. A tap is `store.dispatch
("appointment.accept", id)`, exactly what a view calls: domain.apply on the
optimistic view, durable enqueue (fsync), view update, subscribers notified.
Measured per tap: tap -> the "my appointments today" subscriber is called
(includes the enqueue), and the enqueue alone (timed around the outbox's
`enqueue`); apply + notify = the first minus the second. The server's answer
is then acknowledged (untimed) so the outbox stays as short as in real use.
Cold start: open the cache and outbox files and compute the first view
(that query's rows). Cache write: the whole cache file written once (what
the client's flusher does in a worker thread after changes), and the
longest single piece of it: the encoder holds the GIL for a piece, so that
is the longest the UI's event loop can be held up by a background write.

A booking is the operator's heavier tap: `appointment.create` checks each
therapist's availability and every booking near that day, so it is the one
that would grow with a long history if those reads were scans.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import pct
from bench.report import Result, figure
from store.storage import MemoryFileStorage, _dumps_in_pieces
from store.store import Store
from store.subscriptions import Query
from testkit.fake_server import DAY, NOW, OP, T1, FakeServer, appointment, business

TARGET_APPLY_MS, TARGET_ENQUEUE_MS = 2.0, 5.0


def _today(r: dict[str, Any]) -> bool:
    return r.get("date") == DAY and T1.id in (r.get("therapist_ids") or [])


def _store(path: Path) -> Store:
    return Store(T1, directory=path, clock=lambda: NOW)


def _time_enqueues(store: Store) -> list[float]:
    """From now on, each outbox enqueue's duration (ms) lands in the list."""
    enqueue_ms: list[float] = []
    real_enqueue = store.outbox.enqueue

    def timed_enqueue(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return real_enqueue(*args, **kwargs)
        finally:
            enqueue_ms.append((time.perf_counter() - t0) * 1000)

    store.outbox.enqueue = timed_enqueue  # type: ignore[method-assign]
    return enqueue_ms


def _tap(store: Store, server: FakeServer, notified: list[float], name: str, target: str,
         args: dict[str, Any]) -> float:
    """One tap: ms until the subscriber (appending to `notified`) was called.
    The server's answer is then acknowledged, untimed."""
    notified.clear()
    t0 = time.perf_counter()
    result = store.dispatch(name, target, args)
    if not result.ok or not notified:
        raise RuntimeError(f"{name} refused or not notified: {result.message}")
    entry = store.next_command()
    assert entry is not None
    _, body = server.command(store.actor, entry.wire())
    store.acknowledge(entry.seq, body)
    return (notified[0] - t0) * 1000


def measure(n: int, taps: int, folder: Path) -> dict[str, list[float]]:
    server = FakeServer(business(n))
    ids = []
    for i in range(taps):
        start = i * 4
        ids.append(f"tap{i}")
        server.snap.put("appointment", appointment(
            f"tap{i}", start=f"{start // 60:02d}:{start % 60:02d}",
            end=f"{(start + 3) // 60:02d}:{(start + 3) % 60:02d}"))
    store = _store(folder)
    store.bootstrap(server.bootstrap(T1))
    store.flush()

    notified: list[float] = []
    sub = store.watch(Query("appointment", _today, name="my appointments today"),
                      lambda delta: notified.append(time.perf_counter()))
    enqueue_ms = _time_enqueues(store)
    tap_ms: list[float] = []
    for id in ids:
        tap_ms.append(_tap(store, server, notified, "appointment.accept", id, {}))
    sub.cancel()
    write_ms, piece_ms = _time_cache_write(store.cache.storage)
    store.close()

    cold: list[float] = []
    for _ in range(3):
        t0 = time.perf_counter()
        again = _store(folder)
        rows = again.watch(Query("appointment", _today), lambda d: None).rows()
        cold.append((time.perf_counter() - t0) * 1000)
        assert len(rows) == taps
        again.close()
    apply_ms = [t - e for t, e in zip(tap_ms, enqueue_ms, strict=True)]
    return {"tap": tap_ms, "enqueue": enqueue_ms, "apply": apply_ms, "cold": cold,
            "write": write_ms, "piece": piece_ms}


def _time_cache_write(storage: MemoryFileStorage) -> tuple[list[float], list[float]]:
    """Three whole-file writes of the cache (ms) and the pieces of one
    serialization, each timed (ms)."""
    write_ms: list[float] = []
    for _ in range(3):
        storage.touch()
        t0 = time.perf_counter()
        storage.flush()
        write_ms.append((time.perf_counter() - t0) * 1000)
    tables = [(name, dict(table)) for name, table in storage.data.items()]
    piece_ms: list[float] = []
    pieces = _dumps_in_pieces(tables)
    while True:
        t0 = time.perf_counter()
        if next(pieces, None) is None:
            break
        piece_ms.append((time.perf_counter() - t0) * 1000)
    return write_ms, piece_ms


def measure_booking(n: int, taps: int, folder: Path) -> list[float]:
    """Operator books `taps` appointments today with `n` in the history:
    tap -> the day's subscriber called, minus the enqueue, in ms."""
    server = FakeServer(business(n))
    store = Store(OP, directory=folder, clock=lambda: NOW)
    store.bootstrap(server.bootstrap(OP))
    store.flush()
    notified: list[float] = []
    sub = store.watch(Query("appointment", lambda r: r.get("date") == DAY, name="today"),
                      lambda delta: notified.append(time.perf_counter()))
    enqueue_ms = _time_enqueues(store)
    out: list[float] = []
    for i in range(taps):
        start = (i // 2) * 7  # two therapists, 5-minute bookings, never clashing
        args = {"client_id": "c1", "service_ids": ["s1"], "therapist_ids": [f"t{1 + i % 2}"],
                "driver_id": "d1", "date": DAY, "location": "12 Rizal St",
                "start_time": f"{start // 60:02d}:{start % 60:02d}",
                "end_time": f"{(start + 5) // 60:02d}:{(start + 5) % 60:02d}"}
        out.append(_tap(store, server, notified, "appointment.create", f"book{i}", args))
    sub.cancel()
    store.close()
    return [t - e for t, e in zip(out, enqueue_ms, strict=True)]


def run(sizes: tuple[int, ...] = (1000, 10_000, 50_000), taps: int = 200,
        out_dir: Path | None = None, log: Callable[[str], None] = print) -> Result:
    res = Result("client")
    data: dict[int, dict[str, list[float]]] = {}
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix="tandem-local-") as tmp:
            data[n] = m = measure(n, taps, Path(tmp))
        log(f"  client: {n:,} cached appointments measured")
        res.add(f"{n:,} cached: apply + notify p50", pct(m["apply"], 50), "ms")
        res.add(f"{n:,} cached: apply + notify p99", pct(m["apply"], 99), "ms",
                TARGET_APPLY_MS, note=f"{taps} taps")
        res.add(f"{n:,} cached: durable enqueue p99", pct(m["enqueue"], 99), "ms",
                TARGET_ENQUEUE_MS, note=f"p50 {pct(m['enqueue'], 50):.2f} ms")
        res.add(f"{n:,} cached: tap -> view notified, incl. enqueue, p99", pct(m["tap"], 99),
                "ms", note=f"p50 {pct(m['tap'], 50):.2f} ms")
        res.add(f"{n:,} cached: cold start (median of 3)", pct(m["cold"], 50), "ms")
        res.add(f"{n:,} cached: cache write, whole file (median of 3)", pct(m["write"], 50),
                "ms", note="in the flusher's worker thread")
        res.add(f"{n:,} cached: cache write, longest piece", max(m["piece"]), "ms",
                note=f"{len(m['piece'])} pieces; the GIL is held for one")
        with tempfile.TemporaryDirectory(prefix="tandem-book-") as tmp:
            book = measure_booking(n, min(taps, 200), Path(tmp))
        res.add(f"{n:,} cached: booking apply + notify p99", pct(book, 99), "ms",
                TARGET_APPLY_MS, note=f"p50 {pct(book, 50):.2f} ms, {len(book)} bookings")
    if out_dir is not None and data:
        res.plots.append(_plot(data, out_dir / "client.png"))
    return res


def _plot(data: dict[int, dict[str, list[float]]], path: Path) -> Path:
    sizes = list(data)
    with figure(path, 1, 2, figsize=(10, 3.8)) as (_, (ax, bx)):
        for key, label in (("apply", "apply + notify"), ("enqueue", "durable enqueue")):
            ax.plot(sizes, [pct(data[n][key], 99) for n in sizes], marker="o", label=f"{label} p99")
            ax.plot(sizes, [pct(data[n][key], 50) for n in sizes], marker=".", ls="--",
                    label=f"{label} p50")
        ax.axhline(TARGET_APPLY_MS, color="tab:blue", ls=":", label="apply target p99")
        ax.axhline(TARGET_ENQUEUE_MS, color="tab:orange", ls=":", label="enqueue target p99")
        ax.set_xscale("log")
        ax.set_xlabel("cached appointments")
        ax.set_ylabel("ms")
        ax.set_title("Local action")
        ax.legend(fontsize=7)
        bx.plot(sizes, [pct(data[n]["cold"], 50) for n in sizes], marker="o")
        bx.set_xscale("log")
        bx.set_xlabel("cached appointments")
        bx.set_ylabel("ms")
        bx.set_title("Cold start (open cache + first view)")
    return path
