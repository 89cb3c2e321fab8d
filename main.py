"""Tandem's composition root.

    python main.py                         embedded server (SQLite in ./data, demo
                                           data on first run) + the web UI at
                                           http://127.0.0.1:8000/app (API at /api)
    python main.py --server URL            the web UI only, as a client of an
                                           existing server
    python main.py --port 9000 --data-dir /srv/tandem --host 0.0.0.0
    python main.py --desktop               a native window, where flet-desktop can
    flet build apk / flet build ipa        phones and tablets: the views as a client
    flet run --android main.py             (server address typed on the sign-in
                                           screen, remembered on the device;
                                           TANDEM_SERVER in the app's environment
                                           prefills it)

Installed (phone, tablet, `flet run`), the signed-in user's session lives in
the app's private storage (FLET_APP_STORAGE_DATA) and the app starts on its
cached data, with or without the network (views.app).

No window is ever opened without a display: the default serves the web UI and
prints its address. Each browser tab is its own session with its own client
store under <data-dir>/sessions/<uuid>/, removed when the session ends (but
for commands it could not send: the same user's next sign-in sends them).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import socket
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:  # the server's packages are not in a base install (a phone's)
    from server.settings import ServerSettings
    from views.port import UiConfig

DEMO_LOGINS = (
    "operator", "therapist1", "therapist2", "therapist3",
    "driver1", "driver2", "driver3", "driver4", "driver5",
)
DEMO_PASSWORD = "demo1234"
SESSION_TIMEOUT = 120  # seconds a closed tab's session (and its client) lingers
# How long a tab of the embedded app holds the render of its own tap for the
# server's answer (services.with_answer): the commit takes ~5 ms here, this
# bounds it under load; past it the tap renders without the answer.
IN_PROCESS_ANSWER_WAIT = 0.06
EXIT_CONFIG = 2
ROOT = Path(__file__).resolve().parent


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python main.py", description="Run Tandem.")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")
    p.add_argument(
        "--data-dir",
        default="data",
        help="where the database and the tabs' client stores live (default ./data)",
    )
    p.add_argument(
        "--server", metavar="URL", help="use an existing Tandem server instead of the embedded one"
    )
    p.add_argument(
        "--desktop",
        action="store_true",
        help="open a native window (needs flet-desktop and a display)",
    )
    p.add_argument("--no-seed", action="store_true", help="don't add demo data on first run")
    p.add_argument(
        "--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"]
    )
    return p.parse_args(argv)


class ConfigError(Exception):
    """Something the person starting Tandem can fix; one line, no traceback."""


def bind(host: str, port: int) -> socket.socket:
    from services.server_socket import CannotListen, PortInUse, free_port_after
    from services.server_socket import bind as listen

    try:
        return listen(host, port)
    except PortInUse as exc:
        other = free_port_after(host, port) or port + 1
        raise ConfigError(
            f"Port {port} is already in use (is Tandem already running?). Use another one: "
            f'make run ARGS="--port {other}"  (or: python main.py --port {other})'
        ) from exc
    except CannotListen as exc:
        raise ConfigError(str(exc)) from exc


# The top-level modules of what each web mode imports: the web extra (flet-web,
# FastAPI, uvicorn), and for the embedded server the server's packages too. A
# base install (a phone's packages) has none of them.
WEB_UI_MODULES = ("flet_web", "fastapi", "uvicorn")
SERVER_MODULES = ("sqlalchemy", "alembic", "aiosqlite", "argon2", "jwt", "orjson")


def require_web_extra(server: bool) -> None:
    """ConfigError (one line) when the web extra isn't installed."""
    from importlib.util import find_spec

    wanted = WEB_UI_MODULES + (SERVER_MODULES if server else ())
    missing = [m for m in wanted if find_spec(m) is None]
    if missing:
        raise ConfigError(
            "The web UI needs the web extra, which isn't installed here (no "
            f"{', '.join(missing)}): pip install '.[web]' in Tandem's folder, or `make run`."
        )


def ui_app(config: Any) -> Any:
    """The Flet web app for one process; every tab gets its own session."""
    import flet_web.fastapi as flet_fastapi

    from server import flet_send
    from server.mounted import quiet_disconnects
    from views.app import make_main

    flet_send.install()  # each tab's messages written at once (server/flet_send.py)
    return quiet_disconnects(flet_fastapi.app(
        make_main(config),
        no_cdn=True,
        assets_dir=str(ROOT / "assets"),
        app_name="Tandem",
        app_short_name="Tandem",
        app_description="Real-time operations for a home-massage business.",
        session_timeout_seconds=SESSION_TIMEOUT,
    ))


