"""`python -m bench.ui_minimal --port P`: the smallest Flet web app doing what
`bench ui` times in Tandem — a tap in one window changes a line of text in
that window and in every other open window — served the way main.py serves
Tandem (flet_web under uvicorn, no CDN, no per-message deflate). Beside
Tandem in the same run it shows Flet's and Flutter's own floor: a browser
event to Python and back, a patch of one Text, and Flutter's frame.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Callable
from typing import Any


def app(sized: tuple[int, ...] = ()) -> dict[str, Any]:
    """The apps to mount: `/app`, a page of two controls (a Text and its
    button); and for each N in `sized`, `/text-N`, `/buttons-N` and
    `/move-N`, a page of N shown controls laid out as Tandem's (groups of
    cards, each with its icons, lines, status and buttons) whose tapped card
    changes as `our_size` says. A tap changes every open window of its kind
    (the two-control pages, or the pages changing so), counting from 1."""
    import flet as ft
    import flet_web.fastapi as flet_fastapi
    from fastapi import FastAPI

    from bench.ui_app import census
    from views.components.card import CardRoot

    # every open window: (its page, its kind, what shows a tap's count)
    shows: list[tuple[ft.Page, str, Show]] = []
    taps: dict[str, int] = {}  # kind -> taps so far

    async def tapped(e: ft.Event[ft.Button]) -> None:
        kind = next(k for p, k, _ in shows if p is e.page)
        taps[kind] = n = taps.get(kind, 0) + 1
        for page, _, show in [w for w in shows if w[1] == kind]:
            if page is e.page:
                show(n, True)
            else:  # (a window closed a moment ago stays listed until its session ends)
                with contextlib.suppress(Exception):
                    page.run_task(push, show, n)

    async def push(show: Show, n: int) -> None:
        show(n, False)

    def mount(path: str, kind: str, build: Callable[[ft.Page], Show]) -> Any:
        async def main(page: ft.Page) -> None:
            async def closed(_: ft.Event[ft.Page]) -> None:
                shows[:] = [w for w in shows if w[0] is not page]

            page.on_close = closed
            shows.append((page, kind, build(page)))
            sizes[path] = census(page)["shown"]

        return flet_fastapi.app(main, no_cdn=True, session_timeout_seconds=30)

    def two_controls(page: ft.Page) -> Show:
        value = ft.Text("Value 0", size=20)
        page.add(ft.Semantics(identifier="value", content=value),
                 ft.FilledButton("Tap", on_click=tapped))
        return lambda n, own: changed(value, f"Value {n}")

    def our_size(target: int, change: str) -> Callable[[ft.Page], Show]:
        """What the tap changes, `change`: "text", the tapped card's status
        line in place; "buttons", that and its buttons (the Tap button kept,
        the others swapped for new ones, as a Tandem card's actions change
        with its status); "relabel", the same change with the buttons kept,
        their words changed and the one not offered hidden; "move", the
        status line in place, then the card moves to the other group, made
        afresh there, as Tandem's board renders a card changing groups
        (views/components/board.py): in the tapper's window after the change
        in place (the tap's handler, then the shell's render), in the others
        at once."""
        def build(page: ft.Page) -> Show:
            status = ft.Text("Value 0", weight=ft.FontWeight.W_500)
            actions = ft.Row(wrap=True, spacing=8)  # the tapped card's buttons
            tapped_card: list[ft.Control] = []  # the card tapped, and its status line
            current = [status]
            grids: list[ft.ResponsiveRow] = []
            groups = ft.Column(spacing=24)
            page.add(ft.Row([ft.Icon(ft.Icons.SPA), ft.Text("Bookings", size=22, expand=True),
                             ft.Icon(ft.Icons.CLOUD_DONE)]),
                     ft.Column([groups], scroll=ft.ScrollMode.AUTO, expand=True))
            grid = ft.ResponsiveRow(spacing=12, run_spacing=12)
            n = 0
            while census(page)["shown"] < target:
                # the tapped card alone on top (a new request), then groups of six
                if n % 6 == 1 or n == 0:
                    grid = ft.ResponsiveRow(spacing=12, run_spacing=12)
                    grids.append(grid)
                    groups.controls.append(ft.Semantics(container=True, content=ft.Column([
                        ft.Row([ft.Text(f"Group {len(grids)}", size=18,
                                        weight=ft.FontWeight.BOLD), ft.Text("(6)")]),
                        grid], spacing=8)))
                grid.controls.append(card(n, status, actions) if n == 0 else card(n))
                n += 1
            page.update()
            tapped_card.append(grids[0].controls[0])

            def move(n: int) -> None:
                old = tapped_card[0]
                # (by identity: a control's == compares its whole tree)
                came = next(g for g in grids if any(c is old for c in g.controls))
                goes = grids[1] if came is grids[0] else grids[0]
                came.controls = [c for c in came.controls if c is not old]
                current[0] = ft.Text(f"Value {n}", weight=ft.FontWeight.W_500)
                tapped_card[0] = card(0, current[0], ft.Row(wrap=True, spacing=8))
                goes.controls.insert(0, tapped_card[0])
                page.update(came, goes)

            async def then_move(n: int) -> None:
                move(n)

            def show(n: int, own: bool) -> None:
                if change == "text":
                    changed(status, f"Value {n}")
                elif change == "buttons":
                    status.value = f"Value {n}"
                    actions.controls = [actions.controls[0], *(
                        [ft.FilledTonalButton("Start trip")] if n % 2 else
                        [ft.FilledTonalButton("Accept"), ft.OutlinedButton("Decline")])]
                    tapped_card[0].update()
                elif change == "relabel":
                    status.value = f"Value {n}"
                    if len(actions.controls) != 3:  # the first time; then the same buttons
                        actions.controls = [actions.controls[0], ft.FilledTonalButton(),
                                            ft.OutlinedButton("Decline")]
                    second, third = actions.controls[1:3]
                    assert isinstance(second, ft.Button) and isinstance(third, ft.OutlinedButton)
                    second.content = "Start trip" if n % 2 else "Accept"
                    third.visible = not n % 2
                    tapped_card[0].update()
                elif own:
                    changed(current[0], f"Value {n}")
                    page.run_task(then_move, n)
                else:
                    move(n)
            return show
        return build

    def card(n: int, status: ft.Text | None = None, actions: ft.Row | None = None) -> ft.Control:
        """A card shaped as Tandem's (views/components/card.py): a name, four
        lines with their icons, a status box and two buttons (in `actions`);
        the one with `status` has the button the bench taps."""
        lines: list[ft.Control] = [
            ft.Row([ft.Icon(icon, size=18), ft.Text(words, expand=True)], spacing=6)
                 for icon, words in ((ft.Icons.SCHEDULE, "Today · 06:00–06:20"),
                                     (ft.Icons.PLACE, f"{n} Acacia Lane, Makati"),
                                     (ft.Icons.SPA, "Swedish massage (60 min)"),
                                     (ft.Icons.PERSON, "Therapist: Bea"))]
        actions = actions or ft.Row(wrap=True, spacing=8)
        actions.controls = [ft.FilledButton("Tap", on_click=tapped) if status else
                            ft.FilledButton("Accept"), ft.OutlinedButton("Details")]
        # isolated as Tandem's (a group's update leaves the cards' insides to
        # their own updates; not isolated, moving one card costs 20-190 ms)
        return CardRoot(
            identifier="value" if status else f"card-{n}", container=True,
            col={"md": 6, "xl": 4},
            content=ft.Card(content=ft.Container(ft.Column([
                ft.Row([ft.Text("Carmen Reyes", weight=ft.FontWeight.BOLD, size=18,
                                expand=True)]),
                ft.Column(lines, spacing=4),
                ft.Container(status or ft.Text("Waiting for Bea to accept",
                                               weight=ft.FontWeight.W_500), border_radius=8,
                             bgcolor=ft.Colors.SECONDARY_CONTAINER,
                             padding=ft.Padding.symmetric(horizontal=10, vertical=6)),
                actions], spacing=8), padding=16)))

    sizes: dict[str, int] = {}  # mount -> the controls its page shows
    info = FastAPI()

    @info.get("/")
    async def shown() -> dict[str, int]:
        return sizes

    return {"/app": mount("/app", "two", two_controls), "/sizes": info,
            **{f"/{change}-{n}": mount(f"/{change}-{n}", change, our_size(n, change))
               for change in ("text", "buttons", "relabel", "move") for n in sized}}


Show = Callable[[int, bool], None]  # a window shows tap n (True: its own tap)


def changed(text: Any, value: str) -> None:
    text.value = value
    text.update()


def serve(port: int, mounts: dict[str, Any]) -> None:
    """Serve these ASGI apps (Flet apps among them) on loopback `port`, with
    the transport settings the app's web UI uses."""
    import contextlib

    import flet_web.fastapi as flet_fastapi
    import uvicorn
    from fastapi import FastAPI

    @contextlib.asynccontextmanager
    async def lifespan(_: Any) -> Any:
        await flet_fastapi.app_manager.start()
        try:
            yield
        finally:
            await flet_fastapi.app_manager.shutdown()

    root = FastAPI(lifespan=lifespan)
    for path, mounted in mounts.items():
        root.mount(path, mounted)
    uvicorn.run(root, host="127.0.0.1", port=port, log_level="warning",
                ws_per_message_deflate=False, ws_ping_interval=None)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.ui_minimal")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--sized", type=int, action="append", default=[], metavar="N",
                   help="also serve /text-N, /buttons-N, /move-N: pages of N controls "
                   "shaped as Tandem's")
    ns = p.parse_args(argv)
    serve(ns.port, app(tuple(ns.sized)))
    return 0


if __name__ == "__main__":
    with __import__("contextlib").suppress(KeyboardInterrupt):
        sys.exit(main(sys.argv[1:]))
    asyncio.run(asyncio.sleep(0))
