"""Live events into the store: websocket with resume, polling fallback.

- hello {token, after: cursor}; the server replays what we missed, then
  live events. Frames that arrive together are applied as one batch (one
  notification to views).
- The link is "online" once the connection has proved itself: a frame of
  the server's (an event, a ping) came, or it stayed open `settle` seconds
  (the server says nothing after the hello until it has an event or its
  first ping, 15 s later). Only then does the backoff start over: a server
  that accepts and hangs up at once (1013 overloaded) is retried ever more
  slowly, not five times a second, and never "online" (which would wake
  the sender each time).
- The connection drops: status "reconnecting", retry with jittered
  exponential backoff; after `offline_after` failed attempts in a row with
  HTTP failing too, status "offline" (still retrying). While nothing answers
  at all (the server is down, the phone has no signal) the tries come at
  most a second apart (`backoff.probes`), so the link is back within a
  second of the server; the growing backoff is for a server that answers.
- `{"type":"resync"}`, close 4410 or HTTP 410: the log no longer reaches our
  cursor: bootstrap again.
- No frame (not even the server's ping) for `idle_timeout` seconds: the
  connection is dead even if TCP doesn't know yet; drop it and reconnect.
- The websocket can't be opened but HTTP works (a proxy that blocks
  upgrades): poll GET /api/events every `poll_interval` seconds, trying the
  websocket again now and then.
- `reconnect()` (the app is back from the background, where the OS may have
  killed the socket without TCP knowing): drop the connection and open a new
  one now, skipping the idle timeout and whatever backoff delay is running.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any, Literal

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidMessage

from services.api import Api, ApiError, NetworkError
from services.backoff import backoff, probes
from store import jsoncodec
from store.changed import Changed, Link
from store.store import Store

log = logging.getLogger(__name__)

Transport = Literal["websocket", "polling", "none"]


class AuthFailed(Exception):
    """The server no longer accepts our token: sign in again."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _Resync(Exception):
    pass


class _Closed(Exception):
    pass