@contextlib.asynccontextmanager
async def flet_sessions() -> AsyncIterator[None]:
    # Starlette does not run a mounted app's lifespan: start Flet's session
    # manager (expiry of closed tabs) from ours.
    import flet_web.fastapi as flet_fastapi

    await flet_fastapi.app_manager.start()
    try:
        yield
    finally:
        await flet_fastapi.app_manager.shutdown()


def root_redirect() -> Any:
    """`/` → `/app/`, so the printed address and the bare host both work."""
    from starlette.responses import PlainTextResponse, RedirectResponse
    from starlette.types import Receive, Scope, Send

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path = scope.get("path", "/")
        response: Any
        if path in ("", "/"):
            response = RedirectResponse("/app/")
        else:
            response = PlainTextResponse("Not found", status_code=404)
        await response(scope, receive, send)

    return app


def ui_config(server_url: str, data_dir: Path, demo: bool, timezone: str | None = None) -> Any:
    from services.session import sweep
    from views.binding import connect
    from views.port import UiConfig

    sessions = data_dir / "sessions"
    # Sessions never outlive the process (a tab reconnecting after a restart
    # gets a new one): whatever is left is from an earlier run and goes, but
    # for commands a tab couldn't send (its user's next sign-in sends them).
    sweep(sessions)
    sessions.mkdir(parents=True, exist_ok=True)
    # The business's time zone decides what "today" is; a client of another
    # server takes it from TANDEM_TIMEZONE like the server does.
    zone = timezone or os.environ.get("TANDEM_TIMEZONE") or "Asia/Manila"
    return UiConfig(
        server_url=server_url,
        connect=connect,
        timezone=zone,
        sessions_dir=str(sessions),
        demo_logins=DEMO_LOGINS if demo else (),
    )


class Embedded(NamedTuple):
    app: Any  # the server's ASGI app, the web UI mounted at /app
    settings: ServerSettings  # resolved
    seeded: bool  # demo data goes in on this first run
    ui: UiConfig  # the mounted web UI's


def embedded_app(ns: argparse.Namespace, data_dir: Path) -> Embedded:
    """The server's app with the web UI mounted at /app."""
    from server.__main__ import preflight
    from server.app import create_app
    from server.settings import ServerSettings, SettingsError

    db = data_dir / "tandem.db"
    first_run = not db.exists()
    seed = None if ns.no_seed or not first_run else "demo"
    try:
        settings = ServerSettings(
            host=ns.host, port=ns.port, database_url=f"sqlite:///{db}", seed=seed
        ).checked()
        import asyncio

        asyncio.run(preflight(settings))
        # only now, with the database known good: no <db>.secret beside a bad file
        settings = settings.resolved()
    except SettingsError as exc:
        raise ConfigError(str(exc)) from exc
    local = (
        f"http://127.0.0.1:{ns.port}"
        if ns.host in ("0.0.0.0", "::")
        else f"http://{ns.host}:{ns.port}"
    )
    config = ui_config(local, data_dir, demo=True, timezone=settings.timezone)
    app = create_app(
        settings,
        mounts=[("/app", ui_app(config)), ("/", root_redirect())],
        lifespan_hooks=[flet_sessions],
    )
    # The tabs' clients send their requests (sign-in, bootstrap, commands) to
    # this very app in-process: a tap's command skips the loopback socket and
    # uvicorn's HTTP parsing, on the loop the tabs share with the server. Their
    # websocket still goes through uvicorn, as every other client's. The
    # tapper's render of its tap waits for the answer, a few ms away, so the
    # commit (and the other tabs' patches) go first.
    from services.api import in_process
    from views.binding import connect

    config.connect = functools.partial(connect, http_transport=in_process(app),
                                       answer_wait=IN_PROCESS_ANSWER_WAIT)
    return Embedded(app, settings, seed is not None, config)


def client_app(ns: argparse.Namespace, data_dir: Path) -> Any:
    """Only the web UI, talking to the server at --server."""
    from fastapi import FastAPI

    from server.guard import guarded

    url = str(ns.server).rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"--server needs an http:// or https:// address, not {url!r}.")

    @contextlib.asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[None]:
        async with flet_sessions():
            yield

    app = FastAPI(title="Tandem UI", lifespan=lifespan)
    app.mount("/app", guarded(ui_app(ui_config(url, data_dir, demo=False))))
    app.mount("/", root_redirect())
    return app


def check_desktop() -> None:
    try:
        import flet_desktop  # type: ignore[import-not-found]  # noqa: F401
    except ImportError as exc:
        raise ConfigError(
            "The desktop window needs the flet-desktop package (pip install flet-desktop) "
            "and its one-time download of the Flutter client. Without them, run without "
            "--desktop and open the printed address in a browser."
        ) from exc
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        raise ConfigError(
            "There is no display here to open a window on. Run without "
            "--desktop and open the printed address in a browser."
        )


