"""Two real clients on a real server (loopback): optimistic, then propagated."""

from __future__ import annotations

import pytest

from services.client import Client
from store.subscriptions import Delta, Query
from testkit.server import ServerProcess
from tests.services.helpers import (
    appt,
    booking,
    confirmed,
    new_id,
    server_state,
    sign_in,
    until,
    view_state,
)


@pytest.fixture
def srv(staff_server: ServerProcess) -> ServerProcess:
    return staff_server


async def test_action_shows_locally_at_once_then_reaches_the_other_client(
        srv: ServerProcess) -> None:
    op = await sign_in(srv, "operator")
    t1 = await sign_in(srv, "therapist1")
    try:
        await until(lambda: op.status == "online" and t1.status == "online")
        seen: list[Delta] = []
        t1.watch(Query("appointment", lambda r: r["status"] == "pending"), seen.append)

        aid = new_id()
        result = op.dispatch_now("appointment.create", aid, booking(op, "therapist1"))
        # No await between the dispatch and this line: no network round trip.
        assert result.ok, result.message
        assert appt(op, aid)["status"] == "pending"
        assert op.is_pending("appointment", aid)

        await until(lambda: t1.view().get("appointment", aid) is not None, what="event at B")
        assert seen and aid in seen[-1].added
        await until(lambda: not op.is_pending("appointment", aid))

        # And back: the therapist accepts; the operator sees it.
        assert (await t1.dispatch("appointment.accept", aid)).ok
        assert appt(t1, aid)["status"] == "therapist_confirmed"
        assert seen[-1].removed == frozenset({aid})  # left "pending" at once, locally
        await until(lambda: appt(op, aid)["status"] == "therapist_confirmed")
        await op.wait_idle()
        await t1.wait_idle()
        await until(lambda: view_state(op) == server_state(srv, "operator"), what="op converges")
        await until(lambda: view_state(t1) == server_state(srv, "therapist1"), what="t1")
        assert [m.kind for m in op.messages if m.kind != "success"] == []
    finally:
        await op.stop()
        await t1.stop()


async def test_refused_locally_means_nothing_is_sent(srv: ServerProcess) -> None:
    op = await sign_in(srv, "operator")
    t1 = await sign_in(srv, "therapist1")
    try:
        aid = new_id()
        assert op.dispatch_now("appointment.create", aid, booking(op, "therapist1")).ok
        await until(lambda: t1.view().get("appointment", aid) is not None)
        result = await t1.dispatch("appointment.start_session", aid)
        assert not result.ok and result.error is not None
        assert result.error.code == "invalid_transition"
        assert t1.queued() == []
    finally:
        await op.stop()
        await t1.stop()


async def test_rejection_while_another_update_arrives_ends_equal_to_server(
        srv: ServerProcess) -> None:
    op = await sign_in(srv, "operator")
    t1 = await sign_in(srv, "therapist1")
    try:
        aid = new_id()
        assert op.dispatch_now("appointment.create", aid, booking(op, "therapist1")).ok
        await op.wait_idle()
        await until(lambda: t1.view().get("appointment", aid) is not None)
        op.hold_sending()  # the operator's edit stays queued for now
        assert op.dispatch_now("appointment.update", aid, {"notes": "ring twice"}).ok
        # Meanwhile the therapist accepts and the operator's client receives it...
        assert (await t1.dispatch("appointment.accept", aid)).ok
        await until(lambda: confirmed(op, aid)["status"]
                    == "therapist_confirmed")
        # ...so the queued edit is now on a stale version: the server refuses it.
        op.resume_sending()
        await op.wait_idle()
        assert op.messages[-1].kind == "rollback" and op.messages[-1].code == "version_conflict"
        await until(lambda: view_state(op) == server_state(srv, "operator"), what="no clobber")
        final = appt(op, aid)
        assert final["status"] == "therapist_confirmed" and final.get("notes") is None
        assert [e.error["code"] for e in op.failed() if e.error] == ["version_conflict"]
    finally:
        await op.stop()
        await t1.stop()


async def test_clients_only_exist_for_a_running_loop(srv: ServerProcess) -> None:
    client: Client = await sign_in(srv, "driver1")
    assert client.user["username"] == "driver1" and client.actor.role == "driver"
    await client.stop()
    await client.stop()  # idempotent


async def test_the_command_is_on_its_way_before_the_screens_render_it(
        srv: ServerProcess) -> None:
    """A view renders a change in a task of its own (Flet's page.run_task);
    the sender must get its turn on the loop first, so the command travels
    while the screens draw (issue 14: in the web UI, one loop serves every
    session, and a render ahead of it held the POST back by tens of ms)."""
    import asyncio

    op = await sign_in(srv, "operator")
    try:
        await until(lambda: op.status == "online")
        states: list[list[str]] = []  # the outbox as each render found it

        async def render() -> None:
            states.append([e.state for e in op.store.outbox.entries()])

        off = op.on_change(lambda _: asyncio.get_running_loop().create_task(render()))
        assert op.dispatch_now("appointment.create", new_id(), booking(op, "therapist1")).ok
        await until(lambda: bool(states))
        off()
        assert states[0] == ["sending"]  # the sender took it before the render ran
    finally:
        await op.stop()
