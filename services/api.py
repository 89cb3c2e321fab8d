"""The HTTP side of the wire protocol on httpx, with friendly errors.

`ApiError(code, message, status)` for every failure: `status` is the HTTP
status, or None for a network failure (`NetworkError`: the server could not
be reached or did not answer in time), so callers can tell "the server said
no" from "we could not ask". An answer that came but can't be read (a body
that won't decode, e.g. a proxy's bad gzip; not JSON where JSON is due; JSON
of the wrong shape; any other httpx error) is `BadAnswer` (code
"bad_answer", `status` the HTTP status when known). Nothing else escapes
`Api`: every httpx.HTTPError becomes one of these two, in `request` and
`_json`, the only places that read an answer.
"""

from __future__ import annotations

import asyncio
import importlib.util
import ssl
import sys
from typing import Any
from urllib.parse import quote

import httpx

from store import jsoncodec
from store.storage import gc_paused

# httpcore tries `import sniffio` on every request to learn the async library.
# When sniffio is not installed, each failed import walks sys.path (dozens of
# stat calls): ~3 ms per request on a busy machine, a third of the client's
# CPU while draining an outbox. Python caches a known-missing module as None.
if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
    sys.modules["sniffio"] = None  # type: ignore[assignment]

NETWORK_MESSAGE = "Can't reach the server right now. Your changes are kept and will be sent."
SERVER_MESSAGE = "The server had a problem. We'll try again shortly."
BAD_ANSWER_MESSAGE = "The server's answer couldn't be read. We'll try again shortly."


class ApiError(Exception):
    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.status}, {self.code!r}, {self.message!r})"


class NetworkError(ApiError):
    """No answer: connection refused / reset, DNS, timeout."""

    def __init__(self, detail: str = "") -> None:
        super().__init__("network", NETWORK_MESSAGE, None)
        self.detail = detail


class BadAnswer(ApiError):
    """An answer came but makes no sense: undecodable, not JSON, wrong shape."""

    def __init__(self, detail: str = "", status: int | None = None) -> None:
        super().__init__("bad_answer", BAD_ANSWER_MESSAGE, status)
        self.detail = detail


