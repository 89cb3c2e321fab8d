"""Sessions end when they should (issue 17, points 3 and 4): an inactive
account is refused on every route, on the websocket and at sign-in; a
password reset refuses every older token; an open socket is closed (4401,
with a stable reason code) when its token expires, its account is set
inactive or its password is reset.

The standing is changed the way a script or another replica would: in the
database, through the server's own layers (server.repo, server.accounts),
while the server runs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import jwt
import orjson
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from server import repo
from server.accounts import reset_password
from server.auth import Passwords
from server.database import Database
from server.settings import ServerSettings
from testkit import loopback
from testkit.server import DEMO_PASSWORD, ServerProcess
from tests.server.helpers import Api

SETTLE = 10.0  # seconds a standing change may take to reach a socket (1 s check)


@pytest.fixture(scope="module")
def srv(staff_server: ServerProcess) -> ServerProcess:
    return staff_server


def _db(srv: ServerProcess) -> Database:
    return Database(ServerSettings(database_url=srv.database_url, secret_key="unused"))


async def set_active(srv: ServerProcess, user_id: str, active: bool) -> None:
    db = _db(srv)
    try:
        async with db.write() as tx:
            record = await repo.get(tx.conn, "staff", user_id)
            assert record is not None
            await repo.put(tx.conn, "staff", {**record, "active": active,
                                              "version": record["version"] + 1}, new=False)
    finally:
        await db.close()


async def new_password(srv: ServerProcess, user_id: str, password: str) -> None:
    db = _db(srv)
    try:
        hashed = Passwords(ServerSettings(password_time_cost=1,
                                          password_memory_kib=1024)).hash(password)
        assert await reset_password(db, user_id, hashed)
    finally:
        await db.close()


def login(srv: ServerProcess, username: str, password: str = DEMO_PASSWORD) -> httpx.Response:
    return loopback.post(srv.url + "/api/auth/login",
                      json={"username": username, "password": password}, timeout=30)


def signed_in_routes(srv: ServerProcess) -> list[tuple[str, str]]:
    """Every (method, path) the OpenAPI document says needs the token."""
    doc = loopback.get(srv.url + "/openapi.json", timeout=30).json()
    out = []
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            if op.get("security"):
                out.append((method.upper(), path.replace("{appointment_id}", "a-none")))
    assert len(out) >= 5, out
    return out


def call(srv: ServerProcess, method: str, path: str, token: str) -> httpx.Response:
    return loopback.request(method, srv.url + path, headers={"Authorization": f"Bearer {token}"},
                         json={} if method == "POST" else None, timeout=30)


async def live_socket(srv: ServerProcess, token: str) -> ClientConnection:
    ws = await connect(srv.ws_url, proxy=None, open_timeout=30)
    await ws.send(orjson.dumps({"type": "hello", "token": token}).decode())
    return ws


async def ending(ws: ClientConnection, within: float) -> tuple[int | None, list[Any]]:
    """Read until the server closes; (close code, frames)."""
    frames: list[Any] = []
    deadline = time.monotonic() + within
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None, frames
            frames.append(orjson.loads(await asyncio.wait_for(ws.recv(), left)))
    except ConnectionClosed:
        return ws.close_code, frames
    except TimeoutError:
        return None, frames
    finally:
        await ws.close()


def errors_of(frames: list[Any]) -> list[str]:
    return [f["code"] for f in frames if f.get("type") == "error"]


async def hello_refusal(srv: ServerProcess, token: str) -> tuple[int | None, list[Any]]:
    return await ending(await live_socket(srv, token), 15)


def test_an_inactive_account_is_refused_everywhere(srv: ServerProcess) -> None:
    d2 = Api(srv, "driver2")
    routes = signed_in_routes(srv)
    assert call(srv, "GET", "/api/sync/bootstrap", d2.token).status_code == 200

    async def deactivate_while_listening() -> tuple[int | None, list[Any]]:
        ws = await live_socket(srv, d2.token)
        await asyncio.sleep(0.3)
        await set_active(srv, d2.id, False)
        return await ending(ws, SETTLE)

    code, frames = asyncio.run(deactivate_while_listening())
    assert code == 4401 and errors_of(frames) == ["account_inactive"], (code, frames)

    for method, path in routes:
        r = call(srv, method, path, d2.token)
        assert r.status_code == 401 and r.json()["code"] == "account_inactive", \
            (method, path, r.text)
    code, frames = asyncio.run(hello_refusal(srv, d2.token))
    assert code == 4401 and errors_of(frames) == ["account_inactive"], (code, frames)
    refused = login(srv, "driver2")
    assert refused.status_code == 401 and refused.json()["code"] == "account_inactive", \
        refused.text
    assert "deactivated" in refused.json()["message"]
    # A wrong password learns nothing about the account's standing.
    wrong = login(srv, "driver2", "not-the-password")
    assert wrong.status_code == 401 and wrong.json()["code"] == "bad_credentials"

    asyncio.run(set_active(srv, d2.id, True))
    again = Api(srv, "driver2")
    assert call(srv, "GET", "/api/sync/bootstrap", again.token).status_code == 200


def test_a_password_reset_ends_every_session(srv: ServerProcess) -> None:
    t3 = Api(srv, "therapist3")
    other = Api(srv, "therapist3")  # a second device

    async def reset_while_listening() -> tuple[int | None, list[Any]]:
        ws = await live_socket(srv, t3.token)
        await asyncio.sleep(0.3)
        await new_password(srv, t3.id, "a-brand-new-password")
        return await ending(ws, SETTLE)

    code, frames = asyncio.run(reset_while_listening())
    assert code == 4401 and errors_of(frames) == ["session_revoked"], (code, frames)
    for token in (t3.token, other.token):
        r = call(srv, "GET", "/api/sync/bootstrap", token)
        assert r.status_code == 401 and r.json()["code"] == "session_revoked", r.text
        code, frames = asyncio.run(hello_refusal(srv, token))
        assert code == 4401 and errors_of(frames) == ["session_revoked"], (code, frames)
    assert login(srv, "therapist3").status_code == 401  # the old password is gone
    fresh = Api(srv, "therapist3", password="a-brand-new-password")
    assert call(srv, "GET", "/api/sync/bootstrap", fresh.token).status_code == 200


@pytest.fixture
def short_lived(server_factory: Callable[..., ServerProcess]) -> Iterator[ServerProcess]:
    yield server_factory(seed="staff", env={"TANDEM_TOKEN_TTL": "3"})


def test_an_open_socket_is_closed_when_its_token_expires(short_lived: ServerProcess) -> None:
    token = login(short_lived, "operator").json()["token"]

    async def listen() -> tuple[float, int | None, list[Any]]:
        ws = await live_socket(short_lived, token)
        code, frames = await ending(ws, 12)
        return time.time(), code, frames

    ended_at, code, frames = asyncio.run(listen())
    expires = jwt.decode(token, options={"verify_signature": False})["exp"]
    assert code == 4401 and errors_of(frames) == ["token_expired"], (code, frames)
    assert expires - 0.5 <= ended_at <= expires + 2.0, (ended_at - expires)