class Listener:
    def __init__(self, store: Store, api: Api, *, idle_timeout: float = 40.0,
                 poll_interval: float = 3.0, polls_per_ws_try: int = 5, offline_after: int = 3,
                 open_timeout: float = 5.0, ws_url: str | None = None, settle: float = 1.0,
                 rekick: float = 2.0,
                 delays: Callable[[], Iterator[float]] = backoff,
                 reach_delays: Callable[[], Iterator[float]] = probes,
                 on_online: Callable[[], None] | None = None,
                 on_auth_failed: Callable[[str], None] | None = None) -> None:
        self.store, self.api = store, api
        self.idle_timeout, self.poll_interval = idle_timeout, poll_interval
        self.polls_per_ws_try, self.offline_after = polls_per_ws_try, offline_after
        self.open_timeout = open_timeout
        self.settle = settle
        self.rekick = rekick  # `reconnect()` leaves a socket it opened this recently alone
        self.ws_url = ws_url or api.ws_url
        self._delays = delays
        self._reach_delays = reach_delays
        self._on_online = on_online
        self._on_auth_failed = on_auth_failed
        self.transport: Transport = "none"
        self._must_bootstrap = False
        self._ws: ClientConnection | None = None
        self._opened = False  # this websocket has proved itself (see the docstring)
        self._hurry = asyncio.Event()  # `reconnect()`: cut the current wait short
        self._kicked_at = float("-inf")  # loop time of the last `reconnect()`
        self._opened_at = float("-inf")  # loop time the current websocket opened

    # The link -----------------------------------------------------------
    # (the store holds it and publishes its changes with every other change)
    @property
    def status(self) -> Link:
        return self.store.link

    @property
    def last_event(self) -> dict[str, Any] | None:
        return self.store.last_event

    def on_status(self, callback: Callable[[Link], None]) -> Callable[[], None]:
        """`callback(status)` on each change of the link (a view of the
        store's changes; one that fails is logged)."""
        last = [self.status]

        def heard(_: Changed) -> None:
            if self.status != last[0]:
                last[0] = self.status
                _safely("status", callback, self.status)

        return self.store.listen(heard)

    def on_events(self, callback: Callable[[list[dict[str, Any]]], None]) -> Callable[[], None]:
        """`callback(events)` after each batch of server events is applied to
        the store, with the events as the server sent them (a view of the
        store's changes, `Changed.events`; one that fails is logged)."""

        def heard(changed: Changed) -> None:
            if changed.events:
                _safely("event", callback, [dict(e.raw) for e in changed.events])

        return self.store.listen(heard)

    def _set(self, status: Link | str, transport: Transport | None = None) -> None:
        if transport is not None:
            self.transport = transport
        if status == self.status:
            return
        log.info("link %s -> %s (%s)", self.status, status, self.transport)
        try:
            self.store.set_link(Link(status))
        except Exception:  # a screen that fails on it must not stop the link
            log.exception("status listener failed")
        if status == "online" and self._on_online is not None:
            self._on_online()

    # Main loop ------------------------------------------------------------
    async def run(self) -> None:
        """Keep the store live until cancelled (or the token is refused)."""
        delays, reach = self._delays(), self._reach_delays()
        failures = 0
        poll = False
        try:
            while True:
                opened = self._opened = False
                unreachable = False  # nothing answered: try again within a second
                try:
                    if self._must_bootstrap or self.store.needs_bootstrap:
                        await self._bootstrap()
                    if poll:
                        await self._poll()  # for a while, then try the websocket again
                        poll, failures = False, 0
                        continue
                    opened = await self._websocket()
                except _Resync:
                    self._must_bootstrap = True
                    continue
                except AuthFailed:
                    raise
                except ApiError as exc:
                    if exc.status == 401:
                        raise AuthFailed(exc.message) from exc
                    if exc.status == 410:
                        self._must_bootstrap = True
                        continue
                    log.info("listener: %r", exc)
                    poll = False
                    unreachable = isinstance(exc, NetworkError)
                except (OSError, TimeoutError, ConnectionClosed, InvalidHandshake, _Closed) as exc:
                    opened = opened or self._opened
                    log.info("listener: websocket ended or unavailable: %r", exc)
                    if not opened:
                        if await self.api.health():
                            poll = True  # HTTP works, the upgrade doesn't: poll
                            continue
                        # no answer at all (refused, reset, no route, timed
                        # out, no HTTP reply), as opposed to a server that
                        # answered the upgrade and then hung up
                        unreachable = isinstance(exc, (OSError, TimeoutError, InvalidMessage))
                except Exception:  # a bug must not end live updates for good
                    log.exception("listener: unexpected failure")
                if self._opened:  # it was up: start over
                    delays, reach, failures = self._delays(), self._reach_delays(), 0
                failures += 1
                self._set("offline" if failures >= self.offline_after else "reconnecting", "none")
                await self._pause(next(reach) if unreachable else next(delays))
        except AuthFailed as exc:
            self._set("offline", "none")
            if self._on_auth_failed is not None:
                self._on_auth_failed(exc.message)
        finally:
            self._set("offline", "none")

    async def _bootstrap(self) -> None:
        payload = await self.api.bootstrap()
        self._must_bootstrap = False
        self.store.bootstrap(payload)  # tells everyone to start over (`Changed.reset`)

    # Websocket ------------------------------------------------------------
    async def _websocket(self) -> bool:
        """One websocket session; returns when it ends (True: it had proved
        itself, see `_proved`)."""
        self._opened = False
        async with connect(self.ws_url, open_timeout=self.open_timeout, ping_interval=None,
                           close_timeout=2, max_size=2**24) as ws:
            self._ws = ws
            self._opened_at = asyncio.get_running_loop().time()
            try:
                await ws.send(jsoncodec.dumps({"type": "hello", "token": self.api.token,
                                            "after": self.store.cursor}).decode())
                await self._pump(ws)
            finally:
                self._ws = None
                if self.status == "online":
                    self._set("reconnecting")
                await close_promptly(ws)  # before `async with` would close it slowly
        return self._opened

    def _proved(self) -> None:
        """The websocket works: a server frame came, or it lasted `settle` s."""
        if not self._opened:
            self._opened = True
            self._set("online", "websocket")

    async def _pump(self, ws: ClientConnection) -> None:
        """Apply frames until the connection ends, or no frame comes for
        `idle_timeout` seconds (then return: the run loop reconnects).

        One task reads and applies: the frames already received when it
        wakes are applied as one batch. The idle deadline is one timer,
        re-armed only when it fires (from the time of the last frame), so a
        frame costs no task, timer or queue hand-off of its own."""
        loop = asyncio.get_running_loop()
        idle = self.idle_timeout
        ready = _message_ready(ws)
        last = loop.time()
        deadline = asyncio.timeout(None)
        watchdog: asyncio.TimerHandle | None = None
        proving = loop.call_later(min(self.settle, idle / 2), self._proved)

        def check() -> None:
            nonlocal watchdog
            now = loop.time()
            if now - last >= idle:
                watchdog = None
                deadline.reschedule(now)  # cancels the read; `async with` -> TimeoutError
            else:
                watchdog = loop.call_at(last + idle, check)

        try:
            async with deadline:
                watchdog = loop.call_at(last + idle, check)
                while True:
                    batch: list[dict[str, Any] | BaseException] = []
                    while True:  # the next frame, then those already here
                        try:
                            batch.append(jsoncodec.loads(await ws.recv(decode=False)))
                        except ConnectionClosed:
                            batch.append(_closed(ws))
                        except Exception as exc:  # noqa: BLE001 - a bad frame ends it
                            batch.append(exc)
                        if isinstance(batch[-1], BaseException) or not ready():
                            break
                    last = loop.time()
                    self._handle(batch)
        except TimeoutError:
            if deadline.expired():
                log.info("listener: no frame for %.0fs: connection is dead", idle)
                return
            raise
        finally:
            proving.cancel()
            if watchdog is not None:
                watchdog.cancel()

    def _handle(self, batch: list[dict[str, Any] | BaseException]) -> None:
        events: list[dict[str, Any]] = []
        try:
            for frame in batch:
                if isinstance(frame, BaseException):
                    raise frame
                kind = frame.get("type")
                if kind in ("event", "ping") and not self._opened:
                    self._proved()
                if kind == "event":
                    events.append(frame["event"])
                elif kind == "resync":
                    raise _Resync()
                elif kind == "error":
                    code = str(frame.get("code"))
                    if code in ("invalid_token", "token_expired", "unauthorized"):
                        raise AuthFailed(str(frame.get("message") or "Please sign in again."))
                    log.warning("listener: server error frame %s", frame)
        finally:
            if events:  # whatever came before the ending still counts
                self.store.apply_events(events)

    # Polling fallback -----------------------------------------------------
    async def _poll(self) -> None:
        """Poll /api/events for a while (HTTP works, the websocket doesn't)."""
        self._set("online", "polling")
        polls = 0
        while polls < self.polls_per_ws_try:
            if self._must_bootstrap or self.store.needs_bootstrap:
                await self._bootstrap()
            body = await self.api.events(self.store.cursor or 0)
            events = body.get("events") or []
            if events:
                self.store.apply_events(events)
            self.store.advance_cursor(int(body.get("cursor") or 0))
            if len(events) >= 500:
                continue  # more waiting: no pause
            polls += 1
            await self._pause(self.poll_interval)

    # Back from the background ------------------------------------------------
    def reconnect(self) -> None:
        """Connect again now: drop the websocket (it may be dead without TCP
        knowing: the OS froze the app) and cut a backoff or poll wait short.
        The server replays what we missed from our cursor. A second call right
        after (the app shown, then resumed: two events) leaves the socket the
        first one opened alone."""
        now = asyncio.get_running_loop().time()
        fresh = self._opened_at > self._kicked_at and now - self._kicked_at < self.rekick
        self._kicked_at = now
        self._hurry.set()
        ws = self._ws
        if ws is not None and not fresh:
            ws.transport.abort()  # not close(): no handshake to wait for on a dead link

    async def _pause(self, delay: float) -> None:
        """Sleep `delay` seconds, or less if `reconnect()` is called."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._hurry.wait(), delay)
        self._hurry.clear()

    async def close(self) -> None:
        if self._ws is not None:
            await close_promptly(self._ws)


async def close_promptly(ws: ClientConnection) -> None:
    """Close `ws`, reading (and dropping) what the server still sends meanwhile.

    websockets stops reading from the socket while more than `max_queue` (16)
    frames wait unread, and doesn't start again to close: the server's answer
    to our close frame then sits behind the frames nobody reads, and `close()`
    takes its whole `close_timeout` (then drops the connection, 1006). That
    is any close in the middle of a replay or a burst of events (the pump
    stopped first). Reading them while closing lets the handshake finish at
    once. When the pump is still reading (a `close()` from outside), the
    discarding reader steps aside (websockets allows one reader)."""

    async def discard() -> None:
        with contextlib.suppress(Exception):  # ConnectionClosed, ConcurrencyError
            async for _ in ws:
                pass

    drain = asyncio.create_task(discard())
    try:
        await ws.close()
    finally:
        drain.cancel()
        await asyncio.wait((drain,))  # a cancel of ours still reaches our caller


def _message_ready(ws: ClientConnection) -> Callable[[], bool]:
    """A test for "`ws.recv()` returns at once": a whole one-frame message is
    already buffered (websockets' assembler queue). Without that queue (another
    websockets version) it says no, and each frame is a batch of its own."""
    queue = getattr(getattr(getattr(ws, "recv_messages", None), "frames", None), "queue", None)
    if not isinstance(queue, deque):
        return lambda: False
    frames: deque[Any] = queue
    return lambda: bool(frames) and bool(frames[0].fin)


def _closed(ws: ClientConnection) -> BaseException:
    """Why the socket ended, as the exception the run loop understands."""
    code = ws.close_code
    reason = ws.close_reason or ""
    if code == 4401:
        return AuthFailed(reason or "Please sign in again.")
    if code == 4410:
        return _Resync()
    return _Closed(f"closed {code} {reason}")


__all__ = ["AuthFailed", "Link", "Listener", "NetworkError", "close_promptly"]


def _safely(what: str, callback: Callable[..., None], *args: Any) -> None:
    """Call an engine-level listener; one that fails is logged."""
    try:
        callback(*args)
    except Exception:
        log.exception("%s listener failed", what)
