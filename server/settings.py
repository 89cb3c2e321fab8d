"""Server settings: one frozen dataclass, filled from the CLI or TANDEM_* variables.

The token-signing secret comes from TANDEM_SECRET_KEY (replicas must share it);
with SQLite and no variable, a generated secret is kept next to the database
file so tokens survive a restart.
"""

from __future__ import annotations

import logging
import math
import os
import re
import secrets
from dataclasses import dataclass, replace
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_DATABASE_URL = "sqlite:///data/tandem.db"


class SettingsError(ValueError):
    """A setting that can't work, with a message for the person starting the server."""


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8000
    database_url: str = DEFAULT_DATABASE_URL
    seed: str | None = None  # "demo" fills an empty database; "staff": no bookings
    secret_key: str = ""  # "" → resolved by `resolved()`
    # Keys tokens were signed with before a rotation: still accepted (until
    # those tokens expire), never used to sign (server.auth.Tokens).
    previous_secret_keys: tuple[str, ...] = ()
    token_ttl: int = 12 * 3600  # seconds
    # How often each account's standing (active, token generation) is read
    # again: the longest a deactivation or password reset takes to reach
    # open sockets and other replicas (server.accounts).
    account_check_interval: float = 1.0
    response_minutes: int = 30  # pending → auto-cancelled after this long
    # A clock-in more than this many minutes after the start of the person's
    # available slot is marked late (domain.attendance).
    late_minutes: int = 10
    timezone: str = "Asia/Manila"  # the business's clock for dates and times
    log_retention_days: int = 30  # events older than this are trimmed (clients resync)
    # Jobs (seconds); tests make them short.
    auto_cancel_interval: float = 60.0
    pickup_interval: float = 30.0
    trim_interval: float = 3600.0
    # WebSocket.
    ping_interval: float = 15.0
    hello_timeout: float = 10.0
    send_queue: int = 1000  # frames buffered per socket
    send_timeout: float = 5.0  # a socket whose queue stays full this long is dropped
    ws_max_frame: int = 64 * 1024
    # Kernel send buffer per connection in bytes (0: the kernel's autotuning,
    # up to megabytes). A cap bounds memory with thousands of sockets and
    # makes a stalled reader show up sooner.
    socket_sndbuf: int = 0
    allowed_origins: tuple[str, ...] = ()  # besides the server's own host
    # HTTP.
    max_body: int = 256 * 1024
    # A payment receipt photo (POST /api/appointments/{id}/receipts): its own
    # limit, a phone's photo being far larger than any command.
    receipt_max_bytes: int = 8 * 1024 * 1024
    ring_size: int = 10_000  # recent events kept in memory for fan-out
    # PostgreSQL replicas: how often each one reads the log head, so a missed
    # NOTIFY delays an event by at most this long (server.replication).
    replica_check_interval: float = 1.0
    # Login throttling: after `login_free_failures` failures per (username, ip),
    # each further attempt waits 2^(n - free) seconds, capped.
    login_free_failures: int = 3
    login_max_delay: float = 300.0
    # ... and per address whatever the usernames (spraying): this many free,
    # then the same doubling; forgotten after `login_address_window` s quiet.
    login_address_failures: int = 20
    login_address_window: float = 900.0
    # Addresses of the proxies whose X-Forwarded-For is believed (uvicorn's
    # FORWARDED_ALLOW_IPS: comma-separated, "*" for any); others' is ignored.
    forwarded_allow_ips: str = "127.0.0.1"
    password_time_cost: int = 2
    password_memory_kib: int = 19_456

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def url(self) -> URL:
        return parse_database_url(self.database_url)

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @property
    def sqlite_path(self) -> Path | None:
        url = self.url
        if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
            return None
        return Path(url.database)

    def checked(self) -> ServerSettings:
        """Check everything (and make the SQLite file's directory); raise
        SettingsError. Writes no secret: `python -m server` opens and migrates
        the database first, then calls `resolved()`."""
        self.url  # noqa: B018 - validates
        if self.url.get_backend_name() == "sqlite" and self.sqlite_path is None:
            raise SettingsError("SQLite needs a file path, e.g. sqlite:///data/tandem.db.")
        try:
            self.zone  # noqa: B018 - validates
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise SettingsError(f"Unknown time zone {self.timezone!r}.") from exc
        if not 0 < self.port < 65536:
            raise SettingsError(f"Port {self.port} is not a valid TCP port (1-65535).")
        if self.seed not in (None, "", "demo", "staff"):
            raise SettingsError(f"Unknown seed {self.seed!r}: use 'demo' or 'staff'.")
        _check_numbers(self)
        check_sqlite_path(self)
        return self

    def resolved(self) -> ServerSettings:
        """`checked()`, and fill the secret key (with SQLite and no
        TANDEM_SECRET_KEY: kept in `<db>.secret`, made if need be)."""
        self.checked()
        key = self.secret_key or os.environ.get("TANDEM_SECRET_KEY", "")
        if not key:
            key = _stored_secret(self.sqlite_path)
        return replace(self, secret_key=key)


