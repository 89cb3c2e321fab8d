"""The outbox: every user action as a durable command, in order.

An append-only JSON-lines log in its own small file, separate from the cache,
so enqueueing writes ~200 bytes and one fsync, whatever the cache size. Lines:

    {"op":"meta","client_id":..,"next_seq":..}   first line (after compaction too)
    {"op":"add", <Entry fields>}                  enqueue: fsynced before return
    {"op":"fail","seq":..,"error":..}             rejected: kept for the user to see
    {"op":"drop","seq":..}                        delivered or dismissed

A drop is not fsynced: if it is lost in a crash, the command is sent again and
the server answers the retry with its first answer (exactly once by
(client_id, seq)). The log is compacted with an atomic rewrite once it holds
mostly dead lines.

A torn last line (a crash in the middle of an enqueue that never returned) is
discarded. Any other unreadable content means the file is corrupt: it is
renamed aside (never deleted), `problem` says where, and a fresh outbox with a
new client_id starts, so new seqs can never collide with the lost ones.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any, Literal

import orjson

from store.atomic import atomic_write, fsync_dir
from store.claims import FileClaim

log = logging.getLogger(__name__)

State = Literal["queued", "sending", "failed"]


@dataclass
class Entry:
    """One queued command. `state` "sending" lives only in memory: after a
    restart such a command is simply sent again (idempotent)."""

    client_id: str
    seq: int
    name: str
    target: str | None
    args: dict[str, Any]
    base_version: int | None
    created_at: str
    state: State = "queued"
    error: dict[str, str] | None = None  # {"code", "message"} once failed

    def wire(self) -> dict[str, Any]:
        """The body of POST /api/commands."""
        return {
            "client_id": self.client_id,
            "seq": self.seq,
            "name": self.name,
            "target": self.target,
            "args": self.args,
            "base_version": self.base_version,
        }


@dataclass(frozen=True)
class OutboxProblem:
    """A corrupt outbox was set aside: tell the user, keep the file."""

    reason: str
    set_aside: Path
    lines: int  # how many lines it held (commands that may be lost)

    @property
    def message(self) -> str:
        return (
            "Some unsent changes could not be read back after a restart. "
            f"They were kept in {self.set_aside.name}; please check recent actions."
        )


@dataclass
class _Log:
    client_id: str
    next_seq: int = 1
    entries: dict[int, Entry] = field(default_factory=dict)
    lines: int = 0


class CorruptOutbox(ValueError):
    pass


class Outbox:
    """Durable, ordered commands of one user on one device. `path=None`: memory only."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self.problem: OutboxProblem | None = None
        self._claim: FileClaim | None = None
        self._fd: int | None = None
        self._log = _Log(client_id=str(uuid.uuid4()))
        if self.path is not None:
            self._claim = FileClaim(self.path)
            self._open(self.path)

    # Loading ------------------------------------------------------------
    def _open(self, path: Path) -> None:
        if path.exists():
            raw = path.read_bytes()
            try:
                self._log = _parse(raw)
            except CorruptOutbox as exc:
                aside = path.with_name(f"{path.name}.corrupt-{datetime.now(UTC):%Y%m%dT%H%M%S%f}")
                os.replace(path, aside)
                fsync_dir(path.parent)
                self.problem = OutboxProblem(str(exc), aside, raw.count(b"\n"))
                log.error("outbox %s is corrupt (%s); set aside as %s", path, exc, aside)
                self._log = _Log(client_id=str(uuid.uuid4()))
        self._rewrite()

    def _rewrite(self) -> None:
        """Atomically replace the file with just the live entries."""
        assert self.path is not None
        meta = {"op": "meta", "client_id": self._log.client_id, "next_seq": self._log.next_seq}
        lines = [_line(meta)]
        lines += [_line({"op": "add", **_stored(e)}) for e in self._log.entries.values()]
        lines += [
            _line({"op": "fail", "seq": e.seq, "error": e.error})
            for e in self._log.entries.values()
            if e.state == "failed"
        ]
        if self._fd is not None:
            os.close(self._fd)
        atomic_write(self.path, b"".join(lines))
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        self._log.lines = len(lines)

    def _append(self, record: Mapping[str, Any], *, durable: bool) -> None:
        if self._fd is None:
            return
        os.write(self._fd, _line(record))
        if durable:
            os.fsync(self._fd)
        self._log.lines += 1

    # API ----------------------------------------------------------------
    @property
    def client_id(self) -> str:
        return self._log.client_id

    @property
    def next_seq(self) -> int:
        """The seq the next `enqueue` will use."""
        return self._log.next_seq

    def enqueue(self, name: str, target: str | None, args: Mapping[str, Any],
                base_version: int | None, created_at: str) -> Entry:
        """Append a command; it is on disk when this returns."""
        entry = Entry(self._log.client_id, self._log.next_seq, name, target, dict(args),
                      base_version, created_at)
        self._append({"op": "add", **_stored(entry)}, durable=True)
        self._log.next_seq += 1
        self._log.entries[entry.seq] = entry
        return entry

    def entries(self) -> list[Entry]:
        """All commands in order (queued, sending and failed)."""
        return list(self._log.entries.values())

    def pending(self) -> list[Entry]:
        """Commands still to be delivered, in order."""
        return [e for e in self._log.entries.values() if e.state != "failed"]

    def first(self, n: int) -> list[Entry]:
        """The first `n` commands still to be delivered (cheap on long queues)."""
        return list(islice((e for e in self._log.entries.values() if e.state != "failed"), n))

    def failed(self) -> list[Entry]:
        return [e for e in self._log.entries.values() if e.state == "failed"]

    def get(self, seq: int) -> Entry | None:
        return self._log.entries.get(seq)

    def mark_sending(self, seq: int) -> None:
        entry = self._log.entries.get(seq)
        if entry is not None and entry.state == "queued":
            entry.state = "sending"

    def mark_queued(self, seq: int) -> None:
        entry = self._log.entries.get(seq)
        if entry is not None and entry.state == "sending":
            entry.state = "queued"

    def fail(self, seq: int, code: str, message: str) -> None:
        """The server refused it for good: keep it visible until dismissed."""
        entry = self._log.entries.get(seq)
        if entry is None:
            return
        entry.state = "failed"
        entry.error = {"code": code, "message": message}
        self._append({"op": "fail", "seq": seq, "error": entry.error}, durable=True)

    def drop(self, seq: int) -> None:
        """Delivered (or dismissed by the user)."""
        if self._log.entries.pop(seq, None) is None:
            return
        self._append({"op": "drop", "seq": seq}, durable=False)
        if self.path is not None and self._log.lines > 64 + 4 * len(self._log.entries):
            self._rewrite()

    def __len__(self) -> int:
        return len(self._log.entries)

    def close(self) -> None:
        if self._fd is not None:
            os.fsync(self._fd)
            os.close(self._fd)
            self._fd = None
        if self._claim is not None:
            self._claim.release()
            self._claim = None


