"""A web tab closed (or signed out) while its outbox still held commands:
the commands are not lost. The tab's folder keeps the outbox (only it); the
same user's next sign-in, in any tab, sends those commands, in order, each
with its own (client_id, seq), so they land exactly once; then the folder
goes. Real server, the web UI's own connect/logout (views.binding)."""

from __future__ import annotations

import asyncio
import itertools
from datetime import date, timedelta
from pathlib import Path

import orjson
import pytest

from services import client as client_module
from services import session as sessions
from services.client import Client
from store.outbox import unsent
from store.store import CACHE_FILE, OUTBOX_FILE
from testkit.server import DEMO_PASSWORD, ServerProcess
from tests.services.helpers import new_id, server_events, server_state, sign_in, tomorrow, until
from views.app import remove_empty
from views.binding import connect


def later(days: int) -> str:
    """A day the staff seed left free (it fills today and tomorrow)."""
    return (date.fromisoformat(tomorrow()) + timedelta(days=days)).isoformat()


def files(root: Path) -> set[str]:
    return {str(p.relative_to(root)).split("/", 1)[0] + "/…/" + p.name
            for p in root.rglob("*") if p.is_file()}


async def tab(srv: ServerProcess, root: Path, name: str, user: str) -> Client:
    """A tab signed in the way the web UI does it (views.app + binding)."""
    (root / name).mkdir(parents=True, exist_ok=True)
    return await connect(srv.url, user, DEMO_PASSWORD, str(root / name))


@pytest.fixture(autouse=True)
def _brief_drain(monkeypatch: pytest.MonkeyPatch) -> None:
    # a closing tab waits this long for its queue to empty (5 s in the app)
    monkeypatch.setattr(client_module, "DRAIN_SECONDS", 0.3)


async def test_a_closed_tabs_unsent_commands_land_once_at_the_next_sign_in(
        staff_server: ServerProcess, tmp_path: Path) -> None:
    srv, root = staff_server, tmp_path / "sessions"
    first = await tab(srv, root, "tab1", "therapist1")
    me = first.user["id"]
    first.hold_sending()  # no signal: nothing reaches the server
    slot, day = new_id(), later(2)
    create = await first.dispatch("availability.create", slot, {
        "user_id": me, "date": day, "start_time": "09:00", "end_time": "12:00",
        "available": True})
    assert create.ok, create.message
    assert (await first.dispatch("availability.update", slot, {"available": False})).ok
    # The create did reach the server once, but its answer was lost on the way.
    wire = first.queued()[0].wire()
    with srv.client("therapist1") as http:
        assert http.post("/api/commands", json=wire).json()["status"] == "applied"

    await first.logout()  # the tab closes: what is left is the outbox, alone
    remove_empty(root / "tab1")  # views.app does this next
    assert files(root) == {f"tab1/…/{OUTBOX_FILE}"}
    assert unsent(next(root.rglob(OUTBOX_FILE)))

    second = await tab(srv, root, "tab2", "therapist1")
    try:
        await until(lambda: not (root / "tab1").exists(), 20, "the old folder goes once sent")
        await until(lambda: (second.view().get("availability", slot) or {}).get("version") == 2,
                    20, "the new tab sees both changes")
        record = server_state(srv, "therapist1")["availability"][slot]
        assert (record["version"], record["available"]) == (2, False)
        mine = [(e["cause"], e["version"]) for e in server_events(srv, "therapist1")
                if e["entity"] == "availability" and e["id"] == slot]
        assert mine == [("availability.create", 1), ("availability.update", 2)]  # once each
        texts = [m.text for m in second.messages]
        assert "2 changes from an earlier window: saved." in texts
    finally:
        await second.logout()
    remove_empty(root / "tab2")
    assert not any(root.iterdir()), "nothing left once everything is sent"


async def test_a_refused_leftover_is_told_and_the_rest_still_lands(
        staff_server: ServerProcess, tmp_path: Path) -> None:
    srv, root = staff_server, tmp_path / "sessions"
    first = await tab(srv, root, "tab1", "therapist2")
    me, day = first.user["id"], later(3)
    first.hold_sending()
    clash, fine = new_id(), new_id()
    for sid, start, end in ((clash, "09:00", "12:00"), (fine, "14:00", "15:00")):
        assert (await first.dispatch("availability.create", sid, {
            "user_id": me, "date": day, "start_time": start, "end_time": end,
            "available": True})).ok
    await first.logout()
    # meanwhile, elsewhere, the morning was filled in another way
    other = await sign_in(srv, "therapist2")
    try:
        assert other.dispatch_now("availability.create", new_id(), {
            "user_id": me, "date": day, "start_time": "10:00", "end_time": "11:00",
            "available": True}).ok
        await other.wait_idle(20)
    finally:
        await other.stop()

    second = await tab(srv, root, "tab2", "therapist2")
    try:
        await until(lambda: not (root / "tab1").exists(), 20, "the old folder goes")
        await until(lambda: second.view().get("availability", fine) is not None, 20)
        state = server_state(srv, "therapist2")["availability"]
        assert fine in state and clash not in state
        refusals = [m for m in second.messages if m.kind == "rollback"]
        assert len(refusals) == 1
        # who, what, why in one sentence
        assert refusals[0].text.startswith(
            "Couldn't add the 09:00–12:00 slot: That overlaps another slot on")
        assert "overlap" in refusals[0].text
    finally:
        await second.logout()


