"""Intruders at the door: expired and tampered tokens, password guessing,
foreign web pages on the websocket, and passwords leaking into logs or answers.
One real server (short token lifetime, debug logging) for the module."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import orjson
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from services.listener import close_promptly
from testkit import loopback
from testkit.server import DEMO_PASSWORD, ServerProcess

TTL = 10  # seconds: long enough to use a token once on a loaded machine
SECRET = "reliability-auth-secret-0123456789abcdef-xyz"
MARKER = "Wr0ng-Pa55-marker-7e1c"  # a wrong password we can look for
ALLOWED = "https://ops.example.test"


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    env = {"TANDEM_TOKEN_TTL": str(TTL), "TANDEM_SECRET_KEY": SECRET,
           "TANDEM_ALLOWED_ORIGINS": ALLOWED, "TANDEM_PICKUP_INTERVAL": "0",
           "TANDEM_AUTO_CANCEL_INTERVAL": "0"}
    with ServerProcess(tmp_path_factory.mktemp("auth"), seed="staff", env=env,
                       args=("--log-level", "debug")) as s:
        yield s


def login(srv: ServerProcess, username: str, password: str) -> httpx.Response:
    return loopback.post(srv.url + "/api/auth/login",
                      json={"username": username, "password": password}, timeout=60)


def bootstrap(srv: ServerProcess, token: str) -> httpx.Response:
    return loopback.get(srv.url + "/api/sync/bootstrap",
                     headers={"Authorization": f"Bearer {token}"}, timeout=60)


async def ws_close(srv: ServerProcess, token: str,
                   headers: dict[str, str] | None = None) -> tuple[int | None, list[Any]]:
    """Say hello; return (close code or None if still open after a ping, frames)."""
    frames: list[Any] = []
    ws = await connect(srv.ws_url, proxy=None, open_timeout=30,
                       additional_headers=headers or {})
    try:  # (the server may refuse before the hello: then sending it fails)
        await ws.send(orjson.dumps({"type": "hello", "token": token, "after": 0}).decode())
        while True:
            frames.append(orjson.loads(await asyncio.wait_for(ws.recv(), 30)))
            if frames[-1].get("type") == "event":
                return None, frames  # accepted: it streams
    except ConnectionClosed:
        return ws.close_code, frames
    except TimeoutError:
        return None, frames
    finally:
        await close_promptly(ws)  # mid-replay: a plain close waits out its timeout


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(data)).rstrip(b"=").decode()


def tampered(token: str) -> dict[str, str]:
    header, payload, sig = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    flip = "A" if sig[0] != "A" else "B"
    return {
        "role raised to operator": f"{header}.{b64({**claims, 'role': 'operator'})}.{sig}",
        "lifetime stretched": f"{header}.{b64({**claims, 'exp': claims['exp'] + 10**6})}.{sig}",
        "signature changed": f"{header}.{payload}.{flip}{sig[1:]}",
        "signature dropped": f"{header}.{payload}.",
        "alg none": jwt.encode({**claims, "role": "operator"}, key=None, algorithm="none"),
        "someone else's key": jwt.encode({**claims, "exp": int(time.time()) + 600},
                                         "not-the-server-key-0123456789abcdef", "HS256"),
        "garbage": "not.a.token",
    }


def test_tokens_expire(srv: ServerProcess) -> None:
    r = login(srv, "therapist1", DEMO_PASSWORD)
    token = r.json()["token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == TTL
    assert bootstrap(srv, token).status_code == 200
    time.sleep(max(0.0, claims["exp"] + 1.5 - time.time()))  # past expiry (+ leeway)
    late = bootstrap(srv, token)
    assert late.status_code == 401 and late.json()["code"] == "token_expired", late.text
    code, frames = asyncio.run(ws_close(srv, token))
    assert code == 4401, (code, frames)


def test_tampered_tokens_are_refused(srv: ServerProcess) -> None:
    token = login(srv, "therapist1", DEMO_PASSWORD).json()["token"]
    for why, bad in tampered(token).items():
        r = bootstrap(srv, bad)
        assert r.status_code == 401, (why, r.text)
        assert r.json()["code"] in ("invalid_token", "unauthorized"), (why, r.text)
        cmd = loopback.post(srv.url + "/api/commands", headers={"Authorization": f"Bearer {bad}"},
                         json={"client_id": "x", "seq": 1, "name": "client.create",
                               "target": "c-tamper", "args": {"first_name": "a",
                               "last_name": "b", "phone": "1", "address": "c"},
                               "base_version": None}, timeout=60)
        assert cmd.status_code == 401, (why, cmd.text)
        code, frames = asyncio.run(ws_close(srv, bad))
        assert code == 4401, (why, code, frames)


def test_login_attempts_are_rate_limited(srv: ServerProcess) -> None:
    """Failures past the free few make each next attempt wait twice as long."""
    first = login(srv, "driver2", MARKER)
    assert first.status_code == 401, first.text
    waits: list[int] = []
    for _ in range(40):  # 3 free failures, then blocks of 1, 2, 4, 8 s
        r = login(srv, "driver2", MARKER)
        if r.status_code == 429:
            assert r.json()["code"] == "too_many_attempts" and r.json()["message"], r.text
            waits.append(int(r.headers["Retry-After"]))
            if waits[-1] >= 6:
                break
            time.sleep(waits[-1])
        else:
            assert r.status_code == 401, r.text
    assert waits and waits[-1] >= 6, waits
    # Even the right password waits while blocked (guessing can't be sped up).
    blocked = login(srv, "driver2", DEMO_PASSWORD)
    assert blocked.status_code == 429, blocked.text
    # Someone else signing in from the same machine is not locked out.
    assert login(srv, "driver1", DEMO_PASSWORD).status_code == 200


def test_websocket_checks_the_origin_of_browsers(srv: ServerProcess) -> None:
    def token() -> str:  # fresh each time: they live only TTL seconds here
        return str(login(srv, "operator", DEMO_PASSWORD).json()["token"])

    for origin in ("https://evil.example", "null", f"http://127.0.0.1:{srv.port + 1}"):
        code, frames = asyncio.run(ws_close(srv, token(), {"Origin": origin}))
        assert code == 4403, (origin, code, frames)
    for headers in ({}, {"Origin": srv.url}, {"Origin": ALLOWED}):
        code, frames = asyncio.run(ws_close(srv, token(), headers))
        assert code is None and frames, (headers, code, frames)


def test_passwords_never_appear_in_logs_or_answers(srv: ServerProcess) -> None:
    answers: list[str] = []
    ok = login(srv, "therapist2", DEMO_PASSWORD)
    answers.append(ok.text)
    token = ok.json()["token"]
    answers.append(login(srv, "therapist2", MARKER).text)
    answers.append(login(srv, "nobody-" + MARKER, MARKER).text)
    for body in ({"username": 5, "password": MARKER}, {"password": MARKER},
                 {"username": "x", "password": [MARKER]}, {"username": "x" * 10_000,
                                                           "password": MARKER}):
        answers.append(loopback.post(srv.url + "/api/auth/login", json=body, timeout=60).text)
    op = login(srv, "operator", DEMO_PASSWORD).json()["token"]
    answers += [bootstrap(srv, token).text, bootstrap(srv, op).text]
    answers.append(loopback.get(srv.url + "/openapi.json", timeout=60).text)
    log = srv.output()
    assert "POST /api/auth/login" in log or "login" in log.lower(), "debug log is empty?"
    for secret in (DEMO_PASSWORD, MARKER, "$argon2", "password_hash", SECRET):
        for text in answers:
            assert secret not in text, (secret, text[:300])
    # Password hashes in the debug log: test_hash_in_debug_log.py.
    for secret in (DEMO_PASSWORD, MARKER, SECRET):
        assert secret not in log, (secret, [ln for ln in log.splitlines() if secret in ln][:3])


def test_signing_keys_can_be_rotated(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A server given a new key and the old one as previous: tokens signed
    with the old key still work (until they expire); new tokens are signed
    with the new key only; a key it wasn't given is refused."""
    new = "reliability-auth-rotated-key-0123456789abcdef"
    env = {"TANDEM_SECRET_KEY": new, "TANDEM_PREVIOUS_SECRET_KEYS": SECRET,
           "TANDEM_PICKUP_INTERVAL": "0", "TANDEM_AUTO_CANCEL_INTERVAL": "0"}
    with ServerProcess(tmp_path_factory.mktemp("rotation"), seed="staff", env=env) as rotated:
        issued = login(rotated, "therapist1", DEMO_PASSWORD).json()["token"]
        claims = jwt.decode(issued, new, algorithms=["HS256"])  # signed with the new key
        with pytest.raises(jwt.InvalidSignatureError):
            jwt.decode(issued, SECRET, algorithms=["HS256"])
        old = jwt.encode(claims, SECRET, "HS256")  # as the server signed before the rotation
        assert bootstrap(rotated, old).status_code == 200
        code, frames = asyncio.run(ws_close(rotated, old))
        assert code is None and frames, (code, frames)
        stranger = jwt.encode(claims, "a-key-this-server-was-never-given-0123456789", "HS256")
        refused = bootstrap(rotated, stranger)
        assert refused.status_code == 401 and refused.json()["code"] == "invalid_token"
