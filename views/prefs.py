"""Small per-device preferences (the last user, the last server).

In a browser these live in the browser's storage through Flet's
SharedPreferences; tests and headless runs use the in-memory twin."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Protocol

import flet as ft


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


class DevicePrefs:
    """SharedPreferences on the user's device; never blocks the UI for long."""

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
