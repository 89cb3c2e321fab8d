"""Binds the views' port (views.port.ClientPort) to the sync engine's
`services.client.Client`: its change batches, status and messages become
`Changed` updates; its outbox becomes the sync inspector's lists."""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from domain.commands import Actor, Snapshot
from domain.records import Entity, Record
from domain.staff import ONLINE_ONLY
from services.api import ApiError, NetworkError
from services.client import Client, Message
from views.components.actions import SAVED
from views.port import (
    Changed,
    Key,
    Link,
    Listener,
    LoginFailed,
    Notice,
    QueuedCommand,
    Result,
    ServerEvent,
    SyncInfo,
    TimelineEntry,
    TimelineUnavailable,
)

DRAIN_SECONDS = 5.0


class ServicesClient:
    """A `ClientPort` over one `services.client.Client`."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.suspended = False  # stopped, its session kept (see `suspend`)
        self.names: dict[int, str] = {}  # outbox seq -> command name, for our own words
        self.listeners: list[Listener] = []  # the views subscribed (see `dismiss`)

    @property
    def actor(self) -> Actor:
        return self.client.actor

    @property
    def user(self) -> Record:
        return self.client.user

    def view(self) -> Snapshot:
        return self.client.view

    def is_pending(self, entity: Entity, id: str) -> bool:
        return self.client.is_pending(entity, id)

    def sync_info(self) -> SyncInfo:
        c = self.client
        failed = tuple(
            QueuedCommand(
                e.seq, e.name, e.target, (e.error or {}).get("message") or "refused", e.args
            )
            for e in c.failed()
        )
        return SyncInfo(
            link=Link(c.status),
            queued=tuple(QueuedCommand(e.seq, e.name, e.target) for e in c.queued()),
            failed=failed,
            cursor=c.cursor,
            last_event=describe_event(c.last_event),
        )

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        def changes(batch: Mapping[Key, Any]) -> None:
            # sync=True: a batch may also be an acknowledgement that cleared
            # a card's waiting mark
            listener(Changed(keys=frozenset(batch), sync=True))

        def status(_: object) -> None:
            listener(Changed(sync=True))

        def events(batch: list[dict[str, Any]]) -> None:
            listener(Changed(events=tuple(ServerEvent.of(e) for e in batch)))

        def message(m: Message) -> None:
            gone = m.kind == "problem" and m.code == "signed_out"
            listener(Changed(sync=True, notices=self.notices(m), signed_out=gone))

        def resync() -> None:
            # events were missed for good: views built from them start over
            listener(Changed(reset=True, sync=True))

        self.listeners.append(listener)
        offs = [
            lambda: self.listeners.remove(listener),
            self.client.on_change(changes),
            self.client.on_resync(resync),
            self.client.on_status(status),
            self.client.on_message(message),
            self.client.on_events(events),
        ]

        def unsubscribe() -> None:
            for off in offs:
                off()

        return unsubscribe

    def notices(self, m: Message) -> tuple[Notice, ...]:
        name = self.names.get(m.seq, "") if m.seq is not None else ""
        if m.kind in ("success", "rollback") and m.seq is not None:
            self.names.pop(m.seq, None)  # the command is settled
        if m.kind == "rollback" and m.seq is not None:
            failed = next((f for f in self.sync_info().failed if f.seq == m.seq), None)
            return (Notice(m.text, ok=False, failed=failed),)
        if m.kind != "success":
            return (Notice(m.text, ok=False),)
        if name in SAVED:
            text = SAVED[name]
            return (Notice(text),) if text else ()
        return (Notice(m.text),)

    async def dispatch(self, name: str, target: str | None, args: dict[str, Any]) -> Result:
        if name in ONLINE_ONLY:  # never into the outbox (a password on disk)
            return await self.account(name, target, args)
        d = await self.client.dispatch(name, target, args)
        if d.ok and d.seq is not None:
            self.names[d.seq] = name
        if d.ok:
            return Result(ok=True, record=d.record)
        code = d.error.code if d.error is not None else ""
        return Result(ok=False, message=d.message or "That can't be done right now.", code=code)

    async def account(self, name: str, target: str | None, args: dict[str, Any]) -> Result:
        try:
            status, body = await self.client.account(name, target, args)
        except NetworkError:
            return Result(ok=False, code="offline", message=(
                "Can't reach the server: passwords are only handed out and changed "
                "online. Try again when you're back online."))
        body = body if isinstance(body, dict) else {}
        if status == 200:
            return Result(ok=True, record=body.get("record"),
                          one_time_password=body.get("one_time_password"))
        return Result(ok=False, code=str(body.get("code") or ""),
                      message=str(body.get("message") or "That can't be done right now."))

    async def dismiss(self, seq: int) -> None:
        """The user has seen a failed command: forget it. The outbox changes
        no record and tells no one, so the views hear it from here."""
        if not any(e.seq == seq for e in self.client.failed()):
            return
        self.client.dismiss(seq)
        for listener in list(self.listeners):
            result = listener(Changed(sync=True))
            if inspect.isawaitable(result):
                await result

    async def timeline(self, appointment_id: str) -> list[TimelineEntry]:
        try:
            raw = await self.client.timeline(appointment_id)
        except NetworkError as exc:
            raise TimelineUnavailable(
                "Can't reach the server, so the history can't be loaded right now. "
                "Try again when you're back online."
            ) from exc
        except ApiError as exc:
            if exc.status == 404:
                raise TimelineUnavailable(
                    "The server has no history for this appointment yet — if it was just "
                    "booked, it appears once the booking is saved."
                ) from exc
            raise TimelineUnavailable(
                exc.message or "The history couldn't be loaded. Try again in a moment."
            ) from exc
        return [TimelineEntry.of(e) for e in raw]

    async def stop(self) -> None:
        # A web tab's store dies with its session: let waiting changes reach
        # the server first (briefly), then drop the token and cache, and the
        # outbox unless it still holds commands: those wait for this user's
        # next sign-in, in any tab (`connect` ... adopt_from).
        # (A suspended client can't send: it only forgets.)
        if not self.suspended:
            with contextlib.suppress(TimeoutError):
                await self.client.wait_idle(DRAIN_SECONDS)
        await self.client.logout(keep_unsent=True)

    async def suspend(self) -> None:
        # an installed app's session outlives the app: token, cache and
        # outbox stay for the next start (`resume`)
        self.suspended = True
        await self.client.stop()

    def foreground(self) -> None:
        self.client.wake()

    async def background(self) -> None:
        await self.client.save()


def describe_event(event: Mapping[str, Any] | None) -> str | None:
    if not event:
        return None
    return f"#{event.get('seq')} {event.get('cause') or event.get('op')} {event.get('entity')}"


async def connect(
    server_url: str, username: str, password: str, session_dir: str | None, **options: Any
) -> ServicesClient:
    """Sign in and start syncing; LoginFailed carries a friendly reason.
    `session_dir` is this tab's folder among the others' (views.app): what a
    closed tab of the same user left unsent there is sent first. `options`
    go to `Client.start` (tests: listener timings)."""
    others = str(Path(session_dir).parent) if session_dir is not None else None
    try:
        client = await Client.start(
            server_url, username, password, data_dir=session_dir, adopt_from=others, **options
        )
    except NetworkError as exc:
        raise LoginFailed(
            f"Can't reach {server_url} — check the address and your connection."
        ) from exc
    except ApiError as exc:
        # the server's words are written for people; fall back to ours
        raise LoginFailed(exc.message or "Signing in didn't work. Try again.") from exc
    return ServicesClient(client)


async def resume(
    server_url: str, username: str, data_dir: str, **options: Any
) -> ServicesClient | None:
    """The user's saved session on this device, started offline-first (its
    cache on screen at once, syncing when the server answers); None when
    there is none (never signed in here, or logged out)."""
    try:
        client = await Client.start(server_url, username, None, data_dir=data_dir, **options)
    except ApiError:  # no saved session: sign in
        return None
    return ServicesClient(client)