# Where each number comes from, for the messages: the flag if there is one.
_FLAGS = {"response_minutes", "auto_cancel_interval", "pickup_interval", "ping_interval"}


def _name(field: str) -> str:
    env = f"TANDEM_{field.upper()}"
    return f"--{field.replace('_', '-')} ({env})" if field in _FLAGS else env


def _check_numbers(s: ServerSettings) -> None:
    """Numbers that can't work: a zero ping interval pings ~100 times a second,
    a negative response window cancels every booking at once, a zero replica
    check polls the database in a tight loop, ..."""
    def need(field: str, ok: bool, rule: str) -> None:
        if not ok:
            raise SettingsError(f"{_name(field)} must be {rule}, not {getattr(s, field)!r}.")

    def seconds(field: str, least: float) -> None:
        value = float(getattr(s, field))
        need(field, math.isfinite(value) and value >= least,
             f"at least {least:g} seconds" if least else "a number of seconds")

    for field, least in (("ping_interval", 0.1), ("hello_timeout", 0.1),
                         ("send_timeout", 0.1), ("replica_check_interval", 0.05),
                         ("login_max_delay", 0.0), ("account_check_interval", 0.05),
                         ("login_address_window", 1.0)):
        seconds(field, least)
    for field in ("auto_cancel_interval", "pickup_interval", "trim_interval"):
        value = float(getattr(s, field))
        need(field, value == 0 or (math.isfinite(value) and value >= 0.05),
             "at least 0.05 seconds, or 0 to turn the job off")
    need("token_ttl", s.token_ttl >= 1, "at least 1 second")
    need("response_minutes", s.response_minutes >= 0, "0 or more minutes")
    need("late_minutes", s.late_minutes >= 0, "0 or more minutes")
    need("log_retention_days", s.log_retention_days >= 0, "0 or more days")
    need("send_queue", s.send_queue >= 1, "at least 1 frame")
    need("ring_size", s.ring_size >= 1, "at least 1 event")
    need("max_body", s.max_body >= 1024, "at least 1024 bytes")
    need("ws_max_frame", s.ws_max_frame >= 1024, "at least 1024 bytes")
    need("receipt_max_bytes", s.receipt_max_bytes >= 1024, "at least 1024 bytes")
    need("socket_sndbuf", s.socket_sndbuf >= 0, "0 (the kernel's choice) or more bytes")
    need("login_free_failures", s.login_free_failures >= 0, "0 or more")
    need("login_address_failures", s.login_address_failures >= 0, "0 or more")
    need("password_time_cost", s.password_time_cost >= 1, "at least 1")
    need("password_memory_kib", s.password_memory_kib >= 8, "at least 8 KiB")


def parse_database_url(raw: str) -> URL:
    """sqlite:///path or postgresql://…; raise SettingsError with a hint otherwise."""
    try:
        url = make_url(raw)
    except (ArgumentError, ValueError) as exc:  # ValueError: a port that isn't a number
        raise SettingsError(
            f"Can't read the database URL {_masked(raw)!r}. "
            "Use sqlite:///path/to/file.db or postgresql://user:password@host/db."
        ) from exc
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise SettingsError(
            f"Unsupported database {backend!r} in {_masked(raw)!r}. "
            "Use sqlite:///path/to/file.db or postgresql://user:password@host/db."
        )
    if url.port is not None and not 0 < url.port < 65536:
        raise SettingsError(
            f"The database URL {shown(url)!r} has port {url.port}: "
            "a TCP port is 1-65535."
        )
    return url


