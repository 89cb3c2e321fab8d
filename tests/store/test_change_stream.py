"""One change stream: whatever changes in the client (records, the pending
marks, the link, messages, a resync, the outbox's lists) reaches a listener
as one `Changed` per batch, a server batch included (its keys and its events
together, not one notification each)."""

from __future__ import annotations

from typing import Any

from domain.commands import Actor
from store.changed import Changed, Link, ServerEvent
from store.messages import Message
from store.store import Store

CLIENT = {"first_name": "Ana", "last_name": "Cruz", "phone": "+63 917 000 0001",
          "address": "1 Loopback St"}
APPT = {"id": "a1", "version": 1, "status": "pending", "date": "2026-12-03"}


def event(seq: int, id: str, version: int, **data: Any) -> dict[str, Any]:
    return {"seq": seq, "entity": "client", "id": id, "op": "upsert", "version": version,
            "data": {"id": id, "version": version, **data}, "cause": "client.update"}


def listening(store: Store) -> list[Changed]:
    heard: list[Changed] = []
    store.listen(heard.append)
    return heard


def test_a_server_batch_is_one_changed_with_its_keys_and_its_events() -> None:
    store = Store(Actor("op", "operator"))
    store.bootstrap({"cursor": 0})
    heard = listening(store)
    batch = [event(1, "c1", 1, first_name="A"), event(2, "c2", 1, first_name="B")]
    store.apply_events(batch)
    assert len(heard) == 1
    (changed,) = heard
    assert changed.keys == {("client", "c1"), ("client", "c2")}
    assert changed.events == tuple(ServerEvent.of(e) for e in batch)
    assert store.last_event == batch[-1]
    store.close()


def test_a_refusal_is_one_changed_with_the_undo_and_its_notice() -> None:
    store = Store(Actor("op", "operator"))
    store.bootstrap({"cursor": 0})
    ok = store.dispatch("notification.mark_all_read")
    assert ok.ok and ok.seq is not None
    created = store.dispatch("client.create", "c9", CLIENT)
    assert created.ok and created.seq is not None
    heard = listening(store)
    store.reject(created.seq, "forbidden", "Not allowed.")
    assert len(heard) == 1
    (changed,) = heard
    assert changed.keys == {("client", "c9")} and changed.sync
    (notice,) = changed.notices
    assert not notice.ok and notice.failed is not None
    assert (notice.failed.seq, notice.failed.name) == (created.seq, "client.create")
    store.close()


def test_the_outbox_and_the_link_tell_through_the_same_stream() -> None:
    store = Store(Actor("o1", "operator"))
    store.bootstrap({"cursor": 1})
    refused = store.dispatch("notification.mark_all_read")
    assert refused.ok and refused.seq is not None
    store.reject(refused.seq, "forbidden", "Not yours to mark.")
    heard = listening(store)
    assert store.dismiss(refused.seq)
    assert not store.dismiss(refused.seq)  # gone: nothing to tell
    store.set_link(Link.ONLINE)
    store.set_link(Link.ONLINE)  # no change, no word
    assert heard == [Changed(sync=True), Changed(sync=True)]
    assert store.sync_info().link is Link.ONLINE and store.sync_info().failed == ()
    store.close()


def test_a_success_is_worded_by_its_command_and_a_bootstrap_is_a_reset() -> None:
    store = Store(Actor("op", "operator"))
    heard = listening(store)
    store.bootstrap({"cursor": 0, "appointments": [APPT]})
    assert heard[-1].reset and ("appointment", "a1") in heard[-1].keys
    done = store.dispatch("notification.mark_all_read")
    assert done.seq is not None
    store.acknowledge(done.seq, {"status": "applied"})
    last = heard[-1]
    assert [m.kind for m in last.messages] == ["success"]
    # mark_all_read is too small to announce ("saved" None in domain/words.py)
    assert last.notices == () and last.sync
    added = store.dispatch("client.create", "c9", CLIENT)
    assert added.seq is not None
    store.acknowledge(added.seq, {"status": "applied", "record": {**CLIENT, "id": "c9",
                                                                  "version": 1}})
    assert [n.text for n in heard[-1].notices] == ["Client added — saved"]
    store.close()


def test_a_refused_sign_in_is_one_changed_whose_notice_says_why() -> None:
    store = Store(Actor("op", "operator"))
    heard = listening(store)
    store.tell(Message("problem", "Your account has been deactivated.", code="signed_out"))
    store.tell(Message("problem", "Syncing restarted.", code="sync_restarted"))
    signed_out, other = heard
    assert signed_out.signed_out and not other.signed_out
    assert [(n.text, n.signs_out) for n in signed_out.notices] == [
        ("Your account has been deactivated.", True)]
    assert [n.signs_out for n in other.notices] == [False]
    store.close()


def test_a_dispatch_is_told_as_its_own_and_its_answer_is_not() -> None:
    store = Store(Actor("op", "operator"))
    store.bootstrap({"cursor": 0})
    heard = listening(store)
    added = store.dispatch("client.create", "c9", CLIENT)
    assert added.seq is not None
    store.acknowledge(added.seq, {"status": "applied", "record": {**CLIENT, "id": "c9",
                                                                  "version": 1}})
    store.apply_events([event(1, "c9", 1, **CLIENT)])
    store.set_link(Link.ONLINE)
    assert [c.local for c in heard] == [True, False, False, False]
    assert ("client", "c9") in heard[0].keys
    # merged with anything from the server, a batch is no longer the dispatch's own
    assert heard[0].then(heard[0]).local and not heard[0].then(heard[1]).local
    store.close()
