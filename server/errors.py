"""Every error leaves as {"status": "rejected", "code", "message"}: exception
handlers for FastAPI's own errors and for anything unexpected (500
`server_error`, never a plain-text page), and a body-size limit in front of
the API."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("tandem.http")

BUSY_MESSAGE = "The server is busy. Please try again in a moment."
SERVER_ERROR_MESSAGE = "The server had a problem. Please try again."


class JSON(Response):
    """A JSON response encoded with orjson."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


class WireError(Exception):
    """Raise to answer with a rejection body."""

    def __init__(self, status: int, code: str, message: str,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = dict(headers or {})


def rejected(status: int, code: str, message: str,
             headers: Mapping[str, str] | None = None) -> JSON:
    return JSON({"status": "rejected", "code": code, "message": message},
                          status_code=status, headers=dict(headers or {}))


_HTTP_CODES = {
    400: ("malformed_json", "The request body could not be read."),
    401: ("unauthorized", "Please sign in."),
    403: ("forbidden", "You can't do that."),
    404: ("not_found", "There's nothing at this address."),
    405: ("method_not_allowed", "This address doesn't accept that method."),
}


def _where(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "header", "path")]
    return ".".join(parts) or "body"


async def _validation(_req: Request, exc: Exception) -> JSON:
    assert isinstance(exc, RequestValidationError)
    errs = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errs):
        return rejected(400, "malformed_json", "The request body is not valid JSON.")
    return rejected(422, "invalid_request", invalid_message(errs))


def invalid_message(errs: Sequence[Mapping[str, Any]]) -> str:
    """An `invalid_request` message: where the first validation error is, and what."""
    first = errs[0] if errs else {}
    where = _where(tuple(first.get("loc", ())))
    return f"{where}: {first.get('msg', 'is not valid')}."


async def _wire(_req: Request, exc: Exception) -> JSON:
    assert isinstance(exc, WireError)
    return rejected(exc.status, exc.code, exc.message, exc.headers)


async def _http(_req: Request, exc: Exception) -> JSON:
    assert isinstance(exc, StarletteHTTPException)
    code, message = _HTTP_CODES.get(exc.status_code, ("http_error", str(exc.detail)))
    return rejected(exc.status_code, code, message, exc.headers)


async def _database(_req: Request, exc: Exception) -> JSON:
    log.warning("database unavailable: %s", exc)
    return rejected(503, "unavailable", BUSY_MESSAGE, {"Retry-After": "1"})


async def _unexpected(_req: Request, _exc: Exception) -> JSON:
    # Starlette's ServerErrorMiddleware sends this, then re-raises the
    # exception for the ASGI server to log with its traceback.
    return rejected(500, "server_error", SERVER_ERROR_MESSAGE)


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(WireError, _wire)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(OperationalError, _database)
    app.add_exception_handler(Exception, _unexpected)  # the last resort: JSON, not text


# An upload route's own limit: (path pattern, bytes, the refusal for a body
# of the given size, or of more than the limit when its length isn't known).
Upload = tuple[re.Pattern[str], int, Callable[[int], JSON]]


class BodyLimit:
    """Refuse API request bodies over `limit` bytes with 413 (before parsing);
    the `uploads` routes have their own limit and refusal."""

    def __init__(self, app: ASGIApp, limit: int, prefix: str = "/api",
                 uploads: Sequence[Upload] = ()) -> None:
        self.app, self.limit, self.prefix = app, limit, prefix
        self.uploads = tuple(uploads)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        limit = self.limit
        refusal: Callable[[int], JSON] = self._too_large_answer
        for pattern, bytes_, answer in self.uploads:
            if pattern.fullmatch(path):
                limit, refusal = bytes_, answer
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    if int(value) > limit:
                        await refusal(int(value))(scope, receive, send)
                        return
                except ValueError:
                    pass
        # Stream-read the body (chunked uploads have no length) up to the limit.
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message]), send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await refusal(size)(scope, receive, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        await self.app(scope, _replay([{"type": "http.request", "body": body,
                                        "more_body": False}], receive), send)

    def _too_large_answer(self, _size: int) -> JSON:
        return rejected(413, "too_large",
                        f"The request is too large (at most {self.limit // 1024} KiB).")


def _replay(messages: list[Message], then: Receive | None = None) -> Receive:
    queue = list(messages)

    async def receive() -> Message:
        if queue:
            return queue.pop(0)
        if then is not None:
            return await then()
        return {"type": "http.disconnect"}

    return receive
