"""`create_app(settings, mounts=..., lifespan_hooks=...)` in-process (uvicorn on
a thread), as main.py composes it, and the OpenAPI description."""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.types import Receive, Scope, Send

from server.app import create_app
from server.settings import ServerSettings
from testkit.server import free_port


async def hello_app(scope: Scope, receive: Receive, send: Send) -> None:
    """A stand-in for the web UI mounted at /app."""
    assert scope["type"] == "http"
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain")]})
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
    assert httpx.get(url + "/app/anything").text == "hello from /app/anything"
    r = httpx.post(url + "/api/auth/login", json={"username": "operator",
                                                  "password": "demo1234"})
    assert r.status_code == 200 and r.json()["user"]["role"] == "operator"
    # Big bodies are limited on the API only, never on the mounted app.
    big = httpx.post(url + "/api/commands", content=b"x" * 300_000)
    assert big.status_code == 413


def test_openapi_documents_every_endpoint_and_error(composed: tuple[str, list[str]]) -> None:
    url, _ = composed
    spec: dict[str, Any] = httpx.get(url + "/openapi.json").json()
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
    assert httpx.get(url + "/docs").status_code == 200
