"""Snackbars: one short line for each success, refusal and rollback."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Protocol

import flet as ft

from views.components import style


class Refusable(Protocol):
    """An answer that may be a refusal (a dispatch's Result, an account's answer)."""

    @property
    def ok(self) -> bool: ...

    @property
    def message(self) -> str: ...


UNDO_SECONDS = 6  # how long an "Undo" stays on offer
DIDNT_WORK = "That didn't work."  # a refusal that came without words of its own


def snack(
    page: ft.Page,
    text: str,
    ok: bool = True,
    action: str | None = None,
    on_action: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """One line at the bottom; with `action`, a button (e.g. "Undo") that
    runs `on_action` if tapped while the line shows."""

    async def tapped(_: ft.Event[ft.SnackBar]) -> None:
        if on_action is not None:
            await on_action()

    bar = ft.SnackBar(
        content=ft.Semantics(
            label=text,
            live_region=True,
            content=ft.Text(text, color=ft.Colors.WHITE),
        ),
        bgcolor=style.OK if ok else style.BAD,
        duration=ft.Duration(
            milliseconds=UNDO_SECONDS * 1000 if action else 3500 if ok else 6000
        ),
        show_close_icon=not ok,
        action=action,
        on_action=tapped if action else None,
        persist=False,  # an action would keep it up for good otherwise
    )
    # the page may be gone (session closed): nobody to tell then
    with contextlib.suppress(RuntimeError):
        page.show_dialog(bar)


def refused(page: ft.Page, result: Refusable) -> None:
    """Say why `result` was refused, if it was."""
    if not result.ok:
        snack(page, result.message or DIDNT_WORK, ok=False)
