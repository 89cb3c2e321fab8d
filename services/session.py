"""Sign-in state: the token per (server, user), kept on disk beside that
user's cache and outbox, so a restart resumes without the password.

Layout under the client data dir:
    <root>/<server-slug>/<username>/session.json   {"token", "user", "server_url"}
                                   /cache.json      (store.Cache)
                                   /outbox.jsonl    (store.Outbox)
`logout` empties that user's folder (token, cache, outbox and whatever else
is in it) but, unless told otherwise (`keep_unsent=False`), an outbox that
still holds commands stays, alone, for a later sign-in of the same user to
send (`left_behind`, `Client.adopt`).
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from domain.commands import Actor
from services.api import Api
from store import jsoncodec
from store.atomic import atomic_write
from store.outbox import unsent
from store.store import OUTBOX_FILE

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
        atomic_write(self.directory / SESSION_FILE, jsoncodec.dumps(
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
        data = jsoncodec.loads((directory / SESSION_FILE).read_bytes())
        return Session(data["server_url"], data["token"], data["user"], directory)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def forget(session: Session, keep_unsent: bool = True) -> None:
    """Log out on this device: everything in this user's folder goes (the
    token, the cache, the outbox, locks, a temp file a crash left mid-save)
    but an outbox set aside as damaged (never deleted: someone may recover
    its commands) and, with `keep_unsent`, an outbox still holding commands.
    Call after the store is closed (its files are released)."""
    folder = session.directory
    if folder is None or not folder.is_dir():
        return
    keep = set_aside(folder)
    if keep_unsent and unsent(folder / OUTBOX_FILE):
        keep.add(folder / OUTBOX_FILE)
    for path in folder.iterdir():
        if path in keep:
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def set_aside(folder: Path) -> set[Path]:
    """The outboxes `store.outbox` set aside in `folder` as damaged."""
    return set(folder.glob(f"{OUTBOX_FILE}.corrupt-*"))


def left_behind(root: Path, server_url: str, username: str, own: Path | None) -> list[Path]:
    """This user's folders for this server in the other data dirs under
    `root` (`root/<dir>/<server>/<user>/`, e.g. closed web tabs) whose
    outbox still holds commands to send; `own` (this session's) excluded."""
    mine = user_dir(Path(), server_url, username)
    found = [d for d in root.glob(f"*/{mine}") if d != own and unsent(d / OUTBOX_FILE)]

    def age(folder: Path) -> float:  # the oldest first
        try:
            return (folder / OUTBOX_FILE).stat().st_mtime
        except OSError:
            return 0.0

    return sorted(found, key=age)


def discard(folder: Path, root: Path) -> None:
    """Remove a user folder whose outbox was sent, then its parents up to
    `root` (not included) as far as they are empty."""
    shutil.rmtree(folder, ignore_errors=True)
    for parent in folder.parents:
        if parent == root or root not in parent.parents:
            break
        try:
            parent.rmdir()
        except OSError:  # not empty: someone else's folder is in it
            break


def sweep(root: Path) -> None:
    """Tidy the data dirs under `root` left by an earlier run: everything
    goes but the outboxes that still hold commands (kept, alone, for their
    user's next sign-in) and those set aside as damaged."""
    if not root.is_dir():
        return
    keep = {d / OUTBOX_FILE for d in root.glob("*/*/*") if unsent(d / OUTBOX_FILE)}
    for d in root.glob("*/*/*"):
        keep |= set_aside(d)
    for path in sorted(root.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if path in keep:
            continue
        if path.is_dir() and not path.is_symlink():
            with contextlib.suppress(OSError):  # not empty: a kept outbox is inside
                path.rmdir()
        else:
            path.unlink(missing_ok=True)
