"""The ASGI app: `create_app(settings, mounts=(), lifespan_hooks=())`.

`mounts` are (path, asgi_app) pairs mounted after the API routes (the web UI),
behind the same websocket Origin rule as /api/ws (server.guard); every HTTP
answer, the mounts' too, carries the security headers (server.guard);
`lifespan_hooks` are zero-argument callables returning async context managers
entered while the app runs (after the server is ready, left before it stops).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp

from server import api, errors, receipts, reports, ws
from server.guard import OriginGuard, SecurityHeaders
from server.replication import Replication
from server.runtime import Runtime
from server.settings import ServerSettings
from server.uvicorn_ws import KeepServerSend

LifespanHook = Callable[[], AbstractAsyncContextManager[Any]]


def create_app(
    settings: ServerSettings,
    *,
    mounts: Sequence[tuple[str, ASGIApp]] = (),
    lifespan_hooks: Sequence[LifespanHook] = (),
) -> FastAPI:
    settings = settings.resolved()
    rt = Runtime(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Replicas (PostgreSQL) hear each other's commits; hooked in before the
        # runtime starts so even the seed's writes keep the hub in order.
        replication = None if rt.db.is_sqlite else Replication(rt)
        app.state.replication = replication
        await rt.start()
        try:
            async with AsyncExitStack() as stack:
                if replication is not None:
                    await replication.start()
                    stack.push_async_callback(replication.stop)
                for hook in lifespan_hooks:
                    await stack.enter_async_context(hook())
                yield
        finally:
            await rt.stop()

    app = FastAPI(
        title="Tandem",
        version="1.0",
        summary="Real-time operations for a home-service massage business.",
        description=(
            "Sign in with POST /api/auth/login, then send `Authorization: Bearer <token>`. "
            "Every refusal is `{status: 'rejected', code, message}`. "
            "WebSocket /api/ws: send `{type: 'hello', token, after}` first; the server "
            "replays your events after `after`, then streams live ones, with pings."
        ),
        lifespan=lifespan,
        # FastAPI's native OpenTelemetry looks up the global providers (and
        # os.environ) on every request even when none is configured: ~5 % of
        # the server's CPU per command. Tandem ships no OpenTelemetry SDK.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.runtime = rt
    errors.install(app)
    app.include_router(api.router)
    app.include_router(receipts.router)
    app.include_router(reports.router)
    app.include_router(ws.router)
    app.add_middleware(errors.BodyLimit, limit=settings.max_body, uploads=[
        (receipts.UPLOAD_PATH, settings.receipt_max_bytes,
         receipts.too_large(settings.receipt_max_bytes))])
    app.add_middleware(KeepServerSend)
    app.add_middleware(SecurityHeaders)
    for path, sub in mounts:  # the web UI: its websocket keeps /api/ws's Origin rule
        app.mount(path, OriginGuard(sub, settings.allowed_origins))
    return app
