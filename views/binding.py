"""Signs the views in: `services.client.Client` is the views' port
(views.port.ClientPort) itself; here it is started for a sign-in
(`connect`) or a saved session (`resume`), and a refused or unreachable
sign-in is worded for the sign-in screen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from services.api import ApiError, NetworkError
from services.client import Client
from views.port import LoginFailed


async def connect(
    server_url: str, username: str, password: str, session_dir: str | None, **options: Any
) -> Client:
    """Sign in and start syncing; LoginFailed carries a friendly reason.
    `session_dir` is this tab's folder among the others' (views.app): what a
    closed tab of the same user left unsent there is sent first. `options`
    go to `Client.start` (tests: listener timings)."""
    others = str(Path(session_dir).parent) if session_dir is not None else None
    try:
        return await Client.start(
            server_url, username, password, data_dir=session_dir, adopt_from=others, **options
        )
    except NetworkError as exc:
        raise LoginFailed(
            f"Can't reach {server_url} — check the address and your connection."
        ) from exc
    except ApiError as exc:
        # the server's words are written for people; fall back to ours
        raise LoginFailed(exc.message or "Signing in didn't work. Try again.") from exc


async def resume(server_url: str, username: str, data_dir: str, **options: Any) -> Client | None:
    """The user's saved session on this device, started offline-first (its
    cache on screen at once, syncing when the server answers); None when
    there is none (never signed in here, or logged out)."""
    try:
        return await Client.start(server_url, username, None, data_dir=data_dir, **options)
    except ApiError:  # no saved session: sign in
        return None
