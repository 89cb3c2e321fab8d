"""POST /api/commands/batch: several commands in one request, each answered
exactly as POST /api/commands would answer it alone, in order, exactly once."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from testkit import loopback
from testkit.server import ServerProcess
from tests.server.helpers import Answer, Api, fresh_day, log_rows

BATCH_MAX = 200


def batch(api: Api, commands: list[Any]) -> httpx.Response:
    return loopback.post(api.srv.url + "/api/commands/batch", json={"commands": commands},
                      headers=api.headers, timeout=60)


def results(r: httpx.Response) -> list[Answer]:
    assert r.status_code == 200, r.text
    return [Answer(x["status_code"], x["body"]) for x in r.json()["results"]]


def slot(api: Api, day: str, start: str, end: str, target: str | None = None) -> dict[str, Any]:
    return api.body("availability.create", target or str(uuid.uuid4()), date=day,
                    start_time=start, end_time=end, available=True)


def test_each_command_is_answered_in_order_as_the_single_route_would(
        staff_server: ServerProcess) -> None:
    t1 = Api(staff_server, "therapist1")
    day = fresh_day()
    first = slot(t1, day, "08:00", "10:00")
    clash = slot(t1, day, "09:00", "11:00")  # overlaps the first: 409
    malformed = {**slot(t1, day, "12:00", "13:00"), "seq": "seven"}
    unknown = t1.body("appointment.accept", str(uuid.uuid4()))  # no such record
    last = slot(t1, day, "14:00", "15:00")
    before = len(log_rows(staff_server))

    got = results(batch(t1, [first, clash, malformed, unknown, last]))

    assert [a.status for a in got] == [200, 409, 422, 404, 200]
    assert got[1].code == "availability_overlap"
    assert got[0].record["id"] == first["target"] and got[4].record["id"] == last["target"]
    assert got[0].body["cursor"] < got[4].body["cursor"]
    rows = log_rows(staff_server)[before:]
    assert [r["id"] for r in rows] == [first["target"], last["target"]]
    # The single route answers the same way: the stored answers for the
    # logged ones, and the same refusal for the malformed one.
    for body, answer in [(first, got[0]), (clash, got[1]), (unknown, got[3]), (last, got[4])]:
        alone = t1.send(body)
        assert (alone.status, alone.body) == (answer.status, answer.body)
    raw = loopback.post(staff_server.url + "/api/commands", json=malformed, headers=t1.headers,
                     timeout=30)
    assert (raw.status_code, raw.json()) == (got[2].status, got[2].body)
    assert len(log_rows(staff_server)) == before + 2


def test_a_retried_batch_gets_the_first_answers_and_changes_nothing(
        staff_server: ServerProcess) -> None:
    t1 = Api(staff_server, "therapist1")
    day = fresh_day()
    commands = [slot(t1, day, f"{h:02d}:00", f"{h:02d}:30") for h in range(8, 12)]
    commands.insert(2, slot(t1, day, "08:10", "08:20"))  # clashes: rejected, remembered
    first = results(batch(t1, commands))
    assert [a.status for a in first] == [200, 200, 409, 200, 200]
    before = len(log_rows(staff_server))
    again = results(batch(t1, commands))
    assert [(a.status, a.body) for a in again] == [(a.status, a.body) for a in first]
    assert len(log_rows(staff_server)) == before
    # The same pair twice in one batch: applied once, the second gets its answer.
    twice = slot(t1, day, "13:00", "14:00")
    a, b = results(batch(t1, [twice, twice]))
    assert (a.status, a.body) == (b.status, b.body) and a.status == 200
    assert len(log_rows(staff_server)) == before + 1


def test_later_commands_see_earlier_ones(staff_server: ServerProcess) -> None:
    op = Api(staff_server, "operator")
    cid = str(uuid.uuid4())
    create = op.body("client.create", cid, first_name="Batch", last_name="Order",
                     phone="+63 917 000 0009", address="9 Loopback St")
    edits = [op.body("client.update", cid, base_version=None, notes=f"edit {k}")
             for k in range(5)]
    got = results(batch(op, [create, *edits]))
    assert [a.status for a in got] == [200] * 6, [a.body for a in got]
    assert [a.record["version"] for a in got] == [1, 2, 3, 4, 5, 6]
    assert got[-1].record["notes"] == "edit 4"


def test_someone_elses_pair_is_refused_in_a_batch(staff_server: ServerProcess) -> None:
    t1, t2 = Api(staff_server, "therapist1"), Api(staff_server, "therapist2")
    body = slot(t1, fresh_day(), "08:00", "09:00")
    t1.send(body).ok()
    (stolen,) = results(batch(t2, [body]))
    assert (stolen.status, stolen.code) == (409, "duplicate_command")


def test_refusals_of_the_whole_batch(staff_server: ServerProcess) -> None:
    op = Api(staff_server, "operator")
    url = staff_server.url + "/api/commands/batch"

    def post(**kwargs: Any) -> httpx.Response:
        return loopback.post(url, headers={**op.headers, **kwargs.pop("headers", {})},
                          timeout=30, **kwargs)

    too_many = post(json={"commands": [op.body("notification.mark_all_read")
                                       for _ in range(BATCH_MAX + 1)]})
    assert too_many.status_code == 413
    assert too_many.json()["code"] == "too_many_commands"
    assert str(BATCH_MAX) in too_many.json()["message"]
    for body, status, code in [
        ({"commands": "nope"}, 422, "invalid_request"),
        ({}, 422, "invalid_request"),
        ([1, 2], 422, "invalid_request"),
    ]:
        r = post(json=body)
        assert (r.status_code, r.json()["code"]) == (status, code), r.text
        assert r.json()["status"] == "rejected"
    bad = post(content=b'{"commands": [', headers={"Content-Type": "application/json"})
    assert (bad.status_code, bad.json()["code"]) == (400, "malformed_json")
    anonymous = loopback.post(url, json={"commands": []}, timeout=30)
    assert anonymous.status_code == 401
    assert results(post(json={"commands": []})) == []


def test_the_route_is_in_the_openapi_schema(staff_server: ServerProcess) -> None:
    spec = loopback.get(staff_server.url + "/openapi.json", timeout=30).json()
    op = spec["paths"]["/api/commands/batch"]["post"]
    schemas = spec["components"]["schemas"]

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        ref = node.get("$ref")
        return schemas[ref.rsplit("/", 1)[1]] if isinstance(ref, str) else node

    schema = resolve(op["requestBody"]["content"]["application/json"]["schema"])
    assert schema["properties"]["commands"]["maxItems"] == BATCH_MAX
    assert "client_id" in resolve(schema["properties"]["commands"]["items"])["properties"]
    assert "413" in op["responses"] and "200" in op["responses"]
    assert op["security"] == [{"HTTPBearer": []}]
