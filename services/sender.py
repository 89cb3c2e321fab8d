"""Drains the outbox to POST /api/commands, in order, one at a time.

Strictly in order keeps commands on the same record one after another (the
server sees them in the order the user made them) and is simple to get right;
exactly-once comes from (client_id, seq), so resending after any doubt is safe.

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
                 on_auth_failed: Callable[[str], None] | None = None) -> None:
        self.store, self.api = store, api
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
        while True:
            await self._allowed.wait()
            entry = self.store.next_command()
            if entry is None:
                self._wake.clear()
                if self.store.next_command() is None:
                    await self._wake.wait()
                continue
            self.store.outbox.mark_sending(entry.seq)
            try:
                status, body = await self.api.command(entry.wire())
            except NetworkError:
                status, body = None, None
            finally:
                self.store.outbox.mark_queued(entry.seq)
            verdict = classify(status, body)
            if verdict.kind == "applied":
                self.store.acknowledge(entry.seq, body)
                self.sent += 1
                delays, self.last_error = self._delays(), None
            elif verdict.kind == "rejected":
                self.store.reject(entry.seq, verdict.code, verdict.message)
                delays, self.last_error = self._delays(), None
            elif verdict.kind == "auth":
                self.last_error = verdict
                if self._on_auth_failed is not None:
                    self._on_auth_failed(verdict.message)
                return
            else:
                self.last_error = verdict
                log.info("sender: keeping seq %s for later: %s", entry.seq, verdict)
                self._wake.clear()
                # Back off, but go at once when woken (reconnect, new action).
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), next(delays))
