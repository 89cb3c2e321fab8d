"""The log no longer reaches the client's cursor (trimmed, or the server's
database was restored from an older backup): the client bootstraps again
and tells the views, so what they built from events (the activity feed)
is rebuilt from the records. Real server, signed in as the web UI does."""

from __future__ import annotations

from pathlib import Path

from testkit.server import DEMO_PASSWORD, ServerProcess
from tests.services.helpers import server_state, until, view_state
from views.binding import connect
from views.port import Changed


async def test_a_resync_reaches_the_views_as_a_reset(
        staff_server: ServerProcess, tmp_path: Path) -> None:
    srv = staff_server
    tab = await connect(srv.url, "operator", DEMO_PASSWORD, str(tmp_path / "tab"))
    got: list[Changed] = []
    off = tab.subscribe(got.append)
    try:
        await until(lambda: tab.status == "online", 20, "online")
        assert not any(c.reset for c in got), "no reset while the log reaches the cursor"
        head = tab.cursor
        assert head is not None
        # a cursor the server's log doesn't reach
        tab.store.cache.set_cursor(head + 1_000_000)
        srv.stop()
        await until(lambda: tab.status != "online", 20, "the client notices")
        srv.start()
        await until(lambda: any(c.reset for c in got), 30, "the views are told to start over")
        assert tab.cursor is not None and tab.cursor <= head + 10
        await until(lambda: view_state(tab) == server_state(srv, "operator"), 15)
    finally:
        off()
        await tab.logout()
