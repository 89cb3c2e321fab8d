from __future__ import annotations

from collections.abc import Awaitable, Collection
from typing import Protocol

import flet as ft
import pytest

from testkit.flet_harness import Harness
from tests.views.fake_client import FakeClient
from views.app import SECTIONS, Session
from views.components.section import Section
from views.port import ClientPort, UiConfig
from views.prefs import MemoryPrefs


class Mount(Protocol):
    def __call__(
        self,
        client: FakeClient,
        width: int = ...,
        height: int = ...,
        only: Collection[str] | None = ...,
    ) -> Awaitable[Harness]: ...


@pytest.fixture
def mount(monkeypatch: pytest.MonkeyPatch) -> Mount:
    """Sign `client` straight in (no login form) and render its shell; with
    `only`, just the role's sections with those keys (and the shell's own):
    most of a mount is rendering, and the operator has ten sections."""

    async def run(
        client: FakeClient,
        width: int = 1280,
        height: int = 800,
        only: Collection[str] | None = None,
    ) -> Harness:
        if only is not None:
            role = client.actor.role
            factory = SECTIONS[role]

            def some(page: ft.Page, port: ClientPort) -> list[Section]:
                return [s for s in factory(page, port) if s.key in only]

            monkeypatch.setitem(SECTIONS, role, some)
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
        if only is not None:
            monkeypatch.setitem(SECTIONS, client.actor.role, factory)
        return h

    return run
