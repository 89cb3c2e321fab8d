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

USERS = ("operator", "therapist1", "therapist2", "therapist3",
         "driver1", "driver2", "driver3", "driver4", "driver5")
LISTS: dict[str, Entity] = {
    "appointments": "appointment", "availability": "availability", "staff": "staff",
    "clients": "client", "services": "service", "notifications": "notification",
    "materials": "material", "stock_moves": "stock_move", "shifts": "shift",
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
    shift = str(uuid.uuid4())  # a shift: its person's and the operators' only
    t3.cmd("attendance.clock_in", shift, note="scenario").ok()
    t3.cmd("attendance.clock_out", shift).ok()
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


# --- issue 17, point 7: copies and refusals follow the audience rule ------------------

HIDDEN_STAMPS = ("rejected_at", "rejected_by")
HIDDEN_REJECTION = ("by", "reason", "at", "note")


def test_a_reassigned_therapist_never_gets_the_previous_ones_rejection(
    demo_server: ServerProcess, apis: dict[str, Api]
) -> None:
    """t1 rejects (a reason of their own), the operator reassigns to t2: t2's
    copy — bootstrap, events, stream, command answers, timeline — says it was
    reassigned, but not who rejected it, when or why; the operators' copy has
    it whole."""
    op, t1, t2, d1 = (apis[u] for u in ("operator", "therapist1", "therapist2", "driver1"))
    day = fresh_day()
    make_world(op, day, ["therapist1", "therapist2"])
    start = op.cursor()
    aid = str(uuid.uuid4())
    op.cmd("appointment.create", aid, client_id=new_client(op), service_ids=[service_id(op)],
           therapist_ids=[t1.id], driver_id=d1.id, date=day, start_time="15:00",
           end_time="16:00", location="z").ok()
    t1.cmd("appointment.reject", aid, reason="My mother is in hospital").ok()
    op.cmd("appointment.review_rejection", aid, decision="reassign", therapist_id=t2.id).ok()
    accepted = t2.cmd("appointment.accept", aid).ok()

    def clean(copy: dict[str, Any], who: str) -> None:
        text = orjson.dumps(copy).decode()
        assert not any(f in copy for f in HIDDEN_STAMPS), (who, copy)
        assert not any(f in (copy.get("rejection") or {}) for f in HIDDEN_REJECTION), \
            (who, copy)
        assert t1.id not in text and "hospital" not in text, (who, copy)

    clean(accepted.record, "t2's answer")
    for change in accepted.body["changes"]:
        if change["id"] == aid:
            clean(change["data"], "t2's answer's changes")
    clean(next(a for a in t2.bootstrap()["appointments"] if a["id"] == aid), "t2 bootstrap")
    for who in ("therapist2", "driver1"):  # the driver was on it all along: not theirs either
        for e in apis[who].events(start):
            if e["id"] == aid and e["data"] is not None and e["version"] >= 3:
                clean(e["data"], f"{who} events")

    async def streamed() -> list[dict[str, Any]]:
        async with stream(demo_server, t2.token, start) as s:
            return await s.until(t2.events(start)[-1]["seq"])  # t2's last one

    for e in asyncio.run(streamed()):
        if e["id"] == aid and e["data"] is not None and e["version"] >= 3:
            clean(e["data"], "t2 stream")
    timeline = t2.get(f"/api/appointments/{aid}/timeline").json()["entries"]
    assert "hospital" not in orjson.dumps(timeline).decode()
    whole = next(a for a in op.bootstrap()["appointments"] if a["id"] == aid)
    assert whole["rejection"]["by"] == t1.id and whole["rejected_by"] == t1.id
    assert [e for e in op.events(start) if e["id"] == aid][-1]["data"]["rejection"]["reason"] \
        == "My mother is in hospital"


def test_the_rejecter_keeps_their_own_rejection_when_it_is_denied(
    demo_server: ServerProcess, apis: dict[str, Api]
) -> None:
    op, t3 = apis["operator"], apis["therapist3"]
    day = fresh_day()
    make_world(op, day, ["therapist3"])
    aid = str(uuid.uuid4())
    op.cmd("appointment.create", aid, client_id=new_client(op), service_ids=[service_id(op)],
           therapist_ids=[t3.id], date=day, start_time="17:00", end_time="18:00",
           location="w").ok()
    t3.cmd("appointment.reject", aid, reason="Too far").ok()
    op.cmd("appointment.review_rejection", aid, decision="deny").ok()
    mine = next(a for a in t3.bootstrap()["appointments"] if a["id"] == aid)
    assert mine["rejection"]["reason"] == "Too far" and mine["rejection"]["decision"] == "deny"


def test_staff_not_on_an_appointment_get_not_found_for_an_update(
    demo_server: ServerProcess, apis: dict[str, Api]
) -> None:
    """appointment.update by someone who may not see the booking: 404, as
    for one that doesn't exist — 403 would confirm the id."""
    op, t1, t3, d2 = (apis[u] for u in ("operator", "therapist1", "therapist3", "driver2"))
    day = fresh_day()
    make_world(op, day, ["therapist1"])
    aid = str(uuid.uuid4())
    op.cmd("appointment.create", aid, client_id=new_client(op), service_ids=[service_id(op)],
           therapist_ids=[t1.id], date=day, start_time="19:00", end_time="20:00",
           location="v").ok()
    for api in (t3, d2):
        hidden = api.cmd("appointment.update", aid, notes="mine now")
        missing = api.cmd("appointment.update", str(uuid.uuid4()), notes="mine now")
        assert (hidden.status, hidden.code) == (404, "not_found"), hidden.body
        assert hidden.body["message"] == missing.body["message"], (hidden.body, missing.body)
    # Someone on it who may not edit it is told why (they know it exists).
    on_it = t1.cmd("appointment.update", aid, notes="mine now")
    assert (on_it.status, on_it.code) == (403, "forbidden"), on_it.body
