"""Breakpoints, sizes and colours shared by the views."""

from __future__ import annotations

import flet as ft

PHONE_MAX = 600  # below: bottom navigation bar, one column
TABLET_MAX = 1200  # below: navigation rail; wide screens get a sidebar

BIG_BUTTON_HEIGHT = 56  # driver's touch targets
BUTTON_HEIGHT = 44

OK = ft.Colors.GREEN_700
WARN = ft.Colors.AMBER_800
BAD = ft.Colors.RED_700
MUTED = ft.Colors.GREY_700
SEED = ft.Colors.TEAL


def layout_for(width: float | None) -> str:
    """phone, tablet or wide for a page width in logical pixels."""
    w = width or 1280
    if w < PHONE_MAX:
        return "phone"
    if w < TABLET_MAX:
        return "tablet"
    return "wide"
