"""Offline for a while: everything queued is applied exactly once, in order."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import pytest

from testkit.server import ServerProcess
from tests.services.helpers import (
    appt,
    booking,
    new_id,
    server_events,
    server_state,
    sign_in,
    until,
    view_state,
)

RECORDS, EDITS = 20, 10  # 200 queued actions


@pytest.mark.slow  # 200 queued actions
async def test_offline_queue_drains_exactly_once_in_per_record_order(
        server_factory: Callable[..., ServerProcess], tmp_path: Path) -> None:
    srv = server_factory(seed="staff")
    op = await sign_in(srv, "operator", data_dir=tmp_path / "op")
    t1 = await sign_in(srv, "therapist1")
    try:
        ids = []
        for _ in range(RECORDS):
            aid = new_id()
            assert op.dispatch_now("appointment.create", aid, booking(op)).ok
            ids.append(aid)
        await op.wait_idle(30)
        await until(lambda: len(list(t1.view().all("appointment"))) == 7)
        start = server_events(srv, "operator")[-1]["seq"]

        srv.stop()
        await until(lambda: op.status != "online", what="the client notices")
        for k in range(EDITS):
            for aid in ids:
                result = op.dispatch_now("appointment.update", aid, {"notes": f"edit {k}"})
                assert result.ok, result.message
        assert len(op.queued()) == RECORDS * EDITS
        assert all(op.is_pending("appointment", aid) for aid in ids)
        assert {appt(op, aid)["notes"] for aid in ids} == {"edit 9"}

        srv.start()
        await op.wait_idle(60)
        assert op.failed() == []

        applied: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for event in server_events(srv, "operator", after=start):
            if event["cause"] == "appointment.update":
                applied[event["id"]].append((event["version"], event["data"]["notes"]))
        for aid in ids:  # each edit once, in the order it was made
            assert applied[aid] == [(2 + k, f"edit {k}") for k in range(EDITS)]
        await until(lambda: view_state(op) == server_state(srv, "operator"), 15, "op converges")
        await until(lambda: view_state(t1) == server_state(srv, "therapist1"), 15, "t1 too")
    finally:
        await op.stop()
        await t1.stop()
