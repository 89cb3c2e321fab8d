"""Small per-device preferences (the last user, the last server).

In a browser these live in the browser's storage through Flet's
SharedPreferences (`BrowserPrefs`). An installed app keeps them in a file in
its private storage (`FilePrefs`): read before anything is on screen, with no
round trip to the Flutter side, so a start without the network knows whose
session to open. Tests use the in-memory twin."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from pathlib import Path
from typing import Protocol

import flet as ft

from store.atomic import atomic_write

log = logging.getLogger(__name__)


class Prefs(Protocol):
    async def get(self, key: str) -> str | None: ...

    async def set(self, key: str, value: str) -> None: ...


class MemoryPrefs:
    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    async def get(self, key: str) -> str | None:
        return self.values.get(key)

    async def set(self, key: str, value: str) -> None:
        self.values[key] = value


class BrowserPrefs:
    """SharedPreferences in the user's browser; never blocks the UI for long."""

    TIMEOUT = 3.0

    def __init__(self) -> None:
        self.service = ft.SharedPreferences()  # keep a reference: unreferenced services are dropped
        self.fallback = MemoryPrefs()

    async def get(self, key: str) -> str | None:
        try:
            value = await asyncio.wait_for(self.service.get(f"tandem.{key}"), self.TIMEOUT)
        except Exception:  # no client answer (e.g. disconnected): remembered nothing
            return await self.fallback.get(key)
        return str(value) if value is not None else None

    async def set(self, key: str, value: str) -> None:
        await self.fallback.set(key, value)
        # remembering is a nicety, never a reason to fail a sign-in
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.service.set(f"tandem.{key}", value), self.TIMEOUT)


class FilePrefs:
    """A small JSON file (the app's private storage); a damaged or missing
    file remembers nothing, and failing to save is never an error."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.values: dict[str, str] | None = None

    def _load(self) -> dict[str, str]:
        if self.values is None:
            try:
                data = json.loads(self.path.read_text("utf-8"))
            except (OSError, ValueError):
                data = {}
            self.values = (
                {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
            )
        return self.values

    async def get(self, key: str) -> str | None:
        return self._load().get(key)

    async def set(self, key: str, value: str) -> None:
        values = self._load()
        if values.get(key) == value:
            return
        values[key] = value
        data = json.dumps(values, indent=1).encode()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            await asyncio.to_thread(atomic_write, self.path, data)
        except OSError:
            log.warning("could not save the preferences to %s", self.path, exc_info=True)
