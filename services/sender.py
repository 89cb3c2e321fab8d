"""Drains the outbox to the server, in order: batched, else pipelined.

When nothing is in flight and more than one command is waiting, the first
`batch` (100) go in ONE request, POST /api/commands/batch: the server runs
them in that order (usually in one transaction) and answers each as POST
/api/commands would, so a long offline queue drains in a few round trips.
Otherwise commands go one per POST /api/commands: commands on the same
record strictly one after another, and so does any command that reads what
an earlier one writes (the store knows: each pending command's replay
recorded what it read and wrote, `Store.must_wait`); independent commands
travel in parallel, up to `window` (16) in flight. While a batch is in
flight, only commands independent of all of its commands may go alongside
(one by one), so nothing overtakes a command it depends on.

A server without the batch route (404: an older server) gets single commands
from then on; 413 (too many / too large) halves the batch; any other refusal
of a batch as a whole resends its commands one by one, so each still gets
its own verdict. Exactly-once comes from (client_id, seq), so resending after
any doubt is safe.

Every outcome is classified in one place, `classify`:
  applied                      -> acknowledge (the store confirms and drops it)
  4xx with a code (rejected)   -> reject: roll back, tell the user, keep it in
                                  the failed list until dismissed
  401                          -> stop: the user must sign in again
  no answer: network error, timeout; or "busy / not reachable behind the
  gateway": 408, 425, 429, 502, 503, 504
                               -> keep it; retry with backoff, at once on
                                  reconnect, for as long as it takes (being
                                  offline is normal)
  an answer that makes no sense for this command: 500 and the other 5xx, a
  2xx that isn't "applied", a 3xx, a 4xx without a code (our server always
  sends one: this is a proxy's or a firewall's page, e.g. 413 for a body too
  large; it may well say the same every time), an unreadable body
                               -> keep it and retry with backoff, but count a
                                  strike for the command ("stuck" verdicts).
After `give_up_after` (5) strikes in a row for one command, it can't succeed:
it is rejected with code "stuck" (rolled back, in the failed list with a
message) instead of blocking the commands after it for ever. A strike only
counts while the link to the server is up (`link_up`: the listener has heard
our server); otherwise the odd answers come from whatever sits in between
(a captive portal's page, a proxy while the server is away) and say nothing
about the command. Nor does one in a batch: a batch may fail as a whole for
one command's sake (its transaction), so after such an answer the commands
go one by one (`_solo`) until one is applied, and each alone gets its own
strikes. A send that fails in a way nobody planned for (a bug) is logged and
counts as a strike too: the sender never dies of it.

A retry waits for its backoff delay or a wake (reconnect, a new action),
whichever comes first; a wake that came while the failed request was in
flight counts (`wakes`, a counter read when the request starts), so a
reconnect during a request that then times out isn't forgotten.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from services.api import Api, ApiError, NetworkError
from services.backoff import backoff
from store.outbox import Entry
from store.store import Store

log = logging.getLogger(__name__)

Kind = Literal["applied", "rejected", "retry", "auth"]
TRANSIENT = frozenset({408, 425, 429})  # "try later": never a strike
GATEWAY = frozenset({502, 503, 504})  # the server behind is away or busy: never a strike
Answer = tuple[int | None, Any]  # (HTTP status or None: no answer, JSON body)
GIVE_UP_AFTER = 5  # strikes in a row before a command is "stuck"
STUCK_MESSAGE = "The server couldn't process this change after several tries: {}"


class _Unreadable:
    """The body of an answer that came but could not be read."""

    def __repr__(self) -> str:
        return "UNREADABLE"


UNREADABLE: Any = _Unreadable()
BATCH = 100  # commands per batch request (the server takes up to 200)
NO_BATCH_ROUTE = frozenset({404, 405})


@dataclass(frozen=True)
class Verdict:
    kind: Kind
    code: str = ""
    message: str = ""
    strike: bool = False  # a retry that counts towards giving up (see above)


def classify(status: int | None, body: Any) -> Verdict:
    """What an answer means for a command: status None is no answer at all;
    body UNREADABLE an answer whose body could not be read (status may be
    None then, when even that is unknown)."""
    if body is UNREADABLE:
        return Verdict("retry", "bad_answer", "The server's answer couldn't be read.",
                       strike=True)
    if status is None:
        return Verdict("retry", "network", "No answer from the server.")
    data = body if isinstance(body, dict) else {}
    if 200 <= status < 300:
        if data.get("status") == "applied":
            return Verdict("applied")
        return Verdict("retry", "bad_answer", "The server sent an unexpected answer.",
                       strike=True)
    if status == 401:
        return Verdict("auth", str(data.get("code") or "unauthorized"),
                       str(data.get("message") or "Please sign in again."))
    if status in TRANSIENT or status in GATEWAY:
        return Verdict("retry", str(data.get("code") or f"http_{status}"),
                       str(data.get("message") or "The server is busy."))
    if status >= 500:
        return Verdict("retry", str(data.get("code") or f"http_{status}"),
                       str(data.get("message") or "The server had a problem."), strike=True)
    if 400 <= status < 500 and isinstance(data.get("code"), str):
        return Verdict("rejected", data["code"], str(data.get("message") or data["code"]))
    return Verdict("retry", f"http_{status}", f"Unexpected answer {status} from the server.",
                   strike=True)


class Sender:
    def __init__(self, store: Store, api: Api, *,
                 delays: Callable[[], Iterator[float]] = backoff,
                 on_auth_failed: Callable[[str], None] | None = None,
                 window: int = 16, batch: int = BATCH, give_up_after: int = GIVE_UP_AFTER,
                 link_up: Callable[[], bool] = lambda: True) -> None:
        self.store, self.api = store, api
        self.window = window
        self.batch = batch  # 1: never batch
        self.delays = delays  # a fresh retry schedule per call
        self.give_up_after = give_up_after
        self.link_up = link_up  # do odd answers come from our server? (strikes)
        self._strikes: dict[Hashable, int] = {}  # command -> odd answers in a row
        self.wakes = 0  # how many wakes so far: read it before a request (pause)
        self._solo = False  # a batch got odd answers: one by one until one is applied
        self._wake = asyncio.Event()
        self._allowed = asyncio.Event()
        self._allowed.set()
        self._on_auth_failed = on_auth_failed
        self.last_error: Verdict | None = None
        self.sent = 0
        self.batches = 0  # batch requests answered (tests, benchmarks)

    def hold(self) -> None:
        """Keep commands queued (e.g. the user's "work offline" switch)."""
        self._allowed.clear()

    @property
    def held(self) -> bool:
        return not self._allowed.is_set()

    def resume(self) -> None:
        self._allowed.set()
        self.wake()

    def wake(self) -> None:
        """Something to send, or the link is back: try now."""
        self.wakes += 1
        self._wake.set()

    async def allowed(self) -> None:
        """Until sending is allowed (not held)."""
        await self._allowed.wait()

    async def pause(self, delay: float, since: int | None = None) -> None:
        """Wait `delay` seconds, or less when woken (reconnect, new action).
        `since`: `wakes` when the failed request started; if a wake came
        after that (while it was in flight), don't wait at all."""
        self._wake.clear()
        if since is not None and self.wakes != since:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), delay)

    async def run(self) -> None:
        delays = self.delays()
        # request → the seqs it carries, in order
        flying: dict[asyncio.Task[list[Answer] | None], list[int]] = {}
        started: dict[asyncio.Task[list[Answer] | None], int] = {}  # request → wakes then
        try:
            while True:
                await self._allowed.wait()
                self._wake.clear()
                for entries in self._requests(flying):
                    for entry in entries:
                        self.store.outbox.mark_sending(entry.seq)
                    task = asyncio.create_task(self._send([e.wire() for e in entries]))
                    flying[task] = [e.seq for e in entries]
                    started[task] = self.wakes
                if not flying:
                    await self._wake.wait()
                    continue
                waker = asyncio.create_task(self._wake.wait())
                await asyncio.wait([*flying, waker], return_when=asyncio.FIRST_COMPLETED)
                waker.cancel()
                retry: int | None = None  # wakes when the earliest failed request started
                for task in [t for t in flying if t.done()]:
                    seqs, since = flying.pop(task), started.pop(task)
                    verdicts = self._land(seqs, _answers(task, len(seqs)))
                    if any(v.kind == "auth" for v in verdicts):
                        return
                    if any(v.kind == "retry" for v in verdicts):
                        retry = since if retry is None else min(retry, since)
                    elif verdicts:
                        delays = self.delays()
                if retry is not None:
                    if await self._back_off(flying, next(delays), retry):
                        return
                    started.clear()  # _back_off let everything land
        finally:
            for task, seqs in flying.items():
                task.cancel()
                for seq in seqs:
                    self.store.outbox.mark_queued(seq)

    def _requests(self, flying: Mapping[Any, list[int]]) -> list[list[Entry]]:
        """What to send now: one batch of the first commands when nothing is
        in flight and more than one waits, else single commands (`_ready`)."""
        if self.batch > 1 and not flying and not self._solo:
            first = self.store.head(self.batch)
            if len(first) > 1:
                return [first]
        return [[entry] for entry in self._ready({s for seqs in flying.values() for s in seqs})]

    def _ready(self, flying: set[int]) -> list[Entry]:
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

    async def _send(self, wires: list[dict[str, Any]]) -> list[Answer] | None:
        """One request: an answer per command, in order; None: the batch was
        not taken as such (resend its commands, as the batch size now says)."""
        if len(wires) == 1:
            return [await answer_of(self.api.command(wires[0]))]
        status, body = await answer_of(self.api.commands(wires))
        if status is None or body is UNREADABLE:
            return [(status, body)] * len(wires)
        if status == 200:
            results = body.get("results") if isinstance(body, dict) else None
            if isinstance(results, list) and len(results) == len(wires) and all(
                    isinstance(r, dict) and isinstance(r.get("status_code"), int)
                    for r in results):
                self.batches += 1
                return [(r["status_code"], r.get("body")) for r in results]
            log.warning("sender: unexpected batch answer; sending one by one from now on")
            self.batch = 1
            return None
        if status == 401 or status >= 500 or status in TRANSIENT:
            return [(status, body)] * len(wires)  # the same for each: sign in / retry
        if status == 413:  # too many commands, or too many bytes: smaller batches
            self.batch = len(wires) // 2
            log.info("sender: batch too large; now %d per request", self.batch)
            return None
        if status not in NO_BATCH_ROUTE:
            log.warning("sender: batch refused (%s %s); sending one by one from now on",
                        status, body)
        self.batch = 1  # an older server (404), or it won't take batches: one by one
        return None

    def _land(self, seqs: list[int], answers: list[Answer] | None) -> list[Verdict]:
        """Settle a request's answers in order (None: requeue, resend at once).
        Each command stays "sending" until its own answer is settled, so a
        rollback earlier in a batch doesn't warn about later ones the server
        has already answered."""
        if answers is None:
            for seq in seqs:
                self.store.outbox.mark_queued(seq)
            self.wake()
            return []
        verdicts: list[Verdict] = []
        for i, (seq, (status, body)) in enumerate(zip(seqs, answers, strict=True)):
            self.store.outbox.mark_queued(seq)
            verdict = self._settle(seq, status, body, batched=len(seqs) > 1)
            verdicts.append(verdict)
            if verdict.kind == "auth":  # one notice; the rest wait for a new sign-in
                for rest in seqs[i + 1:]:
                    self.store.outbox.mark_queued(rest)
                break
        return verdicts

    def judge(self, key: Hashable, verdict: Verdict) -> Verdict:
        """Count a strike for command `key` (its seq; another outbox's
        commands: (client_id, seq)) and turn the last one into a "stuck"
        rejection (see the module's docstring)."""
        if verdict.kind == "retry" and verdict.strike and self.link_up():
            strikes = self._strikes[key] = self._strikes.get(key, 0) + 1
            if strikes >= self.give_up_after:  # it can't succeed: don't block the rest
                log.warning("sender: giving up on %s after %d odd answers: %s",
                            key, strikes, verdict)
                verdict = Verdict("rejected", "stuck", STUCK_MESSAGE.format(verdict.message))
        if verdict.kind != "retry":
            self._strikes.pop(key, None)
        return verdict

    def _settle(self, seq: int, status: int | None, body: Any, batched: bool = False) -> Verdict:
        """Classify one answer and act on it (the only place that does)."""
        verdict = classify(status, body)
        if batched and verdict.strike:
            self._solo = True  # whose fault? ask one by one
        else:
            verdict = self.judge(seq, verdict)
        if verdict.kind == "applied" and not batched:
            self._solo = False
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

    async def _back_off(self, flying: dict[asyncio.Task[list[Answer] | None], list[int]],
                        delay: float, since: int) -> bool:
        """Let what is in flight land, then wait `delay` (or until woken:
        reconnect, new action; also by a wake since `since`, while the failed
        request was in flight) before trying again. True: signed out, stop."""
        resend = False
        for task, seqs in list(flying.items()):
            await asyncio.wait([task])
            flying.pop(task)
            answers = _answers(task, len(seqs))
            resend = resend or answers is None
            if any(v.kind == "auth" for v in self._land(seqs, answers)):
                return True
        if resend:  # a batch to split up: no reason to wait
            return False
        await self.pause(delay, since)
        return False


async def answer_of(request: Awaitable[Answer]) -> Answer:
    """The (status, body) of a command request as `classify` reads it: (None,
    None) when no answer came, body UNREADABLE when one came that can't be
    read (BadAnswer)."""
    try:
        return await request
    except NetworkError:
        return None, None
    except ApiError as exc:
        return exc.status, UNREADABLE


def _answers(task: asyncio.Task[list[Answer] | None], n: int) -> list[Answer] | None:
    """A finished request's answers. A failure nobody planned for (a bug, an
    exception from an unexpected place) is logged and counts as an unreadable
    answer for each of its `n` commands: retried, and struck."""
    try:
        return task.result()
    except Exception:
        log.exception("sender: a send failed unexpectedly; keeping its commands for a retry")
        return [(None, UNREADABLE)] * n