def banner(url: str, seeded: bool, remote: str | None) -> str:
    lines = [f"Tandem is running: {url}/app"]
    if remote:
        lines.append(f"  using the server at {remote}")
    else:
        lines.append(f"  API: {url}/api")
        lines.append("  demo logins: " + ", ".join(DEMO_LOGINS) + f" (password {DEMO_PASSWORD})")
        if seeded:
            lines.append("  (demo data added on this first run)")
    lines.append("  Ctrl+C to stop")
    return "\n".join(lines)


def serve(app: Any, sock: socket.socket, log_level: str) -> int:
    import uvicorn

    config = uvicorn.Config(
        app,
        log_level=log_level,
        ws_ping_interval=None,
        timeout_graceful_shutdown=3,
        lifespan="on",
        access_log=False,
        ws_per_message_deflate=False,  # as server/__main__.py: less memory per socket
    )
    server = uvicorn.Server(config)
    with contextlib.suppress(KeyboardInterrupt):
        server.run(sockets=[sock])
    return 0 if server.started else 1


def run_desktop(ns: argparse.Namespace, data_dir: Path) -> int:
    """The views in a native window: as a client of --server, or next to an
    embedded server running in a thread."""
    import threading

    if ns.server:
        return run_native(str(ns.server).rstrip("/"), data_dir)
    app = embedded_app(ns, data_dir).app
    sock = bind(ns.host, ns.port)
    threading.Thread(target=serve, args=(app, sock, ns.log_level), daemon=True).start()
    return run_native(f"http://127.0.0.1:{ns.port}", data_dir, demo=True)


def run_native(server_url: str, data_dir: Path, demo: bool = False) -> int:
    import flet as ft

    from views.app import make_main

    ft.run(make_main(ui_config(server_url, data_dir, demo=demo)))
    return 0


def inside_flet_runtime() -> bool:
    """Started by a Flet build (phone, tablet, packaged desktop) or by
    `flet run`: the views are the app; the server is elsewhere."""
    from flet.utils.platform_utils import is_embedded

    return is_embedded() or bool(os.getenv("FLET_SERVER_PORT") or os.getenv("FLET_SERVER_UDS_PATH"))


def device_config(env: Mapping[str, str]) -> Any:
    """The views as an installed app (views.port.DeviceConfig): the user's
    session in the app's private storage, kept across restarts.

    The sign-in screen offers the server last used on this device, else
    TANDEM_SERVER from the app's environment (flet-cli can't bake it into a
    build: it works with `flet run` and packaged desktop apps), else, off a
    phone, the embedded server's default address. On a phone 127.0.0.1 is the
    phone itself: the field starts empty and the user types the address."""
    from views.binding import connect, resume
    from views.port import DeviceConfig, UiConfig

    storage = env.get("FLET_APP_STORAGE_DATA") or "data"
    phone = env.get("FLET_PLATFORM") in ("android", "ios")
    server = env.get("TANDEM_SERVER") or ("" if phone else "http://127.0.0.1:8000")
    return UiConfig(
        server_url=server,
        connect=connect,
        timezone=env.get("TANDEM_TIMEZONE") or UiConfig.timezone,
        device=DeviceConfig(data_dir=str(Path(storage).resolve()), resume=resume),
    )


def main(argv: Sequence[str] | None = None) -> int:
    if argv is None and not sys.argv[1:] and inside_flet_runtime():
        import flet as ft

        from views.app import make_main

        ft.run(make_main(device_config(os.environ)))
        return 0
    ns = parse_args(argv)
    data_dir = Path(ns.data_dir).resolve()
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        if ns.desktop:
            check_desktop()
            if not ns.server:  # the embedded server, with the web UI mounted
                require_web_extra(server=True)
            return run_desktop(ns, data_dir)
        require_web_extra(server=not ns.server)
        sock = bind(ns.host, ns.port)  # first: a busy port is told at once
        if ns.server:
            app, seeded = client_app(ns, data_dir), False
        else:
            app, _, seeded, _ = embedded_app(ns, data_dir)
    except (ConfigError, OSError) as exc:
        print(f"tandem: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    shown_host = "127.0.0.1" if ns.host in ("0.0.0.0", "::") else ns.host
    print(banner(f"http://{shown_host}:{ns.port}", seeded, ns.server), flush=True)
    return serve(app, sock, ns.log_level)


if __name__ == "__main__":
    sys.exit(main())
