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
import sys
from typing import Any


def app() -> Any:
    import flet as ft
    import flet_web.fastapi as flet_fastapi

    pages: list[tuple[ft.Page, ft.Text]] = []
    state = {"n": 0}

    async def main(page: ft.Page) -> None:
        value = ft.Text("Value 0", size=20)

        async def show(n: int) -> None:
            value.value = f"Value {n}"
            value.update()

        async def tapped(_: ft.Event[ft.Button]) -> None:
            state["n"] += 1
            for other, _text in list(pages):
                if other is page:
                    await show(state["n"])
                else:
                    other.run_task(push_to, other, state["n"])

        async def push_to(other: ft.Page, n: int) -> None:
            for p, text in pages:
                if p is other:
                    text.value = f"Value {n}"
                    text.update()

        async def closed(_: ft.Event[ft.Page]) -> None:
            pages[:] = [(p, t) for p, t in pages if p is not page]

        page.on_close = closed
        pages.append((page, value))
        page.add(ft.Semantics(identifier="value", content=value),
                 ft.FilledButton("Tap", on_click=tapped))

    return flet_fastapi.app(main, no_cdn=True, session_timeout_seconds=30)


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
    ns = p.parse_args(argv)
    serve(ns.port, {"/app": app()})
    return 0


if __name__ == "__main__":
    with __import__("contextlib").suppress(KeyboardInterrupt):
        sys.exit(main(sys.argv[1:]))
    asyncio.run(asyncio.sleep(0))
