"""Drains the outbox to POST /api/commands, in order, pipelined.

Commands on the same record go strictly one after another, and so does any
command that reads what an earlier one writes (the store knows: each pending
command's replay recorded what it read and wrote, `Store.must_wait`).
Independent commands travel in parallel, up to `window` (16) in flight, so a long
offline queue drains in a few round trips' time, not one per command.
Exactly-once comes from (client_id, seq), so resending after any doubt is safe.

Every outcome is classified in one place, `classify`:
  applied                      -> acknowledge (the store confirms and drops it)
  4xx with a code (rejected)   -> reject: roll back, tell the user, keep it in
                                  the failed list until dismissed
  401                          -> stop: the user must sign in again
  network error, timeout, 5xx, 408, 429, or a 4xx without a code (a proxy)
                               -> keep it; retry with backoff, at once on reconnect
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from services.api import Api, NetworkError
from services.backoff import backoff
from store.outbox import Entry
from store.store import Store

log = logging.getLogger(__name__)

Kind = Literal["applied", "rejected", "retry", "auth"]
TRANSIENT = frozenset({408, 425, 429})


@dataclass(frozen=True)
class Verdict:
    kind: Kind
    code: str = ""
    message: str = ""


def classify(status: int | None, body: Any) -> Verdict:
    """What an answer (status None: no answer at all) means for a command."""
    if status is None:
        return Verdict("retry", "network", "No answer from the server.")
    data = body if isinstance(body, dict) else {}
    if 200 <= status < 300:
        if data.get("status") == "applied":
            return Verdict("applied")
        return Verdict("retry", "bad_answer", "The server sent an unexpected answer.")
    if status == 401:
        return Verdict("auth", str(data.get("code") or "unauthorized"),
                       str(data.get("message") or "Please sign in again."))
    if status >= 500 or status in TRANSIENT:
        return Verdict("retry", str(data.get("code") or f"http_{status}"),
                       str(data.get("message") or "The server is busy."))
    if 400 <= status < 500 and isinstance(data.get("code"), str):
        return Verdict("rejected", data["code"], str(data.get("message") or data["code"]))
    return Verdict("retry", f"http_{status}", f"Unexpected answer {status} from the server.")


class Sender:
    def __init__(self, store: Store, api: Api, *,
                 delays: Callable[[], Iterator[float]] = backoff,
                 on_auth_failed: Callable[[str], None] | None = None,
                 window: int = 16) -> None:
        self.store, self.api = store, api
        self.window = window
        self._delays = delays
        self._wake = asyncio.Event()
        self._allowed = asyncio.Event()
        self._allowed.set()
        self._on_auth_failed = on_auth_failed
        self.last_error: Verdict | None = None
        self.sent = 0

    def hold(self) -> None:
        """Keep commands queued (e.g. the user's "work offline" switch)."""
        self._allowed.clear()

    def resume(self) -> None:
        self._allowed.set()
        self.wake()

    def wake(self) -> None:
        """Something to send, or the link is back: try now."""
        self._wake.set()

    async def run(self) -> None:
        delays = self._delays()
        flying: dict[int, asyncio.Task[tuple[int | None, Any]]] = {}
        try:
            while True:
                await self._allowed.wait()
                self._wake.clear()
                for entry in self._ready(flying):
                    self.store.outbox.mark_sending(entry.seq)
                    flying[entry.seq] = asyncio.create_task(self._post(entry.wire()))
                if not flying:
                    await self._wake.wait()
                    continue
                waker = asyncio.create_task(self._wake.wait())
                await asyncio.wait([*flying.values(), waker],
                                   return_when=asyncio.FIRST_COMPLETED)
                waker.cancel()
                retry: Verdict | None = None
                for seq in [s for s, t in flying.items() if t.done()]:
                    status, body = flying.pop(seq).result()
                    self.store.outbox.mark_queued(seq)
                    verdict = self._settle(seq, status, body)
                    if verdict.kind == "auth":
                        return
                    if verdict.kind == "retry":
                        retry = verdict
                    else:
                        delays = self._delays()
                if retry is not None and await self._back_off(flying, next(delays)):
                    return
        finally:
            for task in flying.values():
                task.cancel()
            for seq in flying:
                self.store.outbox.mark_queued(seq)

    def _ready(self, flying: dict[int, asyncio.Task[tuple[int | None, Any]]]) -> list[Entry]:
        """Queued commands that may go now: in order, within the window, and
        not waiting for an earlier unanswered command they depend on."""
        ready: list[Entry] = []
        earlier: list[int] = []
        for entry in self.store.head(self.window * 4):
            if len(flying) + len(ready) >= self.window:
                break
            if entry.seq not in flying and not any(
                    self.store.must_wait(e, entry.seq) for e in earlier):
                ready.append(entry)
            earlier.append(entry.seq)
        return ready

    async def _post(self, wire: dict[str, Any]) -> tuple[int | None, Any]:
        try:
            return await self.api.command(wire)
        except NetworkError:
            return None, None

    def _settle(self, seq: int, status: int | None, body: Any) -> Verdict:
        """Classify one answer and act on it (the only place that does)."""
        verdict = classify(status, body)
        if verdict.kind == "applied":
            self.store.acknowledge(seq, body)
            self.sent += 1
            self.last_error = None
        elif verdict.kind == "rejected":
            self.store.reject(seq, verdict.code, verdict.message)
            self.last_error = None
        elif verdict.kind == "auth":
            self.last_error = verdict
            if self._on_auth_failed is not None:
                self._on_auth_failed(verdict.message)
        else:
            self.last_error = verdict
            self.store.requeued(seq)
            log.info("sender: keeping seq %s for later: %s", seq, verdict)
        return verdict

    async def _back_off(self, flying: dict[int, asyncio.Task[tuple[int | None, Any]]],
                        delay: float) -> bool:
        """Let what is in flight land, then wait `delay` (or until woken:
        reconnect, new action) before trying again. True: signed out, stop."""
        for seq, task in list(flying.items()):
            status, body = await task
            flying.pop(seq)
            self.store.outbox.mark_queued(seq)
            if self._settle(seq, status, body).kind == "auth":
                return True
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), delay)
        return False
