"""Storage survives kill -9 mid-write.

- The client's TinyDB cache and outbox: a writer process queues, acknowledges,
  applies events and flushes in a loop and is killed at random moments; every
  time the files load without damage, every command it reported queued (and
  not acknowledged) is still queued, and the cache holds at least what it
  reported flushed.
- The server's SQLite database: test_faults kills the server (kill -9) five
  times mid-write and then checks it with `check_database` (integrity,
  gap-free log, head = last event) besides the acknowledged writes.
"""

from __future__ import annotations

import random
import subprocess
import sys
import threading
import time
from pathlib import Path

from domain.commands import Actor
from store.store import Store

WRITER = Path(__file__).with_name("store_writer.py")
ROOT = Path(__file__).resolve().parents[2]
ACTOR = Actor("op-storage-test", "operator")
KILLS = 8


def run_and_kill(directory: Path, seconds: float) -> list[str]:
    proc = subprocess.Popen([sys.executable, str(WRITER), str(directory)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout or []), daemon=True)
    reader.start()
    deadline = time.monotonic() + 120
    while not any(ln.startswith("F") for ln in list(lines)) and proc.poll() is None \
            and time.monotonic() < deadline:
        time.sleep(0.05)  # wait until it is really writing
    time.sleep(seconds)
    proc.kill()
    proc.wait(30)
    reader.join(30)
    assert proc.returncode == -9, (proc.returncode, lines[-5:])
    return [ln.strip() for ln in lines]


def test_client_files_survive_kill_9_mid_flush(tmp_path: Path) -> None:
    rng = random.Random(66)
    queued: set[int] = set()
    acked: set[int] = set()
    flushed = 0
    for round_ in range(KILLS):
        lines = run_and_kill(tmp_path, rng.uniform(0.05, 1.5))
        for ln in lines:
            kind, _, value = ln.partition(" ")
            if kind == "Q":
                queued.add(int(value))
            elif kind in ("a", "A"):  # "a": acknowledging (it may or may not have landed)
                acked.add(int(value))
            elif kind == "F":
                flushed = max(flushed, int(value))
        store = Store(ACTOR, directory=tmp_path)
        try:
            problems = [m for m in store.messages if m.kind == "problem"]
            assert not problems, (round_, problems)
            seqs = [e.seq for e in store.queued()]
            assert seqs == sorted(set(seqs)), seqs
            missing = (queued - acked) - set(seqs)
            assert not missing, (round_, sorted(missing))
            assert store.cursor is not None and store.cursor >= flushed, (store.cursor, flushed)
        finally:
            store.close()
    assert len(queued) > KILLS and flushed > 0
