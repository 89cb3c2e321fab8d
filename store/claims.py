"""One writer per file, ever.

The web UI runs many signed-in sessions in one process; two stores sharing a
cache or outbox file would overwrite each other's writes. A process-wide
registry refuses a second open of the same path, and an advisory `flock` on a
sidecar `.lock` file refuses a second process (the kernel drops it when a
process dies, even by kill -9, so a crashed client can restart)."""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path

_lock = threading.Lock()
_claimed: set[str] = set()


class AlreadyOpen(RuntimeError):
    """Another store (in this process or another) has this file open."""


class FileClaim:
    """Exclusive ownership of one data file until `release()`."""

    def __init__(self, path: Path) -> None:
        self.path = Path(os.path.realpath(path))
        key = str(self.path)
        with _lock:
            if key in _claimed:
                raise AlreadyOpen(f"{key} is already open in this process")
            _claimed.add(key)
        self._key = key
        self._fd: int | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            lockfile = self.path.with_name(self.path.name + ".lock")
            fd = os.open(lockfile, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise AlreadyOpen(f"{key} is open in another process") from None
            self._fd = fd
        except BaseException:
            with _lock:
                _claimed.discard(key)
            raise

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
        with _lock:
            _claimed.discard(self._key)


def is_claimed(path: Path) -> bool:
    with _lock:
        return os.path.realpath(path) in _claimed
