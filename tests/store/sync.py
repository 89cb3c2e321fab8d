"""Drive a Store against a FakeServer the way services/ does over the wire."""

from __future__ import annotations

from domain import Actor
from store.store import Store
from testkit.fake_server import FakeServer


def deliver(store: Store, server: FakeServer, actor: Actor, count: int | None = None) -> None:
    """Send queued commands in order and classify each answer."""
    sent = 0
    while (entry := store.next_command()) is not None and (count is None or sent < count):
        status, body = server.command(actor, entry.wire())
        if body.get("status") == "applied":
            store.acknowledge(entry.seq, body)
        else:
            store.reject(entry.seq, body["code"], body["message"])
        sent += 1


def catch_up(store: Store, server: FakeServer, actor: Actor) -> None:
    """Receive every event after the store's cursor (bootstrap when needed)."""
    if store.needs_bootstrap:
        store.bootstrap(server.bootstrap(actor))
        return
    store.apply_events(server.events(actor, store.cursor or 0))


def sync(store: Store, server: FakeServer, actor: Actor) -> None:
    deliver(store, server, actor)
    catch_up(store, server, actor)
