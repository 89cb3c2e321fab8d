"""Binds the views' port (views.port.ClientPort) to the sync engine's
session facade in services/."""

from __future__ import annotations

from views.port import ClientPort, LoginFailed


async def connect(server_url: str, username: str, password: str,
                  session_dir: str | None) -> ClientPort:
    raise LoginFailed("Signing in isn't available yet.")
