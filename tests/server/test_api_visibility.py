"""Each role's bootstrap and websocket stream hold exactly what it may see.

The expectation is computed independently of the server's answers: from the
records and the event log in its SQLite file, with `domain.policy`."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from typing import Any

import orjson
import pytest

from domain.commands import Actor
from domain.policy import can_see
from domain.records import Entity
from testkit.server import ServerProcess
from tests.server.helpers import (
    Api,
    audience_of,
    fresh_day,
    log_rows,
    make_world,
    new_client,
    service_id,
    stream,
)
from tests.support.postgres import query

USERS = ("operator", "therapist1", "therapist2", "therapist3", "driver1", "driver2")
LISTS: dict[str, Entity] = {
    "appointments": "appointment", "availability": "availability", "staff": "staff",
    "clients": "client", "services": "service", "notifications": "notification",
    "materials": "material", "stock_moves": "stock_move",
}


@pytest.fixture(scope="module")
def apis(demo_server: ServerProcess) -> dict[str, Api]:
    return {u: Api(demo_server, u) for u in USERS}


def all_records(srv: ServerProcess) -> list[tuple[Entity, dict[str, Any]]]:
    if srv.database_url.startswith("postgresql"):
        return [(r["entity"], orjson.loads(r["data"]))
                for r in query(srv.database_url, "SELECT entity, data FROM records")]
    con = sqlite3.connect(srv.database_url.removeprefix("sqlite:///"))
    try:
        rows = con.execute("SELECT entity, data FROM records").fetchall()
    finally:
        con.close()
    return [(entity, orjson.loads(data)) for entity, data in rows]


def test_each_bootstrap_holds_exactly_what_the_role_may_see(
    demo_server: ServerProcess, apis: dict[str, Api]
) -> None:
    everything = all_records(demo_server)
    for username, api in apis.items():
        boot = api.bootstrap()
        assert boot["me"]["username"] == username
        for key, entity in LISTS.items():
            got = {(r["id"], r["version"]) for r in boot[key]}
            want = {(r["id"], r["version"]) for e, r in everything
                    if e == entity and can_see(api.actor, entity, r)}
            assert got == want, (username, key)
    # Three therapists: each sees only their own appointments, and has some.
    for t in ("therapist1", "therapist2", "therapist3"):
        mine = apis[t].bootstrap()["appointments"]
        assert mine and all(apis[t].id in a["therapist_ids"] for a in mine)
        others = [a for e, a in everything if e == "appointment"
                  and apis[t].id not in a["therapist_ids"]]
        assert others and not {a["id"] for a in others} & {a["id"] for a in mine}
    assert apis["therapist1"].bootstrap()["clients"] == []
    assert "password_hash" not in orjson.dumps(apis["driver1"].bootstrap()).decode()


def scenario(apis: dict[str, Api]) -> str:
    """A mix of commands touching every role (and a reassignment)."""
    op, t1, t2, t3, d1 = (apis[u] for u in ("operator", "therapist1", "therapist2",
                                            "therapist3", "driver1"))
    day = fresh_day()
    make_world(op, day, ["therapist1", "therapist2", "therapist3"])
    client, service = new_client(op), service_id(op)
    aid = str(uuid.uuid4())
    op.cmd("appointment.create", aid, client_id=client, service_ids=[service],
           therapist_ids=[t1.id], driver_id=d1.id, date=day, start_time="09:00",
           end_time="10:00", location="x").ok()
    t1.cmd("appointment.reject", aid, reason="No car").ok()
    op.cmd("appointment.review_rejection", aid, decision="reassign", therapist_id=t2.id).ok()
    gid = str(uuid.uuid4())
    op.cmd("appointment.create", gid, client_id=client, service_ids=[service],
           therapist_ids=[t2.id, t3.id], date=day, start_time="12:00", end_time="13:00",
           location="y").ok()
    t3.cmd("appointment.accept", gid).ok()
    t3.cmd("availability.create", str(uuid.uuid4()), date=fresh_day(), start_time="08:00",
           end_time="09:00", available=True).ok()
    op.cmd("staff.set_duty", d1.id, on_duty=True).ok()
    t2.cmd("notification.mark_all_read").ok()
    return aid


async def test_each_stream_holds_exactly_its_events(
    demo_server: ServerProcess, apis: dict[str, Api]
) -> None:
    start = apis["operator"].cursor()
    async with asyncio.timeout(60):
        streams = {}
        contexts = {}
        for u, api in apis.items():
            contexts[u] = stream(demo_server, api.token, start)
            streams[u] = await contexts[u].__aenter__()
        try:
            reassigned = await asyncio.to_thread(scenario, apis)
            rows = [r for r in log_rows(demo_server) if r["seq"] > start]
            assert rows
            for u, api in apis.items():
                want = [r["seq"] for r in rows if audience_of(r).includes(api.actor)]
                got = await streams[u].events(len(want))
                got += await streams[u].quiet(0.3)
                assert [e["seq"] for e in got] == want, u
                for e in got:
                    # Independently of the stored audience: the data is theirs to see.
                    if e["op"] == "upsert":
                        assert can_see(api.actor, e["entity"], e["data"]), (u, e)
            # The reassigned therapist was told to drop the appointment.
            t1_ops = [r["op"] for r in rows if r["id"] == reassigned
                      and audience_of(r).includes(apis["therapist1"].actor)]
            assert t1_ops[-1] == "delete"
        finally:
            for ctx in contexts.values():
                await ctx.__aexit__(None, None, None)


def test_events_endpoint_matches_the_log(demo_server: ServerProcess,
                                         apis: dict[str, Api]) -> None:
    rows = log_rows(demo_server)
    for u in ("therapist3", "driver2", "operator"):
        actor: Actor = apis[u].actor
        want = [r["seq"] for r in rows if audience_of(r).includes(actor)]
        assert [e["seq"] for e in apis[u].events(0)] == want
