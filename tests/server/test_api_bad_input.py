"""Bad input and intruders get a 4xx with a code and a message, never a 500."""

from __future__ import annotations

import asyncio
import sqlite3
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import orjson
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from services.listener import close_promptly
from testkit import loopback
from testkit.server import ServerProcess
from tests.server.helpers import Api, fresh_day, new_client, service_id, stream


@pytest.fixture(scope="module")
def op(staff_server: ServerProcess) -> Api:
    return Api(staff_server, "operator")


def post(srv: ServerProcess, api: Api | None, content: bytes,
         headers: dict[str, str] | None = None) -> httpx.Response:
    h = {"Content-Type": "application/json", **(api.headers if api else {}), **(headers or {})}
    return loopback.post(srv.url + "/api/commands", content=content, headers=h, timeout=30)


def rejected(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, (r.status_code, r.text)
    body: dict[str, Any] = r.json()
    assert body["status"] == "rejected" and body["code"] == code and body["message"], body
    return body


def command(**over: Any) -> dict[str, Any]:
    body = {"client_id": str(uuid.uuid4()), "seq": 1, "name": "appointment.accept",
            "target": str(uuid.uuid4()), "args": {}, "base_version": None}
    body.update(over)
    return body


def test_malformed_json(staff_server: ServerProcess, op: Api) -> None:
    deep = b'{"args": {"x": ' + b"[" * 5000 + b"]" * 5000 + b"}}"
    lone = (b'{"client_id": "a", "seq": 1, "name": "client.create", "target": "t", '
            b'"args": {"first_name": "\\ud800", "last_name": "b", "phone": "1", '
            b'"address": "c"}}')
    for raw in (b"{bad", b"", b"[1, 2", b"\xff\xfe", b'{"client_id": "a", "seq": }', deep,
                lone):
        r = post(staff_server, op, raw)
        assert r.status_code in (400, 422), (raw, r.text)
        assert r.json()["status"] == "rejected" and r.json()["message"]


@pytest.mark.parametrize("body", [
    [],
    "hello",
    {},
    command(client_id=""),
    command(seq="5"),
    command(seq=-1),
    command(seq=1.5),
    command(name=7),
    command(args=[1, 2]),
    command(args="x"),
    command(base_version="1"),
    command(target={"id": 1}),
    {k: v for k, v in command().items() if k != "name"},
])
def test_missing_or_mistyped_fields(staff_server: ServerProcess, op: Api, body: Any) -> None:
    rejected(post(staff_server, op, orjson.dumps(body)), 422, "invalid_request")


def test_unknown_command(staff_server: ServerProcess, op: Api) -> None:
    body = rejected(post(staff_server, op, orjson.dumps(command(name="appointment.teleport"))),
                    400, "unknown_command")
    assert "teleport" in body["message"]


@pytest.mark.parametrize("args", [
    {"client_id": 5},
    {"client_id": "x", "service_ids": "not a list"},
    {"date": "tomorrow"},
    {"bogus": True},
])
def test_bad_command_args(staff_server: ServerProcess, op: Api, args: dict[str, Any]) -> None:
    r = post(staff_server, op, orjson.dumps(command(name="appointment.create", args=args)))
    assert r.status_code in (404, 422) and r.json()["status"] == "rejected", r.text


def test_huge_bodies(staff_server: ServerProcess, op: Api) -> None:
    huge = orjson.dumps(command(args={"notes": "x" * 300_000}))
    rejected(post(staff_server, op, huge), 413, "too_large")

    def chunks() -> Any:  # no Content-Length: streamed
        for _ in range(100):
            yield b"x" * 10_000

    r = loopback.post(staff_server.url + "/api/commands", content=chunks(), headers=op.headers,
                   timeout=30)
    rejected(r, 413, "too_large")


def test_no_token_or_a_bad_one(staff_server: ServerProcess, op: Api) -> None:
    body = orjson.dumps(command())
    rejected(post(staff_server, None, body), 401, "unauthorized")
    rejected(post(staff_server, None, body, {"Authorization": "Bearer nonsense"}), 401,
             "invalid_token")
    tampered = op.token[:-4] + ("AAAA" if not op.token.endswith("AAAA") else "BBBB")
    rejected(post(staff_server, None, body, {"Authorization": f"Bearer {tampered}"}), 401,
             "invalid_token")
    forged = jwt.encode({"sub": op.id, "role": "operator", "exp": time.time() + 60},
                        "not-the-server-secret-0123456789abcdef", algorithm="HS256")
    rejected(post(staff_server, None, body, {"Authorization": f"Bearer {forged}"}), 401,
             "invalid_token")
    for path in ("/api/sync/bootstrap", "/api/events"):
        rejected(loopback.get(staff_server.url + path, timeout=10), 401, "unauthorized")


def test_expired_token(staff_server: ServerProcess, op: Api) -> None:
    key = f"tandem-test-secret-{staff_server.port}-0123456789abcdef"
    expired = jwt.encode({"sub": op.id, "role": "operator", "exp": time.time() - 5}, key,
                         algorithm="HS256")
    r = loopback.get(staff_server.url + "/api/sync/bootstrap",
                  headers={"Authorization": f"Bearer {expired}"}, timeout=10)
    rejected(r, 401, "token_expired")


def test_bad_query_and_unknown_paths(staff_server: ServerProcess, op: Api) -> None:
    rejected(op.get("/api/events", after="x"), 422, "invalid_request")
    rejected(op.get("/api/events", after=-1), 422, "invalid_request")
    rejected(op.get("/api/events", limit=0), 422, "invalid_request")
    rejected(op.get("/api/nothing-here"), 404, "not_found")
    r = loopback.get(staff_server.url + "/api/commands", headers=op.headers, timeout=10)
    rejected(r, 405, "method_not_allowed")


def test_login_failures_are_friendly_and_slowed_down(staff_server: ServerProcess) -> None:
    url = staff_server.url + "/api/auth/login"
    r = loopback.post(url, json={"username": "driver2", "password": "wrong"}, timeout=10)
    assert "don't match" in rejected(r, 401, "bad_credentials")["message"]
    rejected(loopback.post(url, json={"username": "nobody", "password": "x"}, timeout=10), 401,
             "bad_credentials")
    rejected(loopback.post(url, json={"username": "driver2"}, timeout=10), 422, "invalid_request")
    statuses = [loopback.post(url, json={"username": "driver2", "password": f"guess{i}"},
                           timeout=10).status_code for i in range(5)]
    assert statuses[-1] == 429 and 401 in statuses
    r = loopback.post(url, json={"username": "driver2", "password": "demo1234"}, timeout=10)
    body = rejected(r, 429, "too_many_attempts")  # even the right password waits
    assert int(r.headers["Retry-After"]) >= 1 and "wait" in body["message"]
    # Another user is not affected.
    assert loopback.post(url, json={"username": "driver1", "password": "demo1234"},
                      timeout=10).status_code == 200


def test_login_answer_has_no_secrets(staff_server: ServerProcess) -> None:
    r = loopback.post(staff_server.url + "/api/auth/login",
                   json={"username": "THERAPIST2", "password": "demo1234"}, timeout=10)
    assert r.status_code == 200
    body = r.json()
    assert body["user"] == {"id": body["user"]["id"], "username": "therapist2",
                            "role": "therapist", "name": "Maria Santos",
                            "must_change_password": False}
    assert "demo1234" not in r.text and "argon2" not in r.text


async def ws_closed(srv: ServerProcess, first: str | bytes | None) -> tuple[int | None, str]:
    async with connect(srv.ws_url, proxy=None) as ws:
        if first is not None:
            await ws.send(first)
        with pytest.raises(ConnectionClosed):
            while True:
                await asyncio.wait_for(ws.recv(), 10)
        return ws.close_code, ws.close_reason or ""


async def test_websocket_bad_frames_close_only_that_socket(staff_server: ServerProcess,
                                                           op: Api) -> None:
    async with stream(staff_server, op.token, None) as good:
        assert (await ws_closed(staff_server, "not json"))[0] == 1008
        assert (await ws_closed(staff_server, b"\x00\x01"))[0] == 1008
        assert (await ws_closed(staff_server, '{"type": "event"}'))[0] == 1008
        code, reason = await ws_closed(staff_server, '{"type": "hello", "token": "nope"}')
        assert code == 4401 and reason
        code, _ = await ws_closed(staff_server,
                                  orjson.dumps({"type": "hello", "token": op.token,
                                                "after": "yesterday"}).decode())
        assert code == 1008
        code, _ = await ws_closed(staff_server, "x" * 100_000)
        assert code == 1009
        # The good socket is unaffected: it still gets live events.
        await asyncio.to_thread(
            op.cmd, "client.create", str(uuid.uuid4()), first_name="A", last_name="B",
            phone="1", address="C")
        (event,) = await good.events(1)
        assert event["entity"] == "client"
        # A frame after hello that isn't a ping closes just that socket.
        await good.ws.send('{"type": "hello"}')
        error = await good.frame(5)
        assert error["type"] == "error" and error["code"] == "bad_frame" and error["message"]
        with pytest.raises(ConnectionClosed):
            await good.frame(5)
        assert good.ws.close_code == 1008


async def test_websocket_origin_check(staff_server: ServerProcess, op: Api) -> None:
    evil = "http://evil.example"
    async with connect(staff_server.ws_url, proxy=None, origin=evil) as ws:  # type: ignore[arg-type]
        frame = orjson.loads(await asyncio.wait_for(ws.recv(), 5))
        assert frame["code"] == "forbidden_origin"
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
        assert ws.close_code == 4403
    same = f"http://127.0.0.1:{staff_server.port}"
    ws = await connect(staff_server.ws_url, proxy=None, origin=same)  # type: ignore[arg-type]
    try:
        await ws.send(orjson.dumps({"type": "hello", "token": op.token, "after": 0}).decode())
        frame = orjson.loads(await asyncio.wait_for(ws.recv(), 5))
        assert frame["type"] == "event"
    finally:
        await close_promptly(ws)  # mid-replay: a plain close waits out its timeout


# --- unexpected errors: a JSON 500 `server_error`, never a plain-text page ------------


def json_answer(r: httpx.Response) -> dict[str, Any]:
    assert r.headers["content-type"].startswith("application/json"), (r.status_code, r.text)
    body: dict[str, Any] = r.json()
    return body


def refused_or_server_error(status: int, body: dict[str, Any]) -> None:
    """The domain refusing a date past the calendar (422 invalid_args), or the
    server's last resort (500 server_error): both JSON rejections."""
    assert body["status"] == "rejected" and body["message"], body
    assert (status, body["code"]) in ((422, "invalid_args"), (500, "server_error")), \
        (status, body)


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_a_date_at_the_end_of_the_calendar_is_never_a_text_500(
    staff_server: ServerProcess, op: Api, day: str,
) -> None:
    t1 = op.staff_id("therapist1")
    booking = op.body("appointment.create", str(uuid.uuid4()), client_id=new_client(op),
                      service_ids=[service_id(op)], therapist_ids=[t1], date=day,
                      start_time="10:00", end_time="11:00", location="x")
    slot = op.body("availability.create", str(uuid.uuid4()), user_id=t1, date=day,
                   start_time="23:00", end_time="01:00", available=True)
    for body in (booking, slot):
        r = post(staff_server, op, orjson.dumps(body))
        refused_or_server_error(r.status_code, json_answer(r))
    # In a batch: that command's answer in its place; the others still apply.
    good = op.body("availability.create", str(uuid.uuid4()), user_id=t1, date=fresh_day(),
                   start_time="09:00", end_time="10:00", available=True)
    op.seq += 1
    bad = {**booking, "seq": op.seq}  # the booking again, as a new command
    r = loopback.post(staff_server.url + "/api/commands/batch", json={"commands": [bad, good]},
                   headers=op.headers, timeout=30)
    assert r.status_code == 200, r.text
    first, second = json_answer(r)["results"]
    refused_or_server_error(first["status_code"], first["body"])
    assert second["status_code"] == 200 and second["body"]["status"] == "applied"


def run_sql(srv: ServerProcess, sql: str) -> None:
    con = sqlite3.connect(srv.database_url.removeprefix("sqlite:///"), timeout=30)
    try:
        con.execute(sql)
        con.commit()
    finally:
        con.close()


def test_an_unexpected_database_error_is_a_json_500_and_nothing_is_applied(
    server_factory: Callable[..., ServerProcess],
) -> None:
    """A constraint the server knows nothing about (a trigger someone added to
    its SQLite file) makes the write fail with an IntegrityError: not "busy"
    (503), not the caller's fault (4xx), so 500 server_error, as JSON, with the
    traceback in the server's log; the command is not applied nor remembered."""
    srv = server_factory(seed="staff", args=("--auto-cancel-interval", "0",
                                             "--pickup-interval", "0"))
    op = Api(srv, "operator")
    run_sql(srv, "CREATE TRIGGER refuse_boom BEFORE INSERT ON records "
                     "WHEN NEW.data LIKE '%\"first_name\":\"Boom\"%' "
                     "BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END")
    head = op.cursor()

    def boom() -> dict[str, Any]:
        return op.body("client.create", str(uuid.uuid4()), first_name="Boom", last_name="B",
                       phone="1", address="C")

    single = boom()
    r = post(srv, op, orjson.dumps(single))
    assert r.status_code == 500
    assert json_answer(r) == {"status": "rejected", "code": "server_error",
                              "message": "The server had a problem. Please try again."}
    # In a batch: those before it apply; it gets the 500; those after it are
    # not attempted (503), so nothing lands ahead of it when all are sent again.
    def client(name: str) -> dict[str, Any]:
        return op.body("client.create", str(uuid.uuid4()), first_name=name, last_name="B",
                       phone="1", address="C")

    before, culprit, after = client("Before"), boom(), client("After")
    r = loopback.post(srv.url + "/api/commands/batch", json={"commands": [before, culprit, after]},
                   headers=op.headers, timeout=30)
    assert r.status_code == 200
    first, second, third = json_answer(r)["results"]
    assert first["status_code"] == 200 and first["body"]["record"]["first_name"] == "Before"
    assert second["status_code"] == 500 and second["body"]["code"] == "server_error"
    assert third["status_code"] == 503 and third["body"]["code"] == "not_attempted"
    assert [e["data"]["first_name"] for e in op.events(head)] == ["Before"]
    assert "refused by a test trigger" in srv.output() and "Traceback" in srv.output()
    # Not remembered as the command's answer: once the cause is gone, a retry applies.
    run_sql(srv, "DROP TRIGGER refuse_boom")
    again = op.send(single).ok()
    assert again.record["first_name"] == "Boom"
    r = loopback.post(srv.url + "/api/commands/batch", json={"commands": [culprit, after]},
                   headers=op.headers, timeout=30)
    assert [x["status_code"] for x in json_answer(r)["results"]] == [200, 200]
    assert [e["data"]["first_name"] for e in op.events(head)] == [
        "Before", "Boom", "Boom", "After"]


def test_any_route_answers_an_unexpected_error_with_json(
    server_factory: Callable[..., ServerProcess],
) -> None:
    """The app-wide last resort: an event row that no longer reads as JSON
    breaks GET /api/events (outside the command path) with a JSON 500."""
    srv = server_factory(seed="staff", args=("--auto-cancel-interval", "0",
                                             "--pickup-interval", "0"))
    op = Api(srv, "operator")
    head = op.cursor()
    op.cmd("client.create", str(uuid.uuid4()), first_name="A", last_name="B", phone="1",
           address="C").ok()
    run_sql(srv, f"UPDATE events SET data = 'not json' WHERE seq = {head + 1}")
    r = op.get("/api/events", after=head)
    assert r.status_code == 500
    assert json_answer(r)["code"] == "server_error"
    assert op.get("/api/health").status_code == 200  # the server carries on