async def test_a_live_tabs_queue_is_left_to_it(
        staff_server: ServerProcess, tmp_path: Path) -> None:
    srv, root = staff_server, tmp_path / "sessions"
    first = await tab(srv, root, "tab1", "therapist3")
    first.hold_sending()
    slot = new_id()
    assert (await first.dispatch("availability.create", slot, {
        "user_id": first.user["id"], "date": later(4), "start_time": "09:00",
        "end_time": "10:00", "available": True})).ok
    second = await tab(srv, root, "tab2", "therapist3")  # tab1 is still open
    try:
        assert await second.adopt(root) == 0, "a claimed outbox is its owner's"
        assert len(first.queued()) == 1, "still tab1's to send"
        assert slot not in server_state(srv, "therapist3")["availability"]
        first.resume_sending()
        await first.wait_idle(20)
        await until(lambda: second.view().get("availability", slot) is not None, 20)
        creates = [e for e in server_events(srv, "therapist3")
                   if e["id"] == slot and e["cause"] == "availability.create"]
        assert len(creates) == 1
    finally:
        await first.logout()
        await second.logout()
    for name in ("tab1", "tab2"):
        remove_empty(root / name)
    assert not any(root.iterdir())


def test_a_restart_keeps_only_unsent_outboxes(tmp_path: Path) -> None:
    """main.py sweeps the sessions folder at start: leftovers of the last
    run go, but for the outboxes that still hold commands and those set
    aside as damaged."""
    root = tmp_path / "sessions"
    user = sessions.user_dir(root / "crashed", "http://127.0.0.1:8000", "driver1")
    user.mkdir(parents=True)
    (user / CACHE_FILE).write_bytes(b"{}")
    (user / sessions.SESSION_FILE).write_bytes(b'{"token": "t"}')
    (user / OUTBOX_FILE).write_bytes(
        orjson.dumps({"op": "meta", "client_id": "c1", "next_seq": 2}) + b"\n"
        + orjson.dumps({"op": "add", "client_id": "c1", "seq": 1, "name": "appointment.arrive",
                        "target": "a1", "args": {}, "base_version": None,
                        "created_at": "2026-01-01T00:00:00Z"}) + b"\n")
    sent = sessions.user_dir(root / "tidy", "http://127.0.0.1:8000", "driver2")
    sent.mkdir(parents=True)
    (sent / OUTBOX_FILE).write_bytes(
        orjson.dumps({"op": "meta", "client_id": "c2", "next_seq": 1}) + b"\n")
    (sent / CACHE_FILE).write_bytes(b"{}")
    damaged = sessions.user_dir(root / "damaged", "http://127.0.0.1:8000", "therapist1")
    damaged.mkdir(parents=True)
    (damaged / f"{OUTBOX_FILE}.corrupt-20261121T000000000000").write_bytes(b"{not json")
    (damaged / CACHE_FILE).write_bytes(b"{}")
    (root / "empty").mkdir()

    sessions.sweep(root)
    assert sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file()) == sorted([
        (user / OUTBOX_FILE).relative_to(root),
        (damaged / f"{OUTBOX_FILE}.corrupt-20261121T000000000000").relative_to(root)])
    assert sorted(p.name for p in root.iterdir()) == ["crashed", "damaged"]


async def test_the_same_tab_signing_in_again_keeps_its_own_queue(
        staff_server: ServerProcess, tmp_path: Path) -> None:
    """Signed out while offline, then in again in the same tab: the outbox is
    that session's own again and drains like any queue."""
    srv, root = staff_server, tmp_path / "sessions"
    first = await tab(srv, root, "tab1", "driver2")
    first.hold_sending()
    await first.dispatch("staff.set_duty", first.user["id"], {"on_duty": False})
    assert len(first.queued()) == 1
    await first.logout()
    remove_empty(root / "tab1")
    again = await tab(srv, root, "tab1", "driver2")
    try:
        assert isinstance(again, Client)
        await again.wait_idle(20)
        await until(lambda: not unsent(next(root.rglob(OUTBOX_FILE))), 20)
        staff = server_state(srv, "driver2")["staff"][again.user["id"]]
        assert staff.get("on_duty") is False
    finally:
        await again.logout()


async def test_leftovers_wait_while_working_offline_and_go_as_soon_as_the_link_is_back(
        staff_server: ServerProcess, tmp_path: Path) -> None:
    """Adopted commands follow the sender's rules: held by "work offline",
    and a failed try waits for the link to come back, not for its backoff
    (here a minute, longer than the test waits)."""
    srv, root = staff_server, tmp_path / "sessions"
    first = await tab(srv, root, "tab1", "therapist1")
    first.hold_sending()
    slot = new_id()
    assert (await first.dispatch("availability.create", slot, {
        "user_id": first.user["id"], "date": later(5), "start_time": "09:00",
        "end_time": "10:00", "available": True})).ok
    await first.logout()

    (root / "tab2").mkdir()
    second = await Client.start(srv.url, "therapist1", DEMO_PASSWORD, data_dir=root / "tab2",
                                adopt_from=root, retry_delays=lambda: itertools.repeat(60.0))
    try:
        second.hold_sending()  # before the adoption's first step
        await asyncio.sleep(1.0)
        assert slot not in server_state(srv, "therapist1")["availability"], "held"
        srv.stop()
        await until(lambda: second.status != "online", 20, "the client notices")
        second.resume_sending()
        await asyncio.sleep(0.5)  # a try fails: the next would be a minute away
        srv.start()
        await until(lambda: slot in server_state(srv, "therapist1")["availability"], 30,
                    "sent when the link is back")
        await until(lambda: not (root / "tab1").exists(), 20, "the old folder goes")
    finally:
        await second.stop()
