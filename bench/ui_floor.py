"""`python -m bench.ui_floor --port P`: the smallest Flet web app doing what
`bench ui`'s many sessions time in Tandem, for the framework's floor beside
Tandem's figures in the same run.

Every session (a browser tab; here bench/ui_sessions.py's headless ones)
shows Tandem's operator queues, `views.operator.queues.QueueBoard` itself,
drawn from a fixed in-process table of records: no store, no sync client,
no server, no shell. `POST /bench/change?kind=card&marker=M` adds one
pending booking at location M and hands it to every open session's board
(`board.changed`, as Tandem's shell does on a server event): each session
sends the same patch as Tandem's operator screen for a new booking, the
new queue card's whole control tree and the counts. `kind=edit` moves the
last booking to M: its card changes in place (one line's words).
`kind=compact` adds a card a fifth the size (7 controls: the name, two lines,
one button) to every page: what a smaller new card would cost. `kind=text` changes one
Text on every page instead: Flet's cost of a patch per session, with the
card's size taken out. Each session renders in a task of its own, as
Tandem's do (views/shell.py `_listener`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from domain.commands import Actor, MemorySnapshot
from domain.records import Record

OPERATOR = {"id": "op-1", "username": "operator", "role": "operator", "name": "Olive"}
THERAPIST = {"id": "th-2", "username": "therapist2", "role": "therapist", "name": "Bea",
             "active": True}
DRIVER = {"id": "dr-2", "username": "driver2", "role": "driver", "name": "Dan", "active": True}
SERVICE = {"id": "sv-1", "name": "Swedish massage (60 min)", "minutes": 60, "price": 1200}
CLIENT = {"id": "cl-1", "name": "Carmen Reyes"}


class Records:
    """What a session's views read (views.port.ClientPort's data half), over
    one table every session shares: the fixed people and service and the
    bookings added so far. Nothing is ever pending here."""

    def __init__(self, table: MemorySnapshot) -> None:
        self.table = table
        self.actor = Actor(id=OPERATOR["id"], role="operator")
        self.user: Record = OPERATOR

    def view(self) -> MemorySnapshot:
        return self.table

    def is_pending(self, entity: str, id: str) -> bool:
        return False


def booking(marker: str, now: datetime) -> Record:
    """A new pending booking as appointment.create makes it (domain/edits.py)."""
    at = now.isoformat()
    return {
        "id": str(uuid.uuid4()), "version": 1, "status": "pending",
        "client_id": CLIENT["id"], "client_name": CLIENT["name"],
        "service_ids": [SERVICE["id"]], "therapist_ids": [THERAPIST["id"]],
        "driver_id": DRIVER["id"], "date": now.date().isoformat(),
        "start_time": "06:00", "end_time": "06:10", "location": marker, "notes": "",
        "accepted_ids": [], "pickup_driver_id": None,
        "response_deadline": (now + timedelta(minutes=30)).isoformat(),
        "created_at": at, "created_by": OPERATOR["id"], "updated_at": at,
        "rejection": None, "payment": None, "materials": [], "pickup": None,
        "cancel_reason": None,
    }


def app() -> Any:
    import flet as ft
    import flet_web.fastapi as flet_fastapi
    from fastapi import FastAPI

    from views.operator.queues import QueueBoard
    from views.port import ClientPort

    table = MemorySnapshot.of(staff=[OPERATOR, THERAPIST, DRIVER], service=[SERVICE],
                              client=[CLIENT])
    records = cast(ClientPort, Records(table))  # the views read only its data half
    pages: list[tuple[ft.Page, Any, ft.Text]] = []
    compact: dict[int, ft.Column] = {}  # id(page) -> where the compact cards go

    async def no_taps(card: Any, action: str) -> None:
        return None

    async def main(page: ft.Page) -> None:
        board = QueueBoard(records, no_taps)
        line = ft.Text("Nothing yet")

        async def closed(_: ft.Event[ft.Page]) -> None:
            pages[:] = [p for p in pages if p[0] is not page]

        page.on_close = closed
        pages.append((page, board, line))
        compact[id(page)] = ft.Column()
        page.add(ft.Semantics(identifier="ready", content=ft.Text("Queues")),
                 ft.Semantics(identifier="line", content=line), compact[id(page)], board.root)

    async def render_card(board: Any, key: tuple[str, str]) -> None:
        board.changed(frozenset({key}))

    async def render_compact(column: ft.Column, marker: str) -> None:
        # what a card a fifth the size would cost: 7 controls, not 29
        column.controls.append(ft.Semantics(container=True, content=ft.Card(
            content=ft.Container(ft.Column([
                ft.Text(CLIENT["name"], weight=ft.FontWeight.BOLD),
                ft.Text(f"Today · 06:00–06:10 · {marker}"),
                ft.Text("Waiting for Bea to accept"),
                ft.FilledTonalButton("Cancel")]), padding=16))))
        with contextlib.suppress(RuntimeError):
            column.update()

    async def render_text(line: ft.Text, marker: str) -> None:
        line.value = marker
        with contextlib.suppress(RuntimeError):
            line.update()

    bench = FastAPI()

    last: list[Record] = []

    @bench.post("/change")
    async def change(kind: str, marker: str) -> dict[str, int]:
        if kind in ("card", "edit"):
            if kind == "card" or not last:
                record = booking(marker, datetime.now(UTC))
            else:  # the last booking moves: its card changes in place
                record = {**last[-1], "location": marker, "version": last[-1]["version"] + 1}
            last[:] = [record]
            table.put("appointment", record)
            for page, board, _ in list(pages):
                page.run_task(render_card, board, ("appointment", record["id"]))
        elif kind == "compact":
            for page, _, _ in list(pages):
                page.run_task(render_compact, compact[id(page)], marker)
        else:
            for page, _, line in list(pages):
                page.run_task(render_text, line, marker)
        return {"sessions": len(pages)}

    return flet_fastapi.app(main, no_cdn=True, session_timeout_seconds=30), bench


def main(argv: list[str]) -> int:
    from bench.ui_minimal import serve

    p = argparse.ArgumentParser(prog="python -m bench.ui_floor")
    p.add_argument("--port", type=int, required=True)
    ns = p.parse_args(argv)
    if os.environ.get("TANDEM_PROFILE_ALL"):
        from bench.ui_app import profile_on_signal

        profile_on_signal(os.environ["TANDEM_PROFILE_ALL"])
    flet_app, bench = app()
    serve(ns.port, {"/bench": bench, "/app": flet_app})
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main(sys.argv[1:]))
    asyncio.run(asyncio.sleep(0))
