"""GET /api/sync/bootstrap on SQLite while commands are being written: the
state and the cursor it answers always belong together.

Writers run single commands and batches (creates, edits, deletes, a
reassignment that takes a record out of a therapist's sight) while readers
bootstrap over and over. Afterwards, for every bootstrap taken, with the
caller's own event stream (GET /api/events):
- replaying the events up to its cursor from nothing gives exactly its state
  (a cursor ahead of or behind the state would not), and
- replaying the events after its cursor on top of its state gives exactly the
  final state.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from testkit import loopback
from testkit.server import ServerProcess
from testkit.workload import LISTS
from tests.server.helpers import Api, fresh_day, make_world, new_client, service_id

Records = dict[tuple[str, str], dict[str, Any]]
READERS = ("operator", "therapist1", "therapist2")


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    env = {"TANDEM_PICKUP_INTERVAL": "0", "TANDEM_AUTO_CANCEL_INTERVAL": "0"}
    with ServerProcess(tmp_path_factory.mktemp("bootstrap"), seed="staff", env=env) as s:
        yield s


def records_of(boot: dict[str, Any]) -> Records:
    return {(entity, r["id"]): r for entity, key in LISTS.items() for r in boot[key]}


def replay(start: Records, events: Iterable[dict[str, Any]]) -> Records:
    out = dict(start)
    for e in events:
        key = (e["entity"], e["id"])
        if e["op"] == "delete":
            out.pop(key, None)
        else:
            out[key] = e["data"]
    return out


def availability_churn(srv: ServerProcess, rounds: int) -> None:
    op = Api(srv, "operator")
    t1 = op.staff_id("therapist1")
    for _ in range(rounds):
        sid = str(uuid.uuid4())
        made = op.cmd("availability.create", sid, user_id=t1, date=fresh_day(),
                      start_time="08:00", end_time="09:00", available=True).ok().record
        op.cmd("availability.update", sid, base_version=made["version"], available=False).ok()
        op.cmd("availability.delete", sid).ok()


def appointment_churn(srv: ServerProcess, rounds: int) -> None:
    op, t1, t2 = Api(srv, "operator"), Api(srv, "therapist1"), Api(srv, "therapist2")
    client, service = new_client(op), service_id(op)
    for _ in range(rounds):
        day = fresh_day()
        make_world(op, day, ["therapist1", "therapist2"])
        aid = str(uuid.uuid4())
        op.cmd("appointment.create", aid, client_id=client, service_ids=[service],
               therapist_ids=[t1.id], date=day, start_time="10:00", end_time="11:00",
               location="x").ok()
        t1.cmd("appointment.reject", aid, reason="Can't make it").ok()
        # therapist1 loses sight of it (a delete in their stream)
        op.cmd("appointment.review_rejection", aid, decision="reassign",
               therapist_id=t2.id).ok()
        t2.cmd("appointment.accept", aid).ok()
        op.cmd("appointment.cancel", aid, reason="Client away").ok()


def batch_churn(srv: ServerProcess, rounds: int) -> None:
    op, t2 = Api(srv, "operator"), Api(srv, "therapist2")
    for _ in range(rounds):
        ids = [str(uuid.uuid4()) for _ in range(4)]
        commands = [op.body("client.create", cid, first_name="Batch", last_name=str(i),
                            phone="1", address="2 Batch St") for i, cid in enumerate(ids)]
        commands += [op.body("client.update", cid, notes="updated") for cid in ids]
        r = loopback.post(srv.url + "/api/commands/batch", json={"commands": commands},
                       headers=op.headers, timeout=30)
        assert [x["status_code"] for x in r.json()["results"]] == [200] * len(commands)
        t2.cmd("availability.bulk_create", date=fresh_day(),
               slots=[{"start_time": "07:00", "end_time": "08:00"},
                      {"start_time": "09:00", "end_time": "10:00"}]).ok()


@pytest.mark.slow  # readers and writers race for hundreds of events
def test_bootstrap_state_and_cursor_belong_together(srv: ServerProcess) -> None:
    readers = {name: Api(srv, name) for name in READERS}
    start = readers["operator"].cursor()
    taken: dict[str, list[dict[str, Any]]] = {name: [] for name in READERS}
    done = threading.Event()

    def read(name: str) -> None:
        while not done.is_set():
            taken[name].append(readers[name].bootstrap())

    with ThreadPoolExecutor(6) as pool:
        reading = [pool.submit(read, name) for name in READERS]
        writing = [pool.submit(availability_churn, srv, 25),
                   pool.submit(appointment_churn, srv, 8),
                   pool.submit(batch_churn, srv, 8)]
        try:
            for f in writing:
                f.result()
        finally:
            done.set()
            for f in reading:
                f.result()
    end = readers["operator"].cursor()
    assert end - start > 200

    for name, api in readers.items():
        events = api.events(0)
        final = api.bootstrap()
        assert final["cursor"] == end
        assert replay({}, events) == records_of(final), name
        during = {b["cursor"] for b in taken[name] if start < b["cursor"] < end}
        assert len(during) >= 5, f"{name}: too few bootstraps while writing ({len(during)})"
        for boot in taken[name]:
            cursor, state = boot["cursor"], records_of(boot)
            before = [e for e in events if e["seq"] <= cursor]
            after = [e for e in events if e["seq"] > cursor]
            assert replay({}, before) == state, f"{name}: bootstrap at {cursor} isn't the log"
            assert replay(state, after) == records_of(final), \
                f"{name}: bootstrap at {cursor} + later events isn't the final state"
