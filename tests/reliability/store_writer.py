"""A client-store writer for test_storage (not collected by pytest).

    python tests/reliability/store_writer.py DIR
        open the Store in DIR (bootstrapping an empty one), then forever:
        queue a command ("Q seq" once dispatch returned: durably queued),
        acknowledge an older one now and then ("a seq" before, "A seq" after), apply a batch of
        events and flush the cache ("F cursor" once flush returned).
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from domain.commands import Actor  # noqa: E402
from store.store import Store  # noqa: E402

ACTOR = Actor("op-storage-test", "operator")
EMPTY = {"cursor": 0, "appointments": [], "availability": [], "staff": [], "clients": [],
         "services": [], "notifications": []}


def main(directory: str) -> None:
    store = Store(ACTOR, directory=directory)
    if store.needs_bootstrap:
        store.bootstrap(EMPTY)
        store.flush()
    cursor = store.cursor or 0
    pad = "x" * 2000  # bigger files: more time spent mid-write
    while True:
        cid = str(uuid.uuid4())
        result = store.dispatch("client.create", cid, {
            "first_name": "Disk", "last_name": "Writer", "phone": "+63 900 000 5555",
            "address": "8 Disk St", "notes": pad})
        assert result.ok and result.seq is not None, result.message
        print(f"Q {result.seq}", flush=True)
        queued = store.queued()
        if len(queued) > 3:
            oldest = queued[0]
            record = {**(store.view.get("client", str(oldest.target)) or {}), "version": 1}
            # a kill between the ack and its "A" line must not read as a lost command
            print(f"a {oldest.seq}", flush=True)
            store.acknowledge(oldest.seq, {"status": "applied", "record": record,
                                           "cursor": cursor})
            print(f"A {oldest.seq}", flush=True)
        events = []
        for _ in range(5):
            cursor += 1
            events.append({"seq": cursor, "entity": "client", "id": str(uuid.uuid4()),
                           "op": "upsert", "version": 1, "cause": "client.create",
                           "data": {"id": "?", "version": 1, "first_name": "E",
                                    "last_name": str(cursor), "notes": pad}})
        for e in events:
            e["data"]["id"] = e["id"]  # type: ignore[index]
        store.apply_events(events)
        store.flush()
        print(f"F {store.cursor}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
