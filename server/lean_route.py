"""A FastAPI route documented by one function and served by another, fenced
in one place.

The command routes are the hot path: solving FastAPI's body parameter and
dependencies was ~15 % of the server's CPU per command. Their handlers read
and check the body and the token themselves (server/api.py), while the
OpenAPI document still comes from a function with the usual signature (body
model, token, responses) that never runs.

It relies on one thing no FastAPI API promises: `APIRoute.__init__` builds
the route's ASGI app from `self.get_route_handler()`, which `LeanRoute`
overrides. `assumptions_broken()` says in words when that no longer holds
for the installed FastAPI (tests/server/test_fences.py fails with it): the
routes would then run the documenting function, which raises.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, MutableMapping
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.responses import Response

Handler = Callable[[Request], Coroutine[Any, Any, Response]]

# documenting function -> the handler that serves its requests
_served_by: dict[Callable[..., Any], Handler] = {}


class LeanRoute(APIRoute):
    """A route whose OpenAPI entry comes from its endpoint's signature like any
    other, but whose requests are served by the handler `add` gave it."""

    def get_route_handler(self) -> Handler:
        return _served_by[self.endpoint]


def add(router: APIRouter, path: str, documented: Callable[..., Any], handler: Handler,
        **route: Any) -> None:
    """`router.add_api_route(path, documented, **route)`, served by `handler`."""
    _served_by[documented] = handler
    router.add_api_route(path, documented, route_class_override=LeanRoute, **route)


def assumptions_broken() -> list[str]:
    """What LeanRoute relies on in the installed FastAPI that no longer holds,
    one sentence each (empty: all holds)."""

    async def documented(body: _Probe) -> None:
        raise AssertionError("the documenting function ran")

    async def handler(request: Request) -> Response:
        return Response(b"served", status_code=201)

    router = APIRouter()
    add(router, "/probe", documented, handler, methods=["POST"])
    app = FastAPI()
    app.include_router(router)
    broken: list[str] = []
    status, body = asyncio.run(_post(app, "/probe"))
    if (status, body) != (201, b"served"):
        broken.append("FastAPI's APIRoute no longer builds its app from get_route_handler(): "
                      f"a LeanRoute answered {status} {body[:80]!r}, not its handler's 201 "
                      "(server/lean_route.py; the command routes would fail)")
    operation = app.openapi().get("paths", {}).get("/probe", {}).get("post", {})
    if "requestBody" not in operation:
        broken.append("FastAPI no longer documents a LeanRoute from its endpoint's "
                      "signature: /api/commands would lose its body in the OpenAPI document")
    return broken


class _Probe(BaseModel):
    name: str


async def _post(app: FastAPI, path: str) -> tuple[int, bytes]:
    """One POST through the ASGI app, no server."""
    sent: list[dict[str, Any]] = []
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": path, "raw_path": path.encode(),
             "query_string": b"", "root_path": "", "headers": [(b"content-type",
                                                                  b"application/json")],
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}
    requests = [{"type": "http.request", "body": b'{"name": "x"}', "more_body": False}]

    async def receive() -> dict[str, Any]:
        return requests.pop(0) if requests else {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    try:
        await app(scope, receive, send)
    except Exception as exc:  # noqa: BLE001 - what broke is the answer
        return 500, repr(exc).encode()
    start = next((m for m in sent if m["type"] == "http.response.start"), {"status": 0})
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return int(start["status"]), body
