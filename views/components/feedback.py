"""Snackbars: one short line for each success, refusal and rollback."""

from __future__ import annotations

import contextlib

import flet as ft

from views.components import style


def snack(page: ft.Page, text: str, ok: bool = True) -> None:
    bar = ft.SnackBar(
        content=ft.Semantics(
            label=text,
            live_region=True,
            content=ft.Text(text, color=ft.Colors.WHITE),
        ),
        bgcolor=style.OK if ok else style.BAD,
        duration=ft.Duration(milliseconds=3500 if ok else 6000),
        show_close_icon=not ok,
    )
    # the page may be gone (session closed): nobody to tell then
    with contextlib.suppress(RuntimeError):
        page.show_dialog(bar)
