"""Clocking in through a real client (issue 16): the device shows the shift
at once with its own clock, then the server's time replaces it — a device
whose clock runs ten minutes behind ends up with the server's stamp."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.times import parse_instant
from testkit.server import ServerProcess
from tests.services.helpers import new_id, server_state, sign_in, until, view_state


@pytest.fixture
def srv(staff_server: ServerProcess) -> ServerProcess:
    return staff_server


async def test_the_device_s_time_shows_until_the_server_s_replaces_it(
    srv: ServerProcess,
) -> None:
    t2 = await sign_in(srv, "therapist2")
    try:
        await until(lambda: t2.status == "online")
        behind = timedelta(minutes=10)
        t2.store.clock = lambda: datetime.now(UTC) - behind  # a phone whose clock is slow
        sid = new_id()
        before = datetime.now(UTC).replace(microsecond=0)
        assert t2.dispatch_now("attendance.clock_in", sid, {"note": "slow phone"}).ok
        shown = t2.view().get("shift", sid)
        assert shown is not None and shown["clock_out_at"] is None
        device_time = parse_instant(shown["clock_in_at"])
        assert device_time <= before - behind + timedelta(seconds=2)  # the device's own reading

        await t2.wait_idle()
        await until(lambda: parse_instant((t2.view().get("shift", sid) or shown)["clock_in_at"])
                    >= before, what="the server's time replaces the device's")
        await until(lambda: view_state(t2) == server_state(srv, "therapist2"),
                    what="the device converges on the server")
        # a second clock-in is refused on the device itself, in the domain's words
        again = t2.dispatch_now("attendance.clock_in", new_id())
        assert not again.ok and again.error is not None
        assert again.error.code == "already_clocked_in"
        assert t2.dispatch_now("attendance.clock_out", sid).ok
        await t2.wait_idle()
        await until(lambda: view_state(t2) == server_state(srv, "therapist2"))
        closed = t2.view().get("shift", sid)
        assert closed is not None and closed["clock_out_at"] >= closed["clock_in_at"]
    finally:
        await t2.stop()
