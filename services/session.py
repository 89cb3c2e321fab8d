"""Sign-in state: the token per (server, user), kept on disk beside that
user's cache and outbox, so a restart resumes without the password.

Layout under the client data dir:
    <root>/<server-slug>/<username>/session.json   {"token", "user", "server_url"}
                                   /cache.json      (store.Cache)
                                   /outbox.jsonl    (store.Outbox)
`logout` removes that user's folder contents (token, cache and outbox).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from domain.commands import Actor
from services.api import Api
from store.atomic import atomic_write
from store.store import CACHE_FILE, OUTBOX_FILE

SESSION_FILE = "session.json"


def user_dir(root: Path, server_url: str, username: str) -> Path:
    """A stable, filesystem-safe folder per (server, user)."""
    def slug(text: str) -> str:
        clean = re.sub(r"[^A-Za-z0-9._-]+", "_", text)[:40]
        return f"{clean}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"

    return root / slug(server_url.rstrip("/")) / slug(username.lower())


@dataclass
class Session:
    server_url: str
    token: str
    user: dict[str, Any]  # {id, username, role, name}
    directory: Path | None  # None: nothing on disk (web UI sessions)

    @property
    def actor(self) -> Actor:
        return Actor(id=str(self.user["id"]), role=self.user["role"])

    def save(self) -> None:
        if self.directory is None:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        atomic_write(self.directory / SESSION_FILE, orjson.dumps(
            {"server_url": self.server_url, "token": self.token, "user": self.user}))


async def login(api: Api, username: str, password: str, root: Path | None) -> Session:
    """Sign in (raises ApiError with the server's friendly message)."""
    body = await api.login(username, password)
    directory = user_dir(root, api.base_url, username) if root is not None else None
    session = Session(api.base_url, body["token"], body["user"], directory)
    session.save()
    return session


def resume(root: Path, server_url: str, username: str) -> Session | None:
    """The saved session of this user on this server, if any."""
    directory = user_dir(root, server_url, username)
    try:
        data = orjson.loads((directory / SESSION_FILE).read_bytes())
        return Session(data["server_url"], data["token"], data["user"], directory)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def forget(session: Session) -> None:
    """Log out on this device: the token, the cache and the outbox go.
    Call after the store is closed (its files are released)."""
    if session.directory is None:
        return
    for name in (SESSION_FILE, CACHE_FILE, OUTBOX_FILE, CACHE_FILE + ".lock",
                 OUTBOX_FILE + ".lock"):
        (session.directory / name).unlink(missing_ok=True)