def shown(url: URL) -> str:
    """The URL for messages and logs, without its password."""
    return url.render_as_string(hide_password=True)


def _masked(raw: str) -> str:
    """An unreadable URL for a message: the password (user:password@) hidden."""
    return re.sub(r"(://[^/:@]*):[^/@]*@", r"\1:***@", raw)


def async_url(url: URL) -> URL:
    """The same database with the async driver SQLAlchemy needs."""
    if url.get_backend_name() == "sqlite":
        return url.set(drivername="sqlite+aiosqlite")
    return url.set(drivername="postgresql+asyncpg")


def _stored_secret(db_path: Path | None) -> str:
    """A secret kept beside the SQLite file (created once, readable by us only)."""
    if db_path is None:  # PostgreSQL without TANDEM_SECRET_KEY: a key for this process only
        logging.getLogger("tandem").warning(
            "TANDEM_SECRET_KEY is not set: sign-ins on this server won't work on other "
            "replicas or after a restart. Give every replica the same TANDEM_SECRET_KEY.")
        return secrets.token_urlsafe(48)
    path = db_path.with_name(db_path.name + ".secret")
    try:
        if path.exists():
            text = path.read_text().strip()
            if text:
                return text
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key)
        return key
    except OSError as exc:
        raise SettingsError(f"Can't keep the secret key at {path}: {exc.strerror}.") from exc


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"TANDEM_{name}", default)


def from_env(**overrides: object) -> ServerSettings:
    """Settings from TANDEM_* variables; keyword arguments win."""
    base = ServerSettings()
    values: dict[str, object] = {}
    for f in (
        "host", "database_url", "seed", "timezone",
    ):
        v = _env(f.upper())
        if v is not None:
            values[f] = v
    for f, conv in (
        ("port", int), ("token_ttl", int), ("response_minutes", int), ("late_minutes", int),
        ("log_retention_days", int), ("auto_cancel_interval", float),
        ("pickup_interval", float), ("ping_interval", float), ("send_queue", int),
        ("max_body", int), ("trim_interval", float), ("send_timeout", float),
        ("hello_timeout", float), ("ring_size", int), ("login_free_failures", int),
        ("socket_sndbuf", int), ("replica_check_interval", float),
        ("login_address_failures", int), ("login_address_window", float),
        ("login_max_delay", float), ("account_check_interval", float),
        ("password_time_cost", int), ("password_memory_kib", int),
        ("receipt_max_bytes", int),
    ):
        v = _env(f.upper())
        if v is not None:
            try:
                values[f] = conv(v)
            except ValueError as exc:
                raise SettingsError(f"TANDEM_{f.upper()} must be a number, not {v!r}.") from exc
    previous = _env("PREVIOUS_SECRET_KEYS")
    if previous:
        values["previous_secret_keys"] = tuple(k.strip() for k in previous.split(",")
                                               if k.strip())
    proxies = os.environ.get("FORWARDED_ALLOW_IPS")  # uvicorn's own variable
    if proxies is not None:
        values["forwarded_allow_ips"] = proxies
    origins = _env("ALLOWED_ORIGINS")
    if origins:
        values["allowed_origins"] = tuple(o.strip() for o in origins.split(",") if o.strip())
    values.update({k: v for k, v in overrides.items() if v is not None})
    return replace(base, **values)  # type: ignore[arg-type]


def check_sqlite_path(settings: ServerSettings) -> None:
    """Make the database's directory and check we can write there (friendly errors)."""
    path = settings.sqlite_path
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SettingsError(
            f"Can't create the data directory {path.parent}: {exc.strerror}."
        ) from exc
    if path.exists():
        if path.is_dir():
            raise SettingsError(f"The database path {path} is a directory, not a file.")
        try:
            with path.open("r+b"):
                pass
        except OSError as exc:
            raise SettingsError(
                f"Can't open the database {path} for writing: {exc.strerror}."
            ) from exc
    else:
        probe = path.with_name(path.name + ".probe")
        try:
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise SettingsError(
                f"Can't write in the data directory {path.parent}: {exc.strerror}."
            ) from exc
