from __future__ import annotations

from collections.abc import Awaitable
from typing import Protocol

import flet as ft
import pytest

from testkit.flet_harness import Harness
from tests.views.fake_client import FakeClient
from views.app import Session
from views.port import UiConfig
from views.prefs import MemoryPrefs


class Mount(Protocol):
    def __call__(
        self, client: FakeClient, width: int = ..., height: int = ...
    ) -> Awaitable[Harness]: ...


@pytest.fixture
def mount() -> Mount:
    """Sign `client` straight in (no login form) and render its shell."""

    async def run(client: FakeClient, width: int = 1280, height: int = 800) -> Harness:
        h = Harness(width=width, height=height)

        async def connect(*_: object) -> FakeClient:
            return client

        session = Session(
            h.page, UiConfig(server_url="http://test", connect=connect), MemoryPrefs()
        )

        async def main(page: ft.Page) -> None:
            await session.start()
            await session.signed_in(client)
            # Hidden sections render every change too, so tests can look at
            # any of them after one (tests/views/test_shell_catch_up.py covers
            # the real, lazy shell).
            assert session.shell is not None
            session.shell.lazy = False

        await h.run(main)
        return h

    return run
