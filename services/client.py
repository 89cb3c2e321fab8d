"""`Client`: one signed-in user's client, composed of store + api + listener
+ sender + a background cache flusher. The views bind to this.

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
    client.view -> OptimisticView  a domain Snapshot of what to show:
        .get(entity, id) -> Record | None, .all(entity) -> Iterator[Record],
        .is_pending(entity, id) -> bool ("syncing" mark), .pending_ids(entity)
    client.is_pending(entity, id) -> bool;  client.get(entity, id) -> Record | None

    await client.dispatch(name, target=None, args=None) -> Dispatched
    client.dispatch_now(name, target=None, args=None) -> Dispatched   (same, sync)
        Runs domain.apply on the current view at once. Dispatched.ok False:
        nothing was queued; .message / .error.code say why (show it now).
        ok True: queued durably, the view already shows it (.record), and
        subscribers were notified before this returns.

    client.subscribe(entity, id, callback) -> RecordSubscription
    client.watch(Query(entity, where, order_by=None, name=""), callback) -> QuerySubscription
        callback(Delta(entity, added, updated, removed)) once per change batch,
        only when that record / that query's results changed. sub.rows() gives
        a query's current records sorted; sub.ids its id set; sub.cancel().
    client.on_change(callback) -> unsubscribe
        callback({(entity, id): (before, after)}) for every visible change batch.
    client.on_events(callback) -> unsubscribe
        callback([event, ...]) with the raw server events {seq, entity, id, op,
        version, data, cause} of each batch, after the store applied them.

    await client.timeline(appointment_id) -> list[dict]
        One appointment's history from the server (not cached: it needs the
        network). Raises ApiError (404 not_found: not visible) / NetworkError.

    client.status -> "online" | "reconnecting" | "offline"
    client.transport -> "websocket" | "polling" | "none"
    client.on_status(callback(status)) -> unsubscribe
    client.messages -> list[Message]; client.on_message(callback(Message)) -> unsubscribe
        Message(kind "success" | "rollback" | "conflict" | "problem", text, code, seq);
        problems: code "cache_corrupt", "outbox_corrupt", "signed_out"
    client.queued() -> list[Entry]   commands waiting (name, target, args, seq, state, created_at)
    client.failed() -> list[Entry]   refused commands (entry.error = {code, message})
    client.dismiss(seq)              forget a failed command
    client.hold_sending() / client.resume_sending()   keep commands queued ("work offline")
    client.cursor -> int | None;  client.last_event -> dict | None
    client.signed_out -> bool        the server refused our token: sign in again

    await client.wait_idle(timeout)  until the outbox is empty (tests, "syncing…" UI)
    await client.stop()              stop syncing, flush, release files (keeps the session)
    await client.logout()            stop, then delete this user's token, cache and outbox
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from domain.commands import Actor
from domain.records import Entity, Record
from services import session as sessions
from services.api import Api, ApiError
from services.listener import Link, Listener, Transport
from services.sender import Sender
from store.cache import Key
from store.messages import Message
from store.outbox import Entry
from store.store import Dispatched, Store
from store.subscriptions import Callback, Query, QuerySubscription, RecordSubscription
from store.view import Change, OptimisticView

log = logging.getLogger(__name__)

__all__ = ["Client", "Dispatched", "Message", "Query"]


class Client:
    def __init__(self, session: sessions.Session, store: Store, api: Api, *,
                 flush_interval: float = 0.5, **listener_options: Any) -> None:
        self.session, self.store, self.api = session, store, api
        self.flush_interval = flush_interval
        self.signed_out = False
        self.sender = Sender(store, api, on_auth_failed=self._auth_failed)
        self.listener = Listener(store, api, on_online=self.sender.wake,
                                 on_auth_failed=self._auth_failed, **listener_options)
        self._tasks: list[asyncio.Task[None]] = []
        self._stopped = False

    @classmethod
    async def start(cls, server_url: str, username: str, password: str | None = None, *,
                    data_dir: Path | str | None = None, timeout: float = 10.0,
                    **options: Any) -> Client:
        root = Path(data_dir) if data_dir is not None else None
        api = Api(server_url, timeout=timeout)
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
        await client._begin()
        return client

    async def _begin(self) -> None:
        if self.store.needs_bootstrap:
            with contextlib.suppress(ApiError):  # offline: the listener keeps trying
                self.store.bootstrap(await self.api.bootstrap())
        for job in (self.listener.run, self.sender.run, self._flusher):
            self._tasks.append(asyncio.create_task(job(), name=f"tandem-{job.__name__}"))

    # Reading -----------------------------------------------------------------
    @property
    def user(self) -> dict[str, Any]:
        return self.session.user

    @property
    def actor(self) -> Actor:
        return self.store.actor

    @property
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
        return self.listener.last_event

    def queued(self) -> list[Entry]:
        return self.store.queued()

    def failed(self) -> list[Entry]:
        return self.store.failed()

    def dismiss(self, seq: int) -> None:
        self.store.dismiss(seq)

    # Acting --------------------------------------------------------------------
    def dispatch_now(self, name: str, target: str | None = None,
                     args: Mapping[str, Any] | None = None) -> Dispatched:
        result = self.store.dispatch(name, target, args)
        if result.ok:
            self.sender.wake()
        return result

    async def dispatch(self, name: str, target: str | None = None,
                       args: Mapping[str, Any] | None = None) -> Dispatched:
        return self.dispatch_now(name, target, args)

    def hold_sending(self) -> None:
        self.sender.hold()

    def resume_sending(self) -> None:
        self.sender.resume()

    # Asking the server ----------------------------------------------------------
    async def timeline(self, appointment_id: str) -> list[dict[str, Any]]:
        return await self.api.timeline(appointment_id)

    # Subscribing ---------------------------------------------------------------
    def subscribe(self, entity: Entity, id: str, callback: Callback) -> RecordSubscription:
        return self.store.subscribe(entity, id, callback)

    def watch(self, query: Query, callback: Callback) -> QuerySubscription:
        return self.store.watch(query, callback)

    def on_change(self, callback: Callable[[Mapping[Key, Change]], None]) -> Callable[[], None]:
        return self.store.on_change(callback)

    def on_events(
        self, callback: Callable[[list[dict[str, Any]]], None]
    ) -> Callable[[], None]:
        return self.listener.on_events(callback)

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
        """Persist the cache off the UI path, at most every flush_interval."""
        while True:
            await asyncio.sleep(self.flush_interval)
            if self.store.dirty:
                try:
                    await asyncio.to_thread(self.store.flush)
                except OSError:
                    log.exception("could not save the cache; will retry")

    def _auth_failed(self, message: str) -> None:
        if not self.signed_out:
            self.signed_out = True
            self.store.tell(Message("problem", message, code="signed_out"))

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

    async def logout(self) -> None:
        await self.stop()
        sessions.forget(self.session)