def unsent(path: Path | str) -> bool:
    """Whether the outbox file at `path` still holds commands to deliver.
    Reads only (no claim: a live writer may have it open). A file that can't
    be read counts as holding some: unread commands are never thrown away."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        return False
    try:
        state = _parse(raw)
    except CorruptOutbox:
        return True
    return any(e.state != "failed" for e in state.entries.values())


def _stored(entry: Entry) -> dict[str, Any]:
    data = dict(vars(entry))  # shallow: it is serialized at once (asdict deep-copies)
    data["state"] = "failed" if entry.state == "failed" else "queued"
    return data


def _line(record: Mapping[str, Any]) -> bytes:
    return orjson.dumps(record) + b"\n"


def _parse(raw: bytes) -> _Log:
    lines = raw.split(b"\n")
    if lines and lines[-1] != b"":
        log.warning("outbox: discarding a torn last line (an enqueue interrupted by a crash)")
    lines = lines[:-1]  # the part after the last newline: empty or torn
    if not lines:
        raise CorruptOutbox("the outbox is empty or has no header")
    try:
        records = [orjson.loads(line) for line in lines]
    except orjson.JSONDecodeError as exc:
        raise CorruptOutbox(f"unreadable line: {exc}") from None
    head = records[0]
    if not isinstance(head, dict) or head.get("op") != "meta" \
            or not isinstance(head.get("client_id"), str):
        raise CorruptOutbox("missing header")
    state = _Log(client_id=head["client_id"], next_seq=int(head.get("next_seq") or 1))
    try:
        for rec in records[1:]:
            op = rec["op"]
            if op == "add":
                entry = Entry(**{k: v for k, v in rec.items() if k != "op"})
                state.entries[entry.seq] = entry
                state.next_seq = max(state.next_seq, entry.seq + 1)
            elif op == "fail":
                if rec["seq"] in state.entries:
                    failed = state.entries[rec["seq"]]
                    failed.state = "failed"
                    failed.error = rec["error"]
            elif op == "drop":
                state.entries.pop(rec["seq"], None)
            else:
                raise CorruptOutbox(f"unknown line {op!r}")
    except (KeyError, TypeError) as exc:
        raise CorruptOutbox(f"malformed line: {exc!r}") from None
    state.entries = dict(sorted(state.entries.items()))
    return state
