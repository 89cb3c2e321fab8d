"""POST /api/commands reads its body and token itself (the lean hot path, see
server/api.py): these are the answers FastAPI's body parameter and
dependencies gave before, pinned case by case (recorded from that version),
and the batch route answers the same per command."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from testkit import loopback
from testkit.server import ServerProcess

JSON = {"Content-Type": "application/json"}
OBJECT = "body: Input should be a valid dictionary or object to extract fields from."


def command(**over: Any) -> dict[str, Any]:
    body = {"client_id": f"edge-{uuid.uuid4()}", "seq": 1, "name": "client.create",
            "target": str(uuid.uuid4()), "base_version": None,
            "args": {"first_name": "Edge", "last_name": "Case", "phone": "+63 917 000 0004",
                     "address": "4 Loopback St"}}
    body.update(over)
    return body


def raw(**over: Any) -> bytes:
    return json.dumps(command(**over)).encode()


# (case, headers besides the token, body) → (status, code, message)
CASES: list[tuple[str, dict[str, str], bytes, int, str, str]] = [
    ("empty body", JSON, b"", 422, "invalid_request", "body: Field required."),
    ("blank body", JSON, b"   ", 400, "malformed_json", "The request body is not valid JSON."),
    ("trailing garbage", JSON, raw() + b"x", 400, "malformed_json",
     "The request body is not valid JSON."),
    ("nested too deep", JSON, b'{"a":' + b"[" * 5000 + b"]" * 5000 + b"}", 400,
     "malformed_json", "The request body could not be read."),
    ("no content type", {}, raw(), 422, "invalid_request", OBJECT),
    ("text/plain", {"Content-Type": "text/plain"}, raw(), 422, "invalid_request", OBJECT),
    ("a list", JSON, b"[1, 2]", 422, "invalid_request", OBJECT),
    ("null", JSON, b"null", 422, "invalid_request", OBJECT),
    ("no fields", JSON, b"{}", 422, "invalid_request", "client_id: Field required."),
    ("seq as text", JSON, raw(seq="1"), 422, "invalid_request",
     "seq: Input should be a valid integer."),
    ("seq 1.0", JSON, raw(seq=7).replace(b'"seq": 7', b'"seq": 7.0'), 422, "invalid_request",
     "seq: Input should be a valid integer."),
    ("seq beyond 64 bits", JSON,
     raw(seq=7).replace(b'"seq": 7', b'"seq": 1180591620717411303424'), 422,
     "invalid_request", "seq: Input should be less than or equal to 4611686018427387904."),
    ("args a list", JSON, raw(args=[1]), 422, "invalid_request",
     "args: Input should be a valid dictionary."),
    ("lone surrogate in args", JSON, raw().replace(b'"Edge"', b'"\\ud800"'), 422,
     "invalid_request", "args: contains characters that can't be stored."),
    ("lone surrogate in client_id", JSON, raw(client_id="\ud800"), 422, "invalid_request",
     "client_id: Input should be a valid string, unable to parse raw data as a unicode "
     "string."),
    ("NaN in args: parsed, then refused by the domain", JSON,
     raw().replace(b'"Edge"', b'"Edge", "x": NaN'), 422, "invalid_args",
     "Unknown field(s): x."),
    ("unknown command", JSON, raw(name="nope.nope"), 400, "unknown_command",
     "There is no command called 'nope.nope'."),
]


@pytest.mark.parametrize(("headers", "body", "status", "code", "message"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_refusals_are_as_before(staff_server: ServerProcess, headers: dict[str, str],
                                body: bytes, status: int, code: str, message: str) -> None:
    token = staff_server.login("operator")
    r = loopback.post(staff_server.url + "/api/commands", content=body, timeout=30,
                   headers={"Authorization": f"Bearer {token}", **headers})
    assert (r.status_code, r.json()) == (status, {"status": "rejected", "code": code,
                                                  "message": message})


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8",
                                          "Application/JSON", "application/vnd.tandem+json"])
def test_json_content_types_and_encodings_are_read(staff_server: ServerProcess,
                                                   content_type: str) -> None:
    token = staff_server.login("operator")
    for body in (raw(), json.dumps(command()).encode("utf-16"), b"\xef\xbb\xbf" + raw()):
        r = loopback.post(staff_server.url + "/api/commands", content=body, timeout=30,
                       headers={"Authorization": f"Bearer {token}",
                                "Content-Type": content_type})
        assert r.status_code == 200 and r.json()["status"] == "applied", r.text


def test_order_of_refusals_json_then_token_then_fields(staff_server: ServerProcess) -> None:
    url = staff_server.url + "/api/commands"
    bad_json = loopback.post(url, content=b"{", headers=JSON, timeout=30)
    assert (bad_json.status_code, bad_json.json()["code"]) == (400, "malformed_json")
    for auth in ({}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer"}):
        r = loopback.post(url, content=b'{"x": 1}', headers={**JSON, **auth}, timeout=30)
        assert (r.status_code, r.json()["code"]) == (401, "unauthorized")
        assert r.headers["www-authenticate"] == "Bearer"
    forged = loopback.post(url, content=b'{"x": 1}', timeout=30,
                        headers={**JSON, "Authorization": "Bearer abc.def.ghi"})
    assert (forged.status_code, forged.json()["code"]) == (401, "invalid_token")


def test_the_batch_answers_each_malformed_command_the_same(
        staff_server: ServerProcess) -> None:
    token = staff_server.login("operator")
    items = [command(seq="1"), command(args=[1]), command(name=""), {"x": 1}, [1], None]
    r = loopback.post(staff_server.url + "/api/commands/batch", json={"commands": items},
                   headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert r.status_code == 200, r.text
    for item, result in zip(items, r.json()["results"], strict=True):
        alone = loopback.post(staff_server.url + "/api/commands", content=json.dumps(item),
                           headers={"Authorization": f"Bearer {token}", **JSON}, timeout=30)
        assert (result["status_code"], result["body"]) == (alone.status_code, alone.json())
