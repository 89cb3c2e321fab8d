"""`Client`: one signed-in user's client, composed of store + api + listener
+ sender + a background cache flusher. It is the views' port itself
(views/port.py `ClientPort`, a Protocol: services/ never imports views/);
views/binding.py only signs in (`connect`, `resume`) and words the failures.

Public API (stable; extend, don't change):

    client = await Client.start(server_url, username, password, data_dir=None)
        Sign in (or, with password=None and a data_dir, resume the saved
        session offline-first), open the store, bootstrap if needed (a
        network failure here is fine: it keeps trying), start syncing.
        data_dir=None keeps everything in memory (web UI sessions).
        Raises services.api.ApiError (e.g. code "bad_credentials") on a
        refused sign-in, NetworkError when the server can't be reached for
        a first sign-in.

    client.user -> dict          {id, username, role, name}
    client.actor -> Actor
    client.view() -> OptimisticView  a domain Snapshot of what to show:
        .get(entity, id) -> Record | None, .all(entity) -> Iterator[Record],
        .is_pending(entity, id) -> bool ("syncing" mark), .pending_ids(entity)
    client.is_pending(entity, id) -> bool;  client.get(entity, id) -> Record | None

    await client.dispatch(name, target=None, args=None) -> Dispatched
    client.dispatch_now(name, target=None, args=None) -> Dispatched   (same, sync)
        Runs domain.apply on the current view at once. Dispatched.ok False:
        nothing was queued; .message / .code say why (show it now).
        ok True: queued durably, the view already shows it (.record), and
        subscribers were notified before this returns (a client started with
        `answer_wait`: with the server's answer, services.with_answer).

    client.subscribe(listener) -> unsubscribe
        listener(Changed) once per batch of changes, whatever changed: records
        (.keys), the link or the outbox's lists (.sync), a resync (.reset),
        messages for the user (.notices, worded), the server's events of the
        batch (.events), a refused sign-in (.signed_out), a dispatch's own
        (.local). The one stream: everything below is a view of it.
    client.watch(Query(entity, where, order_by=None, name=""), callback) -> QuerySubscription
        callback(Delta(entity, added, updated, removed)) once per change batch,
        only when that query's results changed. sub.rows() gives its current
        records sorted; sub.ids its id set; sub.cancel().
    client.on_change(callback) -> unsubscribe
        callback({(entity, id): (before, after)}) for every visible change batch.

    await client.timeline(appointment_id) -> list[TimelineEntry]
        One appointment's history from the server (not cached: it needs the
        network). Raises TimelineUnavailable with words for the operator.

    client.status -> Link "online" | "reconnecting" | "offline"
    client.transport -> "websocket" | "polling" | "none"
    client.on_status(callback(status)) -> unsubscribe
    client.messages -> list[Message]; client.on_message(callback(Message)) -> unsubscribe
        Message(kind "success" | "rollback" | "conflict" | "problem", text, code, seq);
        problems: code "cache_corrupt", "outbox_corrupt", "signed_out", "sync_restarted"
        (a background task crashed; it was restarted);
        a rollback with code "stuck": the server kept failing on that command
    client.sync_info() -> SyncInfo   the link and the outbox's lists, for the sync page
    client.queued() -> list[Entry]   commands waiting (name, target, args, seq, state, created_at)
    client.failed() -> list[Entry]   refused commands (entry.error = {code, message})
    await client.dismiss(seq)        forget a failed command (subscribers hear it)
    client.hold_sending() / client.resume_sending()   keep commands queued ("work offline")
    client.wake() / foreground()     back from the background: reconnect and send now
        (no waiting for the idle timeout or a backoff delay)
    await client.save() / background()  write the cache to disk now (going to the
        background: the OS may end the app without another word)
    client.cursor -> int | None;  client.last_event -> dict | None
    client.signed_out -> bool        the server refused our token: sign in again

    await client.wait_idle(timeout)  until the outbox is empty (tests, "syncing…" UI)
    await client.stop() / suspend()  stop syncing, flush, release files (keeps the session)
    await client.logout()            log out: give waiting changes a moment to reach the
        server (unless stopped, or sending is held), stop, then delete this user's
        token, cache and everything else in its folder, but an outbox with commands
        still to send stays (alone) for this user's next sign-in to send: nothing
        unsent is dropped silently
    await client.logout(keep_unsent=False)  ... and the unsent commands go too
        (say so to the user first: `queued()` lists them)
    Client.start(..., adopt_from=root)  after signing in, send what this user's
        other sessions under root left unsent (see `adopt`), before our own
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx

from domain.commands import Actor
from domain.records import Entity, Record
from domain.staff import ONLINE_ONLY
from domain.words import about, refusal
from services import session as sessions
from services.api import Api, ApiError, NetworkError
from services.asking import ACCOUNT_OFFLINE, AccountAnswer, asked
from services.backoff import backoff
from services.listener import Listener, Transport
from services.sender import Sender, Verdict, answer_of, classify
from services.timeline import TimelineEntry, timeline
from services.with_answer import WithAnswer
from store.cache import Key
from store.changed import Link, RecordChange, SyncInfo
from store.claims import AlreadyOpen
from store.messages import Message
from store.outbox import Entry, Outbox
from store.store import OUTBOX_FILE, Dispatched, Store
from store.subscriptions import Callback, ChangeListener, Query, QuerySubscription
from store.view import OptimisticView

log = logging.getLogger(__name__)

__all__ = ["Client", "Dispatched", "Message", "Query"]

# Logging out gives waiting changes this long to reach the server first.
DRAIN_SECONDS = 5.0


class Client:
    def __init__(self, session: sessions.Session, store: Store, api: Api, *,
                 flush_interval: float = 0.5,
                 retry_delays: Callable[[], Iterator[float]] = backoff,
                 answer_wait: float = 0.0,
                 **listener_options: Any) -> None:
        self.session, self.store, self.api = session, store, api
        self.flush_interval = flush_interval
        # > 0: the server is in this process (main.py's own tabs); a
        # dispatch's change reaches `subscribe`rs with its answer
        self.answer_wait = answer_wait
        self.signed_out = False
        self.sender = Sender(store, api, delays=retry_delays, on_auth_failed=self._auth_failed,
                             link_up=lambda: self.listener.status == "online")
        self.listener = Listener(store, api, on_online=self.sender.wake,
                                 on_auth_failed=self._auth_failed, **listener_options)
        self.restart_delays: Callable[[], Iterator[float]] = backoff  # see _supervise
        self._tasks: list[asyncio.Task[None]] = []
        self._stopped = False
        self.username = str(session.user.get("username") or "")  # as signed in with
        self.adopt_from: Path | None = None

    @classmethod
    async def start(cls, server_url: str, username: str, password: str | None = None, *,
                    data_dir: Path | str | None = None, timeout: float = 10.0,
                    adopt_from: Path | str | None = None,
                    http_transport: httpx.AsyncBaseTransport | None = None,
                    **options: Any) -> Client:
        root = Path(data_dir) if data_dir is not None else None
        api = Api(server_url, timeout=timeout, transport=http_transport)
        try:
            session = None
            if password is None and root is not None:
                session = sessions.resume(root, api.base_url, username)
            if session is None:
                if password is None:
                    raise ApiError("signed_out", "Please sign in.", 401)
                session = await sessions.login(api, username, password, root)
            api.token = session.token
            store = Store(session.actor, directory=session.directory)
        except BaseException:
            await api.aclose()
            raise
        client = cls(session, store, api, **options)
        client.username = username  # the session's folder is named after it
        client.adopt_from = Path(adopt_from) if adopt_from is not None else None
        await client._begin()
        return client

    async def _begin(self) -> None:
        if self.store.needs_bootstrap:
            with contextlib.suppress(ApiError):  # offline: the listener keeps trying
                self.store.bootstrap(await self.api.bootstrap())
        # what other sessions left behind is older: it goes before our own
        send = self.sender.run if self.adopt_from is None else self._adopt_then_send
        for name, job in (("listener", self.listener.run), ("sender", send),
                          ("flusher", self._flusher)):
            self._tasks.append(asyncio.create_task(self._supervise(name, job),
                                                   name=f"tandem-{name}"))

    async def _supervise(self, name: str, job: Callable[[], Awaitable[None]],
                         calm: float = 60.0) -> None:
        """Run a long-lived job (listener, sender, flusher) until it returns
        (signed out) or is cancelled (stop). If it crashes (a bug), log it,
        tell the user once, and start it again after a backoff delay: live
        updates and sending must not end silently. A job that ran `calm`
        seconds since its last restart starts a fresh streak."""
        loop = asyncio.get_running_loop()
        delays = self.restart_delays()
        told = False
        while True:
            began = loop.time()
            try:
                await job()
                return
            except Exception:
                log.exception("%s crashed; restarting it", name)
            if loop.time() - began >= calm:
                delays, told = self.restart_delays(), False
            if not told:
                told = True
                try:  # a message listener may be what broke
                    self.store.tell(Message(
                        "problem", "Syncing ran into a problem and restarted. "
                        "Your changes are kept and will be sent.", code="sync_restarted"))
                except Exception:
                    log.exception("could not tell the user that %s restarted", name)
            await asyncio.sleep(next(delays))

    # Reading -----------------------------------------------------------------
    @property
    def user(self) -> dict[str, Any]:
        return self.session.user

    @property
    def actor(self) -> Actor:
        return self.store.actor

    def view(self) -> OptimisticView:
        return self.store.view

    def is_pending(self, entity: Entity, id: str) -> bool:
        return self.store.view.is_pending(entity, id)

    def get(self, entity: Entity, id: str) -> Record | None:
        return self.store.view.get(entity, id)

    @property
    def status(self) -> Link:
        return self.listener.status

    @property
    def transport(self) -> Transport:
        return self.listener.transport

    @property
    def messages(self) -> list[Message]:
        return self.store.messages

    @property
    def cursor(self) -> int | None:
        return self.store.cursor

    @property
    def last_event(self) -> dict[str, Any] | None:
        return self.store.last_event

    def sync_info(self) -> SyncInfo:
        return self.store.sync_info()

    def queued(self) -> list[Entry]:
        return self.store.queued()

    def failed(self) -> list[Entry]:
        return self.store.failed()

    async def dismiss(self, seq: int) -> None:
        self.store.dismiss(seq)

    # Acting --------------------------------------------------------------------
    def dispatch_now(self, name: str, target: str | None = None,
                     args: Mapping[str, Any] | None = None) -> Dispatched:
        # the sender first: its turn on the loop comes before the renders the
        # store's notification schedules, so the command is on its way while
        # the screens draw (bench ui); a refused dispatch wakes it for nothing
        self.sender.wake()
        return self.store.dispatch(name, target, args)

    async def dispatch(self, name: str, target: str | None = None,
                       args: Mapping[str, Any] | None = None) -> Dispatched:
        if name in ONLINE_ONLY:  # never into the outbox (a password on disk)
            answer = await self.account(name, target, args or {})
            return Dispatched(ok=answer.ok, record=answer.record, message=answer.message,
                              code=answer.code)
        return self.dispatch_now(name, target, args)

    def hold_sending(self) -> None:
        self.sender.hold()

    def resume_sending(self) -> None:
        self.sender.resume()

    def foreground(self) -> None:
        self.wake()

    async def background(self) -> None:
        await self.save()

    def wake(self) -> None:
        """The app is back in the foreground: its socket may have died while
        it was frozen. Reconnect now and try the queue now."""
        if self._stopped:
            return
        self.api.renew()
        self.listener.reconnect()
        self.sender.wake()

    async def save(self) -> None:
        """Write the cache to disk now, off the event loop (the outbox is
        always on disk). For the app going to the background."""
        if self._stopped:
            return
        write = self.store.prepare_flush()
        if write is not None:
            await asyncio.to_thread(write)

    # Asking the server ----------------------------------------------------------
    async def account(self, name: str, target: str | None,
                      args: Mapping[str, Any]) -> AccountAnswer:
        """Send a staff or account command that hands out or takes a password
        (staff.create, staff.reset_password, account.change_password) straight
        to the server, never through the outbox: a password must not wait on
        disk, and a one-time password is in the first answer only. Its
        changes reach the cache as events, like anyone else's."""
        wire = {"client_id": f"account-{uuid.uuid4()}", "seq": 1, "name": name,
                "target": target, "args": dict(args)}
        try:
            status, body = await self.api.command(wire)
        except NetworkError:
            return ACCOUNT_OFFLINE
        if status == 200 and name == "account.change_password":
            self.session.user["must_change_password"] = False
            self.session.save()  # a restart doesn't ask again
        return AccountAnswer.of(status, body)

    async def timeline(self, appointment_id: str) -> list[TimelineEntry]:
        return await timeline(self.api, appointment_id)

    async def upload_receipt(self, appointment_id: str, data: bytes) -> str:
        about = await asked(self.api.upload_receipt(appointment_id, data))
        return str(about["id"])

    async def receipt(self, appointment_id: str, receipt_id: str) -> bytes:
        return await asked(self.api.receipt(appointment_id, receipt_id))

    async def sales_csv(self, by: str, start: str | None, end: str | None) -> bytes:
        return await asked(self.api.sales_csv(by, start, end))

    # Subscribing ---------------------------------------------------------------
    def subscribe(self, listener: ChangeListener) -> Callable[[], None]:
        if not self.answer_wait:
            return self.store.listen(listener)
        held = WithAnswer(listener, self.answer_wait, asyncio.get_running_loop().call_later)
        off = self.store.listen(held)

        def unsubscribe() -> None:
            off()
            held.close()

        return unsubscribe

    def watch(self, query: Query, callback: Callback) -> QuerySubscription:
        return self.store.watch(query, callback)

    def on_change(self, callback: Callable[[Mapping[Key, RecordChange]], None]
                  ) -> Callable[[], None]:
        return self.store.on_change(callback)

    def on_message(self, callback: Callable[[Message], None]) -> Callable[[], None]:
        return self.store.on_message(callback)

    def on_status(self, callback: Callable[[Link], None]) -> Callable[[], None]:
        return self.listener.on_status(callback)

    # Lifecycle -----------------------------------------------------------------
    async def wait_idle(self, timeout: float = 10.0) -> None:
        """Until nothing is left to send (raises TimeoutError)."""
        async with asyncio.timeout(timeout):
            while self.store.next_command() is not None:
                await asyncio.sleep(0.01)

    async def _flusher(self) -> None:
        """Persist the cache off the UI path, at most every flush_interval:
        a consistent copy here, serialized and written in a worker thread
        (`Store.prepare_flush`), so the loop isn't frozen while it is."""
        while True:
            await asyncio.sleep(self.flush_interval)
            try:
                write = self.store.prepare_flush()  # None: nothing changed
                if write is not None:
                    await asyncio.to_thread(write)
            except Exception:  # a full disk, or a value that won't serialize
                log.exception("could not save the cache; will retry")

    def _auth_failed(self, message: str) -> None:
        if not self.signed_out:
            self.signed_out = True
            self.store.tell(Message("problem", message, code="signed_out"))

    async def suspend(self) -> None:
        """Stop syncing, keep this user's session on the device (token, cache,
        outbox) for the next start or sign-in: the app closing, or the server
        asking for the password again. Only `logout` forgets it."""
        await self.stop()

    async def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            _, stuck = await asyncio.wait(self._tasks, timeout=5)
            for task in stuck:
                log.error("task %s did not stop", task.get_name())
        with contextlib.suppress(Exception):
            await self.listener.close()
        try:
            self.store.close()
        finally:
            await self.api.aclose()

    async def logout(self, keep_unsent: bool = True) -> None:
        """Stop and forget this user on this device. Unsent commands stay
        (their outbox, alone) unless `keep_unsent=False` says to drop them."""
        if not self._stopped and not self.sender.held and self.listener.status == "online":
            # the server may still take them (briefly: the user is leaving);
            # offline there is no one to give them to: they wait in the outbox
            with contextlib.suppress(TimeoutError):
                await self.wait_idle(DRAIN_SECONDS)
        unsent = len(self.store.queued()) if not self._stopped else 0
        await self.stop()
        if unsent and not keep_unsent:
            log.warning("logout drops %d unsent command(s), as asked", unsent)
        sessions.forget(self.session, keep_unsent=keep_unsent)

    # What other sessions left unsent -------------------------------------------
    async def adopt(self, root: Path) -> int:
        """Send the commands this user's other sessions left unsent in the
        data dirs under `root` (a web tab closed, or signed out, while its
        outbox still held commands keeps that outbox: `logout(keep_unsent=True)`).

        Each outbox goes in its order, one command at a time, each with its
        own (client_id, seq): one that had reached the server already is
        answered from its first answer and applied once. A refusal is told
        like any rollback. An outbox still open (a live session's, or being
        adopted by another tab) is left to its owner. A folder whose outbox
        is sent is removed. Returns how many commands the server applied."""
        applied = 0
        own = self.session.directory
        for folder in sessions.left_behind(root, self.api.base_url, self.username, own):
            try:
                box = Outbox(folder / OUTBOX_FILE)
            except AlreadyOpen:
                continue
            try:
                if box.problem is not None:  # set aside, never deleted: say so
                    self.store.tell(Message("problem", box.problem.message, code="outbox_corrupt"))
                    continue
                for entry in box.pending():
                    verdict = await self._deliver(entry)
                    if verdict.kind == "auth":
                        return applied
                    if verdict.kind == "applied":
                        applied += 1
                    else:
                        subject = about(self.store.view, entry.name, entry.target, entry.args)
                        self.store.tell(Message(
                            "rollback", refusal(entry.name, verdict.message, subject),
                            code=verdict.code))
                    box.drop(entry.seq)
            finally:
                box.close()
            if box.problem is None:
                sessions.discard(folder, root)
        if applied:
            noun = "change" if applied == 1 else "changes"
            self.store.tell(Message("success", f"{applied} {noun} from an earlier window: saved."))
        return applied

    async def _deliver(self, entry: Entry) -> Verdict:
        """POST one left-behind command until the server answers for good.
        It runs before the sender starts, under the sender's rules: held while
        the user works offline, retried at once when the link is back."""
        delays = self.sender.delays()
        while True:
            await self.sender.allowed()
            since = self.sender.wakes  # a reconnect while it is in flight counts
            status, body = await answer_of(self.api.command(entry.wire()))
            verdict = self.sender.judge((entry.client_id, entry.seq), classify(status, body))
            if verdict.kind == "auth":
                self._auth_failed(verdict.message)
            if verdict.kind != "retry":
                return verdict
            await self.sender.pause(next(delays), since)

    async def _adopt_then_send(self) -> None:
        assert self.adopt_from is not None
        try:
            await self.adopt(self.adopt_from)
        except Exception:  # the user's own queue must go on regardless
            log.exception("could not send what an earlier session left unsent")
        await self.sender.run()