def error_of(response: httpx.Response) -> ApiError:
    """The ApiError a non-2xx response stands for."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("code"), str):
        return ApiError(body["code"], str(body.get("message") or body["code"]),
                        response.status_code)
    if response.status_code >= 500:
        return ApiError("server_error", SERVER_MESSAGE, response.status_code)
    return ApiError("http_error", f"The server answered {response.status_code}.",
                    response.status_code)


_UNREADABLE: Any = object()


def _json(response: httpx.Response, default: Any = _UNREADABLE) -> Any:
    """The JSON body of `response`; when it isn't JSON, `default`, or (none
    given) raise BadAnswer."""
    try:
        return jsoncodec.loads(response.content)
    except jsoncodec.DecodeError as exc:
        if default is _UNREADABLE:
            raise BadAnswer(f"not JSON: {exc}", response.status_code) from exc
        return default


_ssl: ssl.SSLContext | None = None


def shared_ssl_context() -> ssl.SSLContext:
    """One TLS context (certifi's CAs, or SSL_CERT_FILE/SSL_CERT_DIR) for every
    Api in this process. httpx builds one per client even for http:// URLs,
    loading the CA bundle each time: ~25 ms of CPU per sign-in, most of the
    start-up of 250 clients in one process (bench propagation), and paid for
    every browser session of the web UI."""
    global _ssl
    if _ssl is None:
        _ssl = httpx.create_ssl_context()
    return _ssl


def in_process(app: Any) -> httpx.AsyncBaseTransport:
    """Requests to an ASGI app running in this very process, without a socket:
    the embedded server's own web tabs (main.py) reach it so, with no loopback
    connection and no HTTP parsing between a tap and its command. The app
    answers as over a socket: through its middleware, and a crash is a 500,
    not the server's exception in the client."""
    return httpx.ASGITransport(app=app, raise_app_exceptions=False)


KEEPALIVE_SECONDS = 4.0


class Api:
    """One server, one (optional) bearer token."""

    def __init__(self, base_url: str, token: str | None = None, *, timeout: float = 10.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self._timeout = timeout
        self._transport = transport
        self._http = self._pool()
        self._retired: set[asyncio.Task[None]] = set()

    def _pool(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.base_url,
            timeout=httpx.Timeout(self._timeout, connect=min(self._timeout, 5.0)),
            transport=self._transport,
            verify=shared_ssl_context(),
            # Reuse an idle connection for less time than servers keep it
            # (uvicorn: 5 s, httpx's own default too), so a request never goes
            # out on a connection the server is closing at that moment (seen in
            # the soak as commands resent after "no answer").
            limits=httpx.Limits(keepalive_expiry=KEEPALIVE_SECONDS),
        )

    def renew(self) -> None:
        """Send on new connections from now on: the app is back from the
        background, and a connection kept from before may have died while it
        was frozen (a request on it would wait out its whole timeout). The old
        ones close meanwhile; a request still on one fails and is sent again."""
        if self._transport is not None:  # the caller's own transport: theirs to manage
            return
        old, self._http = self._http, self._pool()
        task = asyncio.get_running_loop().create_task(old.aclose())
        self._retired.add(task)
        task.add_done_callback(self._retired.discard)

    @property
    def ws_url(self) -> str:
        scheme = "wss" if self.base_url.startswith("https") else "ws"
        return scheme + ":" + self.base_url.split(":", 1)[1] + "/api/ws"

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send a request and read its answer; raises NetworkError when there
        is no answer, BadAnswer when there is one that can't be read."""
        headers = kwargs.pop("headers", {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            return await self._http.request(method, path, headers=headers, **kwargs)
        except httpx.TransportError as exc:  # connect/read errors and timeouts
            raise NetworkError(repr(exc)) from exc
        except httpx.HTTPError as exc:  # e.g. DecodingError: a body that won't decode
            raise BadAnswer(repr(exc)) from exc

    async def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON body of a 2xx answer, else raise ApiError."""
        response = await self.request(method, path, **kwargs)
        if response.status_code >= 300:
            raise error_of(response)
        with gc_paused():  # a bootstrap can be tens of thousands of records
            return _json(response)

    async def _object(self, method: str, path: str, *keys: str, **kwargs: Any) -> dict[str, Any]:
        """`call` for an answer that must be a JSON object with `keys`."""
        body = await self.call(method, path, **kwargs)
        if not isinstance(body, dict) or any(key not in body for key in keys):
            raise BadAnswer(f"{method} {path}: expected an object with {keys}", 200)
        return body

    async def login(self, username: str, password: str) -> dict[str, Any]:
        body = await self._object("POST", "/api/auth/login", "token", "user",
                                  json={"username": username, "password": password})
        self.token = body["token"]
        return body

    async def bootstrap(self) -> dict[str, Any]:
        return await self._object("GET", "/api/sync/bootstrap")

    async def events(self, after: int, limit: int = 500) -> dict[str, Any]:
        """Raises ApiError with status 410 (resync_required) when too old."""
        return await self._object("GET", "/api/events",
                                  params={"after": after, "limit": limit})

    async def command(self, wire: dict[str, Any]) -> tuple[int, Any]:
        """POST a command: (status, JSON body or None). The sender classifies."""
        response = await self.request("POST", "/api/commands", json=wire)
        return response.status_code, _json(response, None)

    async def commands(self, wires: list[dict[str, Any]]) -> tuple[int, Any]:
        """POST several commands to /api/commands/batch: (status, JSON body or
        None). 200 → {"results": [{status_code, body}, ...]} in order; 404 →
        an older server without the route (send them one by one)."""
        response = await self.request("POST", "/api/commands/batch",
                                      content=jsoncodec.dumps({"commands": wires}),
                                      headers={"Content-Type": "application/json"})
        return response.status_code, _json(response, None)

    async def timeline(self, appointment_id: str) -> list[dict[str, Any]]:
        """One appointment's history (the server's extension, server/README.md):
        entries {seq, at, version, actor {id, name, role}, command,
        status_before, status_after, summary}, oldest first. ApiError 404
        not_found when it doesn't exist or isn't visible to this user."""
        path = f"/api/appointments/{quote(appointment_id, safe='')}/timeline"
        body = await self._object("GET", path, "entries")
        entries = body["entries"]
        if not isinstance(entries, list):
            raise BadAnswer(f"GET {path}: entries is not a list", 200)
        return entries

    async def upload_receipt(self, appointment_id: str, data: bytes) -> dict[str, Any]:
        """Attach a receipt photo (the raw bytes): {id, content_type, size,
        uploaded_by, uploaded_at}. ApiError 413 too_large, 415 not_an_image,
        404 not_found (server/receipts.py)."""
        path = f"/api/appointments/{quote(appointment_id, safe='')}/receipts"
        return await self._object("POST", path, "id", content=data, timeout=60.0,
                                  headers={"Content-Type": "application/octet-stream"})

    async def receipt(self, appointment_id: str, receipt_id: str) -> bytes:
        """One receipt photo's bytes; ApiError 404 when it isn't there for you."""
        path = (f"/api/appointments/{quote(appointment_id, safe='')}/receipts/"
                f"{quote(receipt_id, safe='')}")
        response = await self.request("GET", path, timeout=60.0)
        if response.status_code >= 300:
            raise error_of(response)
        return response.content

    async def sales_csv(self, by: str, start: str | None, end: str | None) -> bytes:
        """The sales report as CSV (operators; server/reports.py)."""
        params = {k: v for k, v in (("by", by), ("start", start), ("end", end)) if v}
        response = await self.request("GET", "/api/reports/sales.csv", params=params)
        if response.status_code >= 300:
            raise error_of(response)
        return response.content

    async def health(self) -> bool:
        try:
            response = await self.request("GET", "/api/health")
        except NetworkError:
            return False
        return response.status_code == 200

    async def aclose(self) -> None:
        await self._http.aclose()
        if self._retired:
            await asyncio.wait(self._retired)
