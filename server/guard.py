"""What every answer of the server carries, and who may open a websocket.

- `origin_allowed`: the one Origin rule for every websocket (the API's
  `/api/ws` and the web UI's `/app/ws`): no Origin (apps, tools) or the
  server's own host, or one of `TANDEM_ALLOWED_ORIGINS`. A browser page of
  another site can't open either with the user's cookies or session.
- `OriginGuard`: that rule in front of a mounted app (the web UI): a foreign
  Origin's handshake is refused (HTTP 403) before the app sees it.
- `SecurityHeaders`: nosniff, no referrer, no framing (CSP frame-ancestors
  and X-Frame-Options) on every HTTP answer; the API's JSON gets a policy
  that allows nothing, the web UI one its Flutter engine runs under (inline
  bootstrap, WebAssembly, blob workers, same-origin websocket). And no
  `Access-Control-Allow-Origin: *` (Flet's web app adds one to its files).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# Flet's web client: inline <script>s in its index.html (rewritten per app, so
# no fixed hashes), CanvasKit/skwasm as WebAssembly, a blob: worker, fonts and
# images from data:/blob:, its websocket to the same origin.
UI_POLICY = (
    "default-src 'self'; "
    "script-src 'self' 'unsafe-inline' 'unsafe-eval' 'wasm-unsafe-eval' blob:; "
    "style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; "
    "connect-src 'self' data: blob:; worker-src 'self' blob:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# FastAPI's /docs and /redoc pages load their scripts from a CDN.
DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
    "font-src 'self' https://fonts.gstatic.com; worker-src 'self' blob:; "
    "object-src 'none'; frame-ancestors 'none'"
)
COMMON = (
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
)


def origin_allowed(headers: Mapping[str, str], allowed: Iterable[str]) -> bool:
    origin = headers.get("origin")
    if not origin:
        return True  # not a browser: apps and tools send no Origin
    allowed = tuple(allowed)
    if origin in allowed or "*" in allowed:
        return True
    return urlsplit(origin).netloc.lower() == headers.get("host", "").lower()


class OriginGuard:
    """ASGI wrapper: websockets from a foreign Origin are refused (403)."""

    def __init__(self, app: ASGIApp, allowed: Iterable[str] = ()) -> None:
        self.app = app
        self.allowed = tuple(allowed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and not origin_allowed(Headers(scope=scope),
                                                               self.allowed):
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": 4403,
                        "reason": "origin not allowed"})
            return
        await self.app(scope, receive, send)


def policy_for(path: str) -> str:
    if path.startswith("/api/") or path == "/openapi.json":
        return API_POLICY
    if path.startswith(("/docs", "/redoc")):
        return DOCS_POLICY
    return UI_POLICY


class SecurityHeaders:
    """ASGI middleware: the headers above on every HTTP answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, root = scope["path"], scope.get("root_path", "")
        if root and not path.startswith(root):  # (older Starlette: path below the mount)
            path = root + path
        policy = policy_for(path)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in COMMON:
                    headers.setdefault(name, value)
                headers.setdefault("content-security-policy", policy)
                if headers.get("access-control-allow-origin") == "*":
                    del headers["access-control-allow-origin"]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def guarded(app: ASGIApp, allowed_origins: Iterable[str] = ()) -> ASGIApp:
    """A mounted web app with the server's headers and websocket Origin rule."""
    return SecurityHeaders(OriginGuard(app, allowed_origins))
