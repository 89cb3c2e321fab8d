"""Crash-safe whole-file writes: a reader sees the old file or the new one,
never half of either."""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)


def fsync_dir(directory: Path) -> None:
    """Make a rename inside `directory` durable (the entry lives in the dir)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temp_path(path: Path) -> Path:
    """Where `atomic_write` of `path` writes before the rename."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def write_all(fd: int, data: bytes | memoryview) -> None:
    """`os.write` until every byte is written (a write may take only part)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def atomic_write(path: Path, data: bytes) -> None:
    """Write `data` to a temp file beside `path`, fsync it, rename it over
    `path` and fsync the directory. Same directory, so the rename is atomic."""
    atomic_write_parts(path, (data,))


def atomic_write_parts(path: Path, parts: Iterable[bytes | memoryview]) -> None:
    """`atomic_write` of the concatenation of `parts`, written one by one as
    they come (a generator may produce them meanwhile): never joined in
    memory. On any error `path` is untouched and the temp file is gone."""
    tmp = temp_path(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        try:
            for part in parts:
                write_all(fd, part)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def remove_stale_temps(path: Path) -> list[Path]:
    """Delete the temp files an interrupted `atomic_write` of `path` left
    (`.<name>.<pid>.tmp` beside it, by any process). Call it only while
    holding the claim on `path` (store.claims): then no live writer of
    `path` can own one. Other files are never touched. Returns those removed."""
    pattern = re.compile(rf"\.{re.escape(path.name)}\.\d+\.tmp")
    removed: list[Path] = []
    try:
        names = os.listdir(path.parent)
    except OSError:
        return removed
    for name in names:
        if pattern.fullmatch(name):
            stale = path.with_name(name)
            try:
                stale.unlink()
            except FileNotFoundError:
                continue
            except OSError as exc:
                log.warning("could not remove the stale temp file %s (%s)", stale, exc)
                continue
            log.info("removed a stale temp file %s", stale)
            removed.append(stale)
    return removed
