"""The client's link to the real server through what sits in between (a
proxy in the test, `Gate`): garbled answers, a request hanging while the
link comes back, the link going and coming, upgrades blocked then allowed,
a server that hangs up at once, and the words of a failed sign-in."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

from domain.commands import Actor
from services.api import NETWORK_MESSAGE, Api, ApiError, NetworkError
from services.backoff import probes
from services.client import Client
from services.listener import Link, Listener
from store.messages import Message
from store.store import Store
from testkit.server import DEMO_PASSWORD, ServerProcess, free_port
from tests.services.gate import Gate
from tests.services.helpers import new_id, server_state, until

MINUTE = lambda: itertools.repeat(60.0)  # noqa: E731 - longer than any test waits
QUICK = lambda: itertools.repeat(0.05)  # noqa: E731


@pytest.fixture
async def gate(staff_server: ServerProcess) -> AsyncIterator[Gate]:
    g = await Gate.start(staff_server.port)
    yield g
    await g.close()


def person(tag: str) -> dict[str, Any]:
    return {"first_name": "Link", "last_name": tag, "phone": "+63 917 000 0004",
            "address": "4 Loopback St, Localhost"}


async def through(gate: Gate, username: str = "operator", **options: Any) -> Client:
    return await Client.start(gate.url, username, DEMO_PASSWORD, **options)


async def test_garbled_answers_neither_kill_the_sender_nor_hold_up_the_queue(
        staff_server: ServerProcess, gate: Gate) -> None:
    """A proxy answers the commands with a body that won't decode (it says
    gzip; it isn't). The sender survives; after a few tries the command is
    in the failed list with a message, and the next one goes once the proxy
    behaves."""
    op = await through(gate, retry_delays=QUICK, ws_url=staff_server.ws_url)
    try:
        await until(lambda: op.status == "online")
        gate.garble("POST", "/api/commands")
        first, second = new_id(), new_id()
        assert op.dispatch_now("client.create", first, person("garbled")).ok
        await until(lambda: bool(op.failed()), 20, "given up on, visibly")
        error = op.failed()[0].error
        assert error is not None and error["code"] == "stuck"
        assert "couldn't process this change after several tries" in error["message"]
        assert gate.answered[("POST", "/api/commands")] == 5
        assert any(m.kind == "rollback" and m.code == "stuck" for m in op.messages)
        assert op.view().get("client", first) is None, "rolled back"

        gate.clear()
        assert op.dispatch_now("client.create", second, person("fine")).ok
        await op.wait_idle(20)  # the sender is alive
        clients = server_state(staff_server, "operator")["client"]
        assert second in clients and first not in clients
    finally:
        await op.stop()


async def test_a_crashed_task_is_restarted_and_the_user_told(
        staff_server: ServerProcess) -> None:
    """A bug below the sender (here a message listener that raises once, on
    the first "saved") ends its task: it is restarted, the user is told, and
    later commands still go."""
    op = await Client.start(staff_server.url, "operator", DEMO_PASSWORD)
    op.restart_delays = QUICK
    armed = True

    def bomb(message: Message) -> None:
        nonlocal armed
        if armed and message.kind == "success":
            armed = False
            raise RuntimeError("a view's bug")

    op.on_message(bomb)
    try:
        assert op.dispatch_now("client.create", new_id(), person("crash")).ok
        await until(lambda: not armed, 20, "the bomb went off")
        await until(lambda: any(m.code == "sync_restarted" for m in op.messages), 20)
        later = new_id()
        assert op.dispatch_now("client.create", later, person("after")).ok
        await op.wait_idle(20)
        assert later in server_state(staff_server, "operator")["client"]
        assert all(not t.done() for t in op._tasks), "all still running"
    finally:
        await op.stop()


@pytest.mark.parametrize("adopting", [False, True], ids=["own queue", "adopted queue"])
async def test_a_reconnect_while_a_request_hangs_means_a_retry_at_once(
        staff_server: ServerProcess, gate: Gate, tmp_path: Any, adopting: bool) -> None:
    """A command's request hangs (a phone in a tunnel); meanwhile the link
    comes back (the listener reconnected); then the request dies without an
    answer. It is sent again at once, not after its backoff (a minute here)."""
    if adopting:  # a closed tab's leftovers, sent first by the next sign-in
        first = await through(gate, data_dir=tmp_path / "tab1")
        first.hold_sending()
        assert first.dispatch_now("client.create", new_id(), person("left")).ok
        await first.stop()
    seen: list[Link] = []
    op = await through(gate, retry_delays=MINUTE, delays=QUICK,
                       **({"data_dir": tmp_path / "tab2", "adopt_from": tmp_path}
                          if adopting else {}))
    op.on_status(seen.append)
    try:
        gate.hang("POST", "/api/commands")
        if not adopting:
            assert op.dispatch_now("client.create", new_id(), person("hung")).ok
        await until(lambda: gate.held == 1, 20, "a request hangs")
        await until(lambda: op.status == "online", 20)
        seen.clear()
        gate.cut_websockets()  # the link drops and comes back while it hangs
        await until(lambda: seen[-2:] == ["reconnecting", "online"], 20, "back online")
        gate.clear()
        gate.release()  # the hanging request ends without an answer
        if adopting:
            await until(lambda: any(m.kind == "success" and "earlier window" in m.text
                                    for m in op.messages), 20, "sent again at once")
        else:
            await op.wait_idle(20)  # sent again at once, not in a minute
    finally:
        await op.stop()


async def test_the_sender_retries_at_once_when_the_link_is_back(
        staff_server: ServerProcess, gate: Gate) -> None:
    op = await through(gate, retry_delays=MINUTE, delays=QUICK)
    try:
        await until(lambda: op.status == "online")
        gate.down = True
        gate.cut()
        await until(lambda: op.status != "online", 20)
        cid = new_id()
        assert op.dispatch_now("client.create", cid, person("offline")).ok
        await until(lambda: op.sender.last_error is not None, 20, "tried, no answer")
        await asyncio.sleep(0.3)
        assert len(op.queued()) == 1
        gate.down = False
        await op.wait_idle(20)  # not in a minute
        assert cid in server_state(staff_server, "operator")["client"]
    finally:
        await op.stop()


async def test_the_link_says_offline_after_failing_a_while_and_online_when_back(
        staff_server: ServerProcess, gate: Gate) -> None:
    seen: list[Link] = []
    op = await through(gate, delays=QUICK, offline_after=3)
    op.on_status(seen.append)
    try:
        await until(lambda: op.status == "online")
        seen.clear()
        gate.down = True
        gate.cut()
        await until(lambda: op.status == "offline", 20, "offline after 3 failures")
        assert seen[:2] == ["reconnecting", "offline"]
        assert op.transport == "none"
        gate.down = False
        await until(lambda: (op.status, op.transport) == ("online", "websocket"), 20, "and back")
    finally:
        await op.stop()


async def test_polling_goes_back_to_the_websocket_once_upgrades_work_again(
        staff_server: ServerProcess, gate: Gate) -> None:
    gate.block_upgrades = True
    op = await through(gate, poll_interval=0.05, polls_per_ws_try=2, delays=QUICK)
    try:
        await until(lambda: (op.status, op.transport) == ("online", "polling"), 20)
        gate.block_upgrades = False
        await until(lambda: (op.status, op.transport) == ("online", "websocket"), 20)
        cid = new_id()  # and it is live
        with staff_server.client("operator") as http:
            wire = {"client_id": "elsewhere-" + new_id(), "seq": 1, "name": "client.create",
                    "target": cid, "args": person("live"), "base_version": None}
            assert http.post("/api/commands", json=wire).json()["status"] == "applied"
        await until(lambda: op.view().get("client", cid) is not None, 20)
        assert op.transport == "websocket"
    finally:
        await op.stop()


async def test_a_server_that_hangs_up_at_once_is_retried_ever_more_slowly() -> None:
    """It accepts the websocket and closes it after the hello (1013: try
    again later). That is not "online", and the backoff is not started over:
    the second delay (a minute here) is waited out."""
    connections = 0

    async def overloaded(ws: ServerConnection) -> None:
        nonlocal connections
        connections += 1
        await ws.recv()
        await ws.close(1013, "try again later")

    async with serve(overloaded, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        store = Store(Actor("op", "operator"))
        store.bootstrap({"cursor": 0})
        api = Api("http://127.0.0.1:9")  # HTTP fails too: no polling
        seen: list[Link] = []
        listener = Listener(store, api, ws_url=f"ws://127.0.0.1:{port}",
                            delays=lambda: iter([0.05] + [60.0] * 10))
        listener.on_status(seen.append)
        task = asyncio.create_task(listener.run())
        try:
            await until(lambda: connections >= 2, 20, "tried again once")
            await asyncio.sleep(1.5)
            assert connections == 2, "the backoff started over"
            assert "online" not in seen
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await api.aclose()
            store.close()


async def test_sign_in_failures_come_with_friendly_words(staff_server: ServerProcess) -> None:
    with pytest.raises(ApiError) as refused:
        await Client.start(staff_server.url, "operator", "not the password")
    assert refused.value.code == "bad_credentials" and refused.value.status == 401
    assert refused.value.message == "That username and password don't match. Please try again."

    nowhere = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(NetworkError) as unreachable:
        await Client.start(nowhere, "operator", DEMO_PASSWORD, timeout=3)
    assert unreachable.value.message == NETWORK_MESSAGE
    assert unreachable.value.status is None


async def test_a_server_that_answers_nothing_is_tried_again_within_a_second(
        staff_server: ServerProcess, gate: Gate) -> None:
    """The app noticed a server back 1.4 to 6.5 s late: the backoff for
    "the server hung up" (growing to 15 s) also ran while nothing answered
    at all. Now a server that answers nothing is tried at most a second
    apart; the growing backoff (here a minute) is for one that answers."""
    taken: list[float] = []

    def reach() -> Iterator[float]:
        for delay in probes():
            taken.append(delay)
            yield delay

    # after a drop the backoff starts short, then grows (here: to a minute at once)
    growing = lambda: iter([0.05] + [60.0] * 100)  # noqa: E731
    op = await through(gate, delays=growing, reach_delays=reach, offline_after=3)
    try:
        await until(lambda: op.status == "online")
        gate.down = True
        gate.cut()
        await until(lambda: len(taken) >= 6, 20, "tried again and again, not once a minute")
        assert op.status == "offline"
        assert max(taken) <= 1.0
        gate.down = False
        await until(lambda: op.status == "online", 5, "back within a try")
    finally:
        await op.stop()


def test_probes_stay_within_a_second() -> None:
    delays = list(itertools.islice(probes(rand=lambda: 1.0), 10))
    assert delays[:3] == [0.25, 0.5, 1.0]
    assert max(delays) == 1.0
    assert min(itertools.islice(probes(rand=lambda: 0.0), 10)) == 0.125


async def test_reconnect_opens_a_new_socket_now_and_a_second_call_keeps_it(
        staff_server: ServerProcess) -> None:
    """Back from the background (Client.wake): the socket is dropped and a new
    one opened without waiting for the idle timeout or a backoff delay (both
    a minute here); the app's second lifecycle event right after (shown,
    then resumed) leaves the new socket alone."""
    client = await Client.start(staff_server.url, "operator", DEMO_PASSWORD,
                                idle_timeout=60, delays=MINUTE, rekick=60)
    try:
        listener = client.listener
        await until(lambda: listener.status == "online" and listener._ws is not None)
        first = listener._ws
        client.wake()
        await until(lambda: listener._ws not in (None, first) and listener.status == "online",
                    what="a new socket, at once")
        second = listener._ws
        client.wake()
        await asyncio.sleep(0.3)  # an abort would have ended it by now
        assert listener._ws is second and listener.status == "online"
    finally:
        await client.stop()
