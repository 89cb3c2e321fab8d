"""`create_app(settings, mounts=..., lifespan_hooks=...)` in-process (uvicorn on
a thread), as main.py composes it, and the OpenAPI description."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from starlette.types import Receive, Scope, Send
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from server.app import create_app
from server.settings import ServerSettings
from testkit import loopback
from testkit.server import free_port


async def hello_app(scope: Scope, receive: Receive, send: Send) -> None:
    """A stand-in for the web UI mounted at /app (its files, its websocket);
    like Flet's web app, it allows any origin to read its files."""
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": "hello from the UI"})
        await send({"type": "websocket.close", "code": 1000})
        return
    assert scope["type"] == "http"
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"),
                            (b"access-control-allow-origin", b"*")]})
    await send({"type": "http.response.body", "body": b"hello from " + scope["path"].encode()})


@pytest.fixture
def composed(tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    journal: list[str] = []

    @asynccontextmanager
    async def hook() -> AsyncIterator[None]:
        journal.append("enter")
        yield
        journal.append("exit")

    port = free_port()
    settings = ServerSettings(host="127.0.0.1", port=port, seed="staff",
                              database_url=f"sqlite:///{tmp_path}/app.db",
                              secret_key="in-process-secret-0123456789abcdefghij")
    app = create_app(settings, mounts=[("/app", hello_app)], lifespan_hooks=[hook])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "did not start"
        time.sleep(0.05)
    yield url, journal
    server.should_exit = True
    thread.join(15)
    assert journal == ["enter", "exit"]


def test_mounts_and_lifespan_hooks(composed: tuple[str, list[str]]) -> None:
    url, journal = composed
    assert journal == ["enter"]
    assert loopback.get(url + "/app/anything").text == "hello from /app/anything"
    r = loopback.post(url + "/api/auth/login", json={"username": "operator",
                                                  "password": "demo1234"})
    assert r.status_code == 200 and r.json()["user"]["role"] == "operator"
    # Big bodies are limited on the API only, never on the mounted app.
    big = loopback.post(url + "/api/commands", content=b"x" * 300_000)
    assert big.status_code == 413


def test_openapi_documents_every_endpoint_and_error(composed: tuple[str, list[str]]) -> None:
    url, _ = composed
    spec: dict[str, Any] = loopback.get(url + "/openapi.json").json()
    paths = spec["paths"]
    assert {"/api/auth/login", "/api/commands", "/api/sync/bootstrap",
            "/api/events"} <= set(paths)
    commands = paths["/api/commands"]["post"]
    assert {"200", "400", "401", "403", "404", "409", "413", "422"} <= set(commands["responses"])
    rejected = commands["responses"]["409"]["content"]["application/json"]["schema"]["$ref"]
    assert rejected.endswith("/Rejected")
    assert "410" in paths["/api/events"]["get"]["responses"]
    assert "429" in paths["/api/auth/login"]["post"]["responses"]
    assert "CommandIn" in spec["components"]["schemas"]
    # Any route may answer an unexpected error: a Rejected body (server_error), not text.
    for path, operations in paths.items():
        for method, operation in operations.items():
            error = operation["responses"].get("500")
            assert error, f"{method} {path} doesn't document its 500"
            ref = error["content"]["application/json"]["schema"]["$ref"]
            assert ref.endswith("/Rejected"), (method, path)
    assert loopback.get(url + "/docs").status_code == 200


async def _ui_socket(url: str, origin: str | None) -> str:
    kwargs: dict[str, Any] = {"origin": origin} if origin else {}
    async with connect(url.replace("http://", "ws://") + "/app/ws", proxy=None,
                       **kwargs) as ws:
        return str(await asyncio.wait_for(ws.recv(), 5))


def test_the_ui_websocket_keeps_the_api_origin_rule(composed: tuple[str, list[str]]) -> None:
    """Issue 17, point 5: /app/ws refuses a foreign Origin as /api/ws does."""
    url, _ = composed
    with pytest.raises(InvalidStatus) as refused:
        asyncio.run(_ui_socket(url, "http://evil.example"))
    assert refused.value.response.status_code == 403
    assert asyncio.run(_ui_socket(url, url)) == "hello from the UI"  # its own page
    assert asyncio.run(_ui_socket(url, None)) == "hello from the UI"  # not a browser


def test_security_headers_on_the_api_and_the_ui(composed: tuple[str, list[str]]) -> None:
    """Issue 17, point 6: nosniff, no referrer, no framing, a CSP; no
    Access-Control-Allow-Origin: * (not even the UI's own files)."""
    url, _ = composed
    token = loopback.post(url + "/api/auth/login", json={"username": "operator",
                                                      "password": "demo1234"}).json()["token"]
    answers = {
        "health": loopback.get(url + "/api/health"),
        "bootstrap": loopback.get(url + "/api/sync/bootstrap", headers={
            "Authorization": f"Bearer {token}", "Origin": "http://evil.example"}),
        "refusal": loopback.get(url + "/api/sync/bootstrap"),
        "ui": loopback.get(url + "/app/index.html"),
        "docs": loopback.get(url + "/docs"),
    }
    for name, r in answers.items():
        h = r.headers
        assert h["x-content-type-options"] == "nosniff", name
        assert h["referrer-policy"] == "no-referrer", name
        assert h["x-frame-options"] == "DENY", name
        assert "frame-ancestors 'none'" in h["content-security-policy"], name
        assert "access-control-allow-origin" not in h, (name, h)
    for name in ("health", "bootstrap", "refusal"):
        assert answers[name].headers["content-security-policy"].startswith("default-src 'none'")
    assert "default-src 'self'" in answers["ui"].headers["content-security-policy"]


def test_openapi_describes_the_limits_the_server_enforces(
        composed: tuple[str, list[str]]) -> None:
    """Issue 17, point 8: the command names, the counters' bounds, the batch
    limits, 410 resync_required and the sign-in refusals are in the document
    (schemathesis --checks all holds the server to it: tests/reliability)."""
    from domain.apply import COMMANDS
    from server.wire import BATCH_MAX

    url, _ = composed
    spec: dict[str, Any] = loopback.get(url + "/openapi.json").json()
    command = spec["components"]["schemas"]["CommandIn"]["properties"]
    assert set(command["name"]["enum"]) == set(COMMANDS)
    assert (command["seq"]["minimum"], command["seq"]["maximum"]) == (0, 2**62)
    version = next(b for b in command["base_version"]["anyOf"] if b.get("type") == "integer")
    assert (version["minimum"], version["maximum"]) == (0, 2**62)
    batch = spec["components"]["schemas"]["BatchIn"]["properties"]["commands"]
    assert batch["maxItems"] == BATCH_MAX and "too_many_commands" in batch["description"]
    events = spec["paths"]["/api/events"]["get"]
    assert "resync_required" in events["responses"]["410"]["description"]
    assert "beyond its head" in events["description"]
    login = spec["paths"]["/api/auth/login"]["post"]["responses"]
    assert "account_inactive" in login["401"]["description"]
    assert "Retry-After" in login["429"]["description"]
