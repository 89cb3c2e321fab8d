"""Server events when no command is pending (the common case, which the view
answers without a replay): subscribers see exactly what changed, and the
cache keeps its own copy of what the events carried."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.commands import Actor
from store.cache import Key
from store.changed import RecordChange
from store.store import Store
from store.subscriptions import Delta, Query


def event(seq: int, id: str, version: int, op: str = "upsert", **data: Any) -> dict[str, Any]:
    return {"seq": seq, "entity": "client", "id": id, "op": op, "version": version,
            "data": {"id": id, "version": version, **data} if op == "upsert" else None,
            "cause": "client.update"}


def test_each_event_batch_is_one_exact_change_set() -> None:
    store = Store(Actor("op", "operator"))
    store.bootstrap({"cursor": 0, "clients": [{"id": "c1", "version": 1, "first_name": "A"}]})
    changes: list[Mapping[Key, RecordChange]] = []
    deltas: list[Delta] = []
    store.on_change(changes.append)
    store.watch(Query("client", lambda r: r.get("first_name") == "A"), deltas.append)

    store.apply_events([event(1, "c2", 1, first_name="A"), event(2, "c1", 2, first_name="B")])
    assert changes == [{
        ("client", "c2"): (None, {"id": "c2", "version": 1, "first_name": "A"}),
        ("client", "c1"): ({"id": "c1", "version": 1, "first_name": "A"},
                           {"id": "c1", "version": 2, "first_name": "B"})}]
    assert deltas == [Delta("client", added=frozenset({"c2"}), removed=frozenset({"c1"}))]

    store.apply_events([event(3, "c1", 1, first_name="old"),  # older than what we hold
                        event(4, "c2", 1, first_name="A")])  # the same again
    assert len(changes) == 1 and len(deltas) == 1  # nothing changed: nobody is called
    assert store.cursor == 4

    store.apply_events([event(5, "c2", 2, op="delete")])
    assert changes[-1] == {("client", "c2"): ({"id": "c2", "version": 1, "first_name": "A"},
                                              None)}
    assert deltas[-1] == Delta("client", removed=frozenset({"c2"}))
    store.close()


def test_the_cache_keeps_its_own_copy_of_event_data() -> None:
    store = Store(Actor("op", "operator"))
    store.bootstrap({"cursor": 0})
    ev = event(1, "c1", 1, first_name="A")
    store.apply_events([ev])
    ev["data"]["first_name"] = "changed by someone holding the event"
    assert store.view.get("client", "c1") == {"id": "c1", "version": 1, "first_name": "A"}
    data_without_version = {"id": "c2", "first_name": "B"}
    store.apply_events([{"seq": 2, "entity": "client", "id": "c2", "op": "upsert",
                         "version": 3, "data": data_without_version, "cause": "x"}])
    assert store.view.get("client", "c2") == {"id": "c2", "first_name": "B", "version": 3}
    assert data_without_version == {"id": "c2", "first_name": "B"}  # not written into
    store.close()
