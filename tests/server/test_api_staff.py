"""Staff and accounts through the real API (issue 16), on SQLite and
PostgreSQL: the operator takes someone on and gets a one-time password in
the answer only (never in an event, the bootstrap or the command log; no
password hash ever on the wire); the person must change it at first
sign-in; changing your own password keeps this session and signs out the
others; deactivating someone refuses their tokens at once, closes their
open sockets within two seconds and refuses sign-in; a reset revokes every
session."""

from __future__ import annotations

import asyncio
import sqlite3
import time
import uuid
from typing import Any

import orjson
import pytest
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from domain.staff import MIN_PASSWORD
from testkit import loopback
from testkit.server import ServerProcess
from tests.server.helpers import Answer, Api, fresh_day, make_world, new_client, service_id
from tests.server.test_sessions import errors_of, live_socket, login
from tests.support.postgres import query


@pytest.fixture(scope="module")
def srv(staff_server: ServerProcess) -> ServerProcess:
    return staff_server


@pytest.fixture(scope="module")
def op(srv: ServerProcess) -> Api:
    return Api(srv, "operator")


def rows(srv: ServerProcess, sql: str) -> list[dict[str, Any]]:
    if srv.database_url.startswith("postgresql"):
        return query(srv.database_url, sql)
    con = sqlite3.connect(srv.database_url.removeprefix("sqlite:///"), timeout=30)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute(sql).fetchall()]
    finally:
        con.close()


def body(api: Api, command: str, target: str | None = None, /, **args: Any) -> dict[str, Any]:
    """Api.body, for args that include `name`."""
    out = api.body(command, target)
    out["args"] = args
    return out


def cmd(api: Api, command: str, target: str | None = None, /, **args: Any) -> Answer:
    return api.send(body(api, command, target, **args))


def hire(op: Api, role: str = "therapist", **over: Any) -> tuple[Answer, str, str]:
    """staff.create; (answer, id, username)."""
    sid = str(uuid.uuid4())
    username = f"new.{uuid.uuid4().hex[:8]}"
    fields: dict[str, Any] = {"username": username, "role": role, "name": "Lia Ramos",
                              "phone": "+63 917 555 0199"}
    if role == "therapist":
        fields.update(specialization="Shiatsu", pressure_preference="firm", license="MT-1")
    if role == "driver":
        fields.update(plate="NEW 123")
    fields.update(over)
    return cmd(op, "staff.create", sid, **fields), sid, username


def signed_in(srv: ServerProcess, username: str, password: str) -> Api:
    return Api(srv, username, password=password)


async def closed_within(ws: ClientConnection, seconds: float) -> tuple[int | None, list[Any],
                                                                        float]:
    """Read until the server closes; (code, frames, when)."""
    frames: list[Any] = []
    end = time.monotonic() + seconds
    try:
        while True:
            frames.append(orjson.loads(await asyncio.wait_for(ws.recv(),
                                                              max(0.01, end - time.monotonic()))))
    except ConnectionClosed:
        return ws.close_code, frames, time.monotonic()
    except TimeoutError:
        return None, frames, time.monotonic()


