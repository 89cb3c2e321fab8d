"""`python -m server`: run the Tandem server.

Every option also comes from a TANDEM_* environment variable (the flag wins).
Problems a person can fix (a bad URL, a port in use, an unwritable path) end
with one clear line on stderr and exit status 2, not a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence

from services.server_socket import CannotListen, bind

EXIT_CONFIG = 2

try:
    from server.settings import DEFAULT_DATABASE_URL, ServerSettings, SettingsError, from_env
except ModuleNotFoundError as exc:
    # A base install (the phone app's packages) has no server extra: one line, no traceback.
    if __name__ != "__main__" or (exc.name or "server").split(".")[0] in ("server", "domain"):
        raise
    print(f"tandem: the server needs the server extra, which isn't installed here (no "
          f"{exc.name}): pip install '.[server]' in Tandem's folder.", file=sys.stderr)
    sys.exit(EXIT_CONFIG)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m server", description="Run the Tandem server.")
    p.add_argument("--host", help="address to listen on (TANDEM_HOST, default 127.0.0.1)")
    p.add_argument("--port", type=int, help="TCP port (TANDEM_PORT, default 8000)")
    p.add_argument("--database-url",
                   help=f"sqlite:///path or postgresql://… (TANDEM_DATABASE_URL, "
                        f"default {DEFAULT_DATABASE_URL})")
    p.add_argument("--seed", choices=["demo", "staff"],
                   help="fill an EMPTY database with a demo business (TANDEM_SEED); "
                        "'staff': the same people, services, clients and availability "
                        "without appointments")
    p.add_argument("--timezone", help="the business's time zone (TANDEM_TIMEZONE, Asia/Manila)")
    p.add_argument("--response-minutes", type=int,
                   help="minutes a therapist has to accept (TANDEM_RESPONSE_MINUTES, 30)")
    p.add_argument("--auto-cancel-interval", type=float,
                   help="seconds between overdue sweeps (TANDEM_AUTO_CANCEL_INTERVAL, 60)")
    p.add_argument("--pickup-interval", type=float,
                   help="seconds between pickup auto-assignments (TANDEM_PICKUP_INTERVAL, 30)")
    p.add_argument("--ping-interval", type=float,
                   help="seconds between websocket pings (TANDEM_PING_INTERVAL, 15)")
    p.add_argument("--log-level", default="info",
                   choices=["critical", "error", "warning", "info", "debug"])
    return p.parse_args(argv)


def settings_from(ns: argparse.Namespace) -> ServerSettings:
    return from_env(
        host=ns.host, port=ns.port, database_url=ns.database_url, seed=ns.seed,
        timezone=ns.timezone, response_minutes=ns.response_minutes,
        auto_cancel_interval=ns.auto_cancel_interval, pickup_interval=ns.pickup_interval,
        ping_interval=ns.ping_interval,
    ).checked()  # the secret key comes after preflight (see main)


async def preflight(settings: ServerSettings) -> None:
    """Open the database and migrate it, to fail early and clearly: every
    failure is one SettingsError line (the traceback at debug level)."""
    from alembic.util import CommandError
    from sqlalchemy.exc import SQLAlchemyError

    from server.database import Database
    from server.settings import shown

    where = shown(settings.url)

    def refused(text: str) -> SettingsError:
        logging.getLogger("tandem").debug("preflight", exc_info=True)
        return SettingsError(text)

    try:
        db = Database(settings)
    except Exception as exc:  # the driver refusing the URL's parts
        raise refused(f"Can't use the database {where}: {exc}") from exc
    try:
        await db.migrate()
    except CommandError as exc:  # e.g. a revision this version doesn't know
        raise refused(f"Can't bring the database {where} up to date: {exc}. "
                      "Was it made by a newer version of Tandem?") from exc
    except (SQLAlchemyError, OSError) as exc:
        detail = getattr(exc, "orig", None) or exc
        raise refused(f"Can't open the database {where}: {detail}") from exc
    except Exception as exc:
        raise refused(f"Can't open the database {where}: {type(exc).__name__}: {exc}") from exc
    finally:
        await db.close()


def main(argv: Sequence[str] | None = None) -> int:
    ns = parse_args(argv)
    logging.basicConfig(level=ns.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    # The database layers log every statement with its parameters (password
    # hashes included) at INFO and DEBUG: they never go below WARNING.
    for noisy in ("aiosqlite", "asyncpg", "sqlalchemy.engine", "sqlalchemy.pool",
                  "alembic.runtime.plugins"):  # (a line per Alembic plugin, every start)
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
    try:
        settings = settings_from(ns)
        asyncio.run(preflight(settings))
        # Only now, with the database known good: no <db>.secret beside a bad file.
        settings = settings.resolved()
        sock = bind(settings.host, settings.port, settings.socket_sndbuf)
    except (SettingsError, CannotListen) as exc:
        print(f"tandem: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130

    import uvicorn

    from server.app import create_app

    app = create_app(settings)
    config = uvicorn.Config(
        app, log_level=ns.log_level, ws_max_size=settings.ws_max_frame,
        ws_ping_interval=None, timeout_graceful_shutdown=5, lifespan="on",
        access_log=ns.log_level == "debug",
        # No permessage-deflate: its zlib contexts were most of the memory per
        # idle socket (bench memory), for frames that are small JSON.
        ws_per_message_deflate=False,
        # X-Forwarded-For (the client's address, for login throttling) is
        # believed only from these proxies; anyone else's is ignored.
        proxy_headers=True, forwarded_allow_ips=settings.forwarded_allow_ips,
    )
    server = uvicorn.Server(config)
    # uvicorn re-raises the stop signal after its graceful shutdown; with this
    # handler in place a SIGTERM stop exits 0 (as service managers expect).
    signal.signal(signal.SIGTERM, lambda *_: None)
    with contextlib.suppress(KeyboardInterrupt):
        server.run(sockets=[sock])
    return 0 if server.started else 1


if __name__ == "__main__":
    sys.exit(main())
