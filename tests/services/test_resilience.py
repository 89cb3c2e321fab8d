"""Damaged files, blocked websockets, stale cursors, dead connections, bad tokens."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
from websockets.asyncio.server import ServerConnection, serve

from domain.commands import Actor
from services import session as sessions
from services.api import Api
from services.client import Client
from services.listener import Link, Listener
from store.cache import Cache
from store.store import Store
from testkit.server import ServerProcess
from tests.services.helpers import (
    appt,
    booking,
    new_id,
    server_state,
    sign_in,
    until,
    view_state,
)


async def test_corrupt_cache_is_reported_and_rebootstrapped(staff_server: ServerProcess,
                                                            tmp_path: Path) -> None:
    op = await sign_in(staff_server, "operator", data_dir=tmp_path)
    aid = new_id()
    assert op.dispatch_now("appointment.create", aid, booking(op)).ok
    await op.wait_idle()
    await op.stop()  # flushes the cache
    assert op.session.directory is not None
    (op.session.directory / "cache.json").write_bytes(b'{"appointment": {"x": ')
    again = await Client.start(staff_server.url, "operator", None, data_dir=tmp_path)
    try:
        assert "cache_corrupt" in [m.code for m in again.messages]
        assert appt(again, aid)["status"] == "pending"  # downloaded again
        await until(lambda: view_state(again) == server_state(staff_server, "operator"))
    finally:
        await again.stop()


async def test_corrupt_outbox_is_set_aside_and_reported(staff_server: ServerProcess,
                                                        tmp_path: Path) -> None:
    op = await sign_in(staff_server, "operator", data_dir=tmp_path)
    op.hold_sending()
    assert op.dispatch_now("appointment.create", new_id(), booking(op)).ok
    await op.stop()
    assert op.session.directory is not None
    outbox = op.session.directory / "outbox.jsonl"
    outbox.write_bytes(outbox.read_bytes().replace(b'"op":"add"', b'"op":"ad'))
    again = await Client.start(staff_server.url, "operator", None, data_dir=tmp_path)
    try:
        problems = [m for m in again.messages if m.code == "outbox_corrupt"]
        assert problems and "unsent changes" in problems[0].text
        aside = list(op.session.directory.glob("outbox.jsonl.corrupt-*"))
        assert len(aside) == 1 and b'"op":"ad' in aside[0].read_bytes()
        assert again.queued() == []
    finally:
        await again.stop()


async def test_polls_when_the_websocket_is_blocked(staff_server: ServerProcess) -> None:
    blocked = staff_server.url.replace("http", "ws") + "/api/no-upgrades-here"
    op = await sign_in(staff_server, "operator", ws_url=blocked, poll_interval=0.1)
    t1 = await sign_in(staff_server, "therapist1")
    try:
        await until(lambda: op.transport == "polling" and op.status == "online")
        aid = new_id()
        assert t1.view().get("appointment", aid) is None
        assert op.dispatch_now("appointment.create", aid, booking(op, "therapist1")).ok
        await until(lambda: t1.view().get("appointment", aid) is not None)
        assert (await t1.dispatch("appointment.accept", aid)).ok
        await until(lambda: appt(op, aid)["status"] == "therapist_confirmed", what="polled")
    finally:
        await op.stop()
        await t1.stop()


async def test_cursor_the_log_cannot_serve_means_bootstrap(staff_server: ServerProcess,
                                                           tmp_path: Path) -> None:
    op = await sign_in(staff_server, "operator", data_dir=tmp_path)
    await op.stop()
    assert op.session.directory is not None
    cache = Cache(op.session.directory / "cache.json")
    cache.set_cursor(10**12)  # e.g. a cache from another database
    cache.put("appointment", {"id": "ghost", "version": 1, "status": "pending"})
    cache.close()
    again = await Client.start(staff_server.url, "operator", None, data_dir=tmp_path)
    try:
        await until(lambda: (again.cursor or 0) < 10**12, what="re-bootstrapped")
        assert again.view().get("appointment", "ghost") is None
        await until(lambda: again.status == "online")
    finally:
        await again.stop()


async def test_a_silent_connection_is_dropped_and_reopened() -> None:
    connections = 0

    async def silent(ws: ServerConnection) -> None:
        nonlocal connections
        connections += 1
        await ws.recv()  # the hello; then never a word, until the client hangs up
        await ws.wait_closed()  # (a sleep here kept the server's close waiting on it)

    async with serve(silent, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        store = Store(Actor("op", "operator"))
        store.bootstrap({"cursor": 0})
        api = Api("http://127.0.0.1:9")  # nothing there: only the websocket matters
        seen: list[Link] = []
        listener = Listener(store, api, ws_url=f"ws://127.0.0.1:{port}", idle_timeout=0.3,
                            delays=lambda: iter([0.05] * 100))
        listener.on_status(seen.append)
        task = asyncio.create_task(listener.run())
        try:
            await until(lambda: connections >= 3, 10, "reconnects after silence")
            assert "online" in seen and "reconnecting" in seen
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await api.aclose()
            store.close()


async def test_a_refused_token_signs_out_with_a_message(staff_server: ServerProcess,
                                                        tmp_path: Path) -> None:
    op = await sign_in(staff_server, "operator", data_dir=tmp_path)
    await op.stop()
    stale = op.session
    stale.token = "not-a-token"
    stale.save()
    again = await Client.start(staff_server.url, "operator", None, data_dir=tmp_path)
    try:
        await until(lambda: again.signed_out, what="signed out")
        assert again.status == "offline"
        assert any(m.code == "signed_out" and "sign in" in m.text.lower()
                   for m in again.messages)
    finally:
        await again.stop()


async def test_logout_keeps_unsent_commands_and_forgets_everything_else(
        staff_server: ServerProcess, tmp_path: Path) -> None:
    """Nothing unsent is dropped silently: a plain logout keeps the outbox
    (alone) and the next sign-in sends it; everything else in the folder
    goes, a temp file a crash left mid-save included."""
    op = await sign_in(staff_server, "operator", data_dir=tmp_path)
    op.hold_sending()
    aid = new_id()
    assert op.dispatch_now("appointment.create", aid, booking(op)).ok
    folder = op.session.directory
    assert folder is not None and (folder / "outbox.jsonl").exists()
    (folder / ".cache.json.4242.tmp").write_bytes(b'{"client": {"c1": {"phone": "+63"}}}')
    await op.logout()
    assert sorted(p.name for p in folder.iterdir()) == ["outbox.jsonl"]
    assert sessions.resume(tmp_path, staff_server.url, "operator") is None

    again = await sign_in(staff_server, "operator", data_dir=tmp_path)
    try:
        await again.wait_idle(20)
        assert aid in server_state(staff_server, "operator")["appointment"]
    finally:
        await again.stop()


async def test_logout_without_keeping_unsent_forgets_everything(
        staff_server: ServerProcess, tmp_path: Path) -> None:
    op = await sign_in(staff_server, "operator", data_dir=tmp_path)
    op.hold_sending()
    assert op.dispatch_now("appointment.create", new_id(), booking(op)).ok
    folder = op.session.directory
    assert folder is not None
    await op.logout(keep_unsent=False)
    assert sorted(p.name for p in folder.iterdir()) == []
    assert sessions.resume(tmp_path, staff_server.url, "operator") is None


def _meta(client_id: str, next_seq: int) -> bytes:
    return orjson.dumps({"op": "meta", "client_id": client_id, "next_seq": next_seq}) + b"\n"


ADD = orjson.dumps({"op": "add", "client_id": "c1", "seq": 1, "name": "appointment.arrive",
                    "target": "a1", "args": {}, "base_version": None,
                    "created_at": "2026-01-01T00:00:00Z"}) + b"\n"


def test_forget_empties_the_users_folder_but_for_an_unsent_outbox(tmp_path: Path) -> None:
    user = {"id": "op", "username": "operator", "role": "operator", "name": "Op"}
    aside = "outbox.jsonl.corrupt-20261121T000000000000"  # set aside as damaged: never goes
    for keep, outbox, left in [
        (True, _meta("c1", 2) + ADD, ["outbox.jsonl", aside]),  # unsent: kept
        (True, _meta("c1", 1), [aside]),  # nothing to send: goes
        (False, _meta("c1", 2) + ADD, [aside]),  # told to drop it
    ]:
        folder = tmp_path / f"{keep}-{len(outbox)}"
        session = sessions.Session("http://127.0.0.1:9", "token", user, folder)
        session.save()
        (folder / "outbox.jsonl").write_bytes(outbox)
        for name in ("cache.json", "cache.json.lock", "outbox.jsonl.lock",
                     ".cache.json.4242.tmp", ".outbox.jsonl.77.tmp", aside):
            (folder / name).write_bytes(b'{"client": {"c1": {"phone": "+63 917"}}}')
        (folder / "later-version-dir").mkdir()
        (folder / "later-version-dir" / "x").write_bytes(b"x")
        sessions.forget(session, keep_unsent=keep)
        assert sorted(p.name for p in folder.iterdir()) == left, (keep, outbox)