def test_taking_someone_on_hands_a_one_time_password_to_the_operator_only(
        srv: ServerProcess, op: Api) -> None:
    t1 = Api(srv, "therapist1")
    before = op.cursor()
    sent = body(op, "staff.create", str(uuid.uuid4()), username=f"lia.{uuid.uuid4().hex[:6]}",
                role="therapist", name="Lia Ramos", phone="+63 917 555 0199",
                specialization="Shiatsu", pressure_preference="firm", license="MT-1")
    answer = op.send(sent).ok()
    secret = answer.body["one_time_password"]
    assert isinstance(secret, str) and len(secret) >= MIN_PASSWORD
    record = answer.record
    assert record["username"] == sent["args"]["username"] and record["role"] == "therapist"
    assert (record["license"], record["plate"], record["active"]) == ("MT-1", None, True)
    # a retry of the same command: the first answer, without the secret
    again = op.send(sent).ok()
    assert "one_time_password" not in again.body and again.body["one_time_password_shown"]
    # everyone sees the new person, nobody sees the password or its hash
    for api in (op, t1):
        boot = orjson.dumps(api.bootstrap()).decode()
        assert record["id"] in boot and secret not in boot and "$argon2" not in boot
        events = orjson.dumps(api.events(before)).decode()
        assert record["id"] in events and secret not in events and "$argon2" not in events
    stored = orjson.dumps(rows(srv, "SELECT * FROM events") + rows(srv, "SELECT * FROM "
                                                                        "command_log")).decode()
    assert record["id"] in stored and secret not in stored
    # the person signs in with it and is asked to change it
    lia = signed_in(srv, record["username"].upper(), secret)
    assert lia.user["must_change_password"] is True and lia.user["role"] == "therapist"
    me = lia.bootstrap()["me"]
    assert me["must_change_password"] is True and "$argon2" not in orjson.dumps(me).decode()
    assert login(srv, "operator").json()["user"]["must_change_password"] is False


def test_a_username_clash_is_a_friendly_409_whatever_the_case(op: Api) -> None:
    _, _, username = hire(op)
    clash, _, _ = hire(op, username=username.upper())
    assert clash.status == 409 and clash.code == "username_taken", clash.body
    assert username.upper() in clash.body["message"] and "choose another" in clash.body["message"]
    other, sid, _ = hire(op, role="driver")
    other.ok()
    moved = op.cmd("staff.update", sid, username=username.title())
    assert moved.status == 409 and moved.code == "username_taken"


def test_only_operators_manage_staff(srv: ServerProcess, op: Api) -> None:
    t1 = Api(srv, "therapist1")
    assert hire(t1)[0].status == 403
    d1_id = op.staff_id("driver1")
    for name, args in (("staff.update", {"phone": "1"}), ("staff.reset_password", {})):
        refused = t1.cmd(name, d1_id, **args)
        assert refused.status == 403 and refused.code == "forbidden", refused.body


def test_changing_your_password_keeps_this_session_and_signs_out_the_others(
        srv: ServerProcess, op: Api) -> None:
    answer, sid, username = hire(op)
    secret = answer.ok().body["one_time_password"]
    here, there = signed_in(srv, username, secret), signed_in(srv, username, secret)
    # a one-time password: nothing else before it is changed (a batch neither)
    first = here.cmd("staff.set_duty", sid, on_duty=True)
    assert first.status == 403 and first.code == "password_change_required", first.body
    batch = loopback.post(srv.url + "/api/commands/batch", headers=here.headers, timeout=30,
                       json={"commands": [here.body("staff.set_duty", sid, on_duty=True)]})
    assert batch.json()["results"][0]["body"]["code"] == "password_change_required"

    async def change() -> tuple[Any, ...]:
        ws_here, ws_there = await live_socket(srv, here.token), await live_socket(srv, there.token)
        await asyncio.sleep(0.3)
        wrong = here.cmd("account.change_password", sid, current_password="nope",
                         new_password="a-long-new-one")
        short = here.cmd("account.change_password", sid, current_password=secret,
                         new_password="short")
        done = here.cmd("account.change_password", sid, current_password=secret,
                        new_password="a-long-new-one")
        sent = time.monotonic()
        here.cmd("staff.set_duty", sid, on_duty=True).ok()  # at once: no stale refusal
        code, frames, at = await closed_within(ws_there, 5)
        still, _, _ = await closed_within(ws_here, 1.5)  # nothing: it stays open
        await ws_here.close()
        return wrong, short, done, code, frames, at - sent, still

    wrong, short, done, code, frames, took, still = asyncio.run(change())
    assert wrong.status == 422 and wrong.code == "wrong_password", wrong.body
    assert short.status == 422 and f"at least {MIN_PASSWORD}" in short.body["message"]
    assert done.ok().body["password_changed"] is True
    assert code == 4401 and errors_of(frames) == ["session_revoked"] and took < 2.0, \
        (code, frames, took)
    assert still is None  # this device's socket was not closed
    assert here.get("/api/sync/bootstrap").status_code == 200
    r = there.get("/api/sync/bootstrap")
    assert r.status_code == 401 and r.json()["code"] == "session_revoked"
    assert login(srv, username, secret).status_code == 401
    fresh = signed_in(srv, username, "a-long-new-one")
    assert fresh.user["must_change_password"] is False
    # someone else's password is not yours to change
    other = here.cmd("account.change_password", op.id, current_password="a-long-new-one",
                     new_password="another-long-one")
    assert other.status == 403


def test_deactivating_signs_them_out_everywhere_and_reactivating_restores(
        srv: ServerProcess, op: Api) -> None:
    answer, sid, username = hire(op)
    secret = answer.ok().body["one_time_password"]
    lia = signed_in(srv, username, secret)
    day = fresh_day()
    make_world(op, day, [username])
    aid = str(uuid.uuid4())
    op.cmd("appointment.create", aid, client_id=new_client(op), service_ids=[service_id(op)],
           therapist_ids=[sid], date=day, start_time="10:00", end_time="11:00",
           location="1 Test St").ok()

    async def deactivate() -> tuple[Any, ...]:
        ws = await live_socket(srv, lia.token)
        await asyncio.sleep(0.3)
        sent = time.monotonic()
        op.cmd("staff.update", sid, active=False).ok()
        refused = loopback.get(srv.url + "/api/sync/bootstrap", headers=lia.headers, timeout=30)
        code, frames, at = await closed_within(ws, 5)
        return refused, code, frames, at - sent

    refused, code, frames, took = asyncio.run(deactivate())
    assert refused.status_code == 401 and refused.json()["code"] == "account_inactive"
    assert code == 4401 and errors_of(frames) == ["account_inactive"], (code, frames)
    assert took < 2.0, took
    no = login(srv, username, secret)
    assert no.status_code == 401 and no.json()["code"] == "account_inactive"
    # the booking still names her: the operator's screen flags it (views)
    booking = next(a for a in op.bootstrap()["appointments"] if a["id"] == aid)
    assert booking["therapist_ids"] == [sid]
    staff = next(s for s in op.bootstrap()["staff"] if s["id"] == sid)
    assert staff["active"] is False
    op.cmd("staff.update", sid, active=True).ok()
    assert signed_in(srv, username, secret).get("/api/sync/bootstrap").status_code == 200


def test_a_reset_hands_a_new_one_time_password_and_revokes_every_session(
        srv: ServerProcess, op: Api) -> None:
    answer, sid, username = hire(op, role="driver")
    first = answer.ok().body["one_time_password"]
    ben = signed_in(srv, username, first)
    ben.cmd("account.change_password", sid, current_password=first,
            new_password="ben-own-password").ok()
    reset = op.cmd("staff.reset_password", sid).ok()
    secret = reset.body["one_time_password"]
    assert secret not in (first, "ben-own-password") and reset.body["changes"] == []
    r = ben.get("/api/sync/bootstrap")
    assert r.status_code == 401 and r.json()["code"] == "session_revoked"
    assert login(srv, username, "ben-own-password").status_code == 401
    again = signed_in(srv, username, secret)
    assert again.user["must_change_password"] is True
    stored = orjson.dumps(rows(srv, "SELECT * FROM command_log")).decode()
    assert secret not in stored


def test_a_role_change_signs_them_in_again_as_the_new_role(srv: ServerProcess, op: Api) -> None:
    answer, sid, username = hire(op)
    secret = answer.ok().body["one_time_password"]
    lia = signed_in(srv, username, secret)
    changed = op.cmd("staff.update", sid, role="driver", plate="ZZZ 1").ok().record
    assert (changed["role"], changed["plate"], changed["license"]) == ("driver", "ZZZ 1", None)
    r = lia.get("/api/sync/bootstrap")
    assert r.status_code == 401 and r.json()["code"] == "session_revoked"
    assert signed_in(srv, username, secret).user["role"] == "driver"
