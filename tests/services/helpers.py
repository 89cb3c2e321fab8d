"""Helpers for live client tests: real server subprocess, real clients."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from domain.records import ENTITIES, Entity, Record
from services.client import Client
from store.cache import BOOTSTRAP_FIELDS
from testkit import loopback
from testkit.server import DEMO_PASSWORD, ServerProcess


def tomorrow() -> str:
    """A day the staff seed made everyone available (07:00–23:00, Manila)."""
    return (datetime.now(ZoneInfo("Asia/Manila")).date() + timedelta(days=1)).isoformat()


async def until(check: Callable[[], bool], timeout: float = 10.0, what: str = "") -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.01)
    assert check(), what


async def sign_in(srv: ServerProcess, username: str, **options: Any) -> Client:
    return await Client.start(srv.url, username, DEMO_PASSWORD, **options)


def by_username(client: Client, username: str) -> Record:
    return next(s for s in client.view().all("staff") if s["username"] == username)


_slots: dict[tuple[str, str], itertools.count[int]] = {}


def booking(client: Client, therapist: str | None = None, hour: int | None = None,
            driver: str | None = "driver1") -> dict[str, Any]:
    """Args for appointment.create. Without an hour, the therapist's next free
    hour on this server (tests sharing a server never double-book); without a
    therapist, the three take turns."""
    server = client.api.base_url
    if therapist is None:
        n = next(_slots.setdefault((server, ""), itertools.count()))
        therapist = f"therapist{n % 3 + 1}"
    day = tomorrow()
    if hour is None:
        n = next(_slots.setdefault((server, therapist), itertools.count()))
        hour = 7 + n % 16
        day = (date.fromisoformat(day) - timedelta(days=n // 16)).isoformat()
    return {
        "client_id": next(iter(client.view().all("client")))["id"],
        "service_ids": [next(iter(client.view().all("service")))["id"]],
        "therapist_ids": [by_username(client, therapist)["id"]],
        "driver_id": by_username(client, driver)["id"] if driver else None,
        "date": day,
        "start_time": f"{hour:02d}:00",
        "end_time": f"{hour:02d}:50",
        "location": "12 Rizal St, Makati",
    }


def new_id() -> str:
    return str(uuid.uuid4())


def server_state(srv: ServerProcess, username: str) -> dict[Entity, dict[str, Record]]:
    """What the server says `username` may see, fresh."""
    with srv.client(username) as http:
        body = http.get("/api/sync/bootstrap").json()
    fields = {entity: field for field, entity in BOOTSTRAP_FIELDS.items()}
    return {e: {r["id"]: r for r in body[fields[e]]} for e in ENTITIES}


def view_state(client: Client) -> dict[Entity, dict[str, Record]]:
    return {e: {r["id"]: r for r in client.view().all(e)} for e in ENTITIES}


def server_events(srv: ServerProcess, username: str, after: int = 0) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    with srv.client(username) as http:
        while True:
            body = http.get("/api/events", params={"after": after, "limit": 1000}).json()
            out += body["events"]
            if not body["events"] or body["cursor"] == after:
                return out
            after = body["cursor"]


def is_http_up(url: str) -> bool:
    try:
        return loopback.get(url + "/api/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def appt(client: Client, aid: str) -> Record:
    record = client.view().get("appointment", aid)
    assert record is not None, f"no appointment {aid}"
    return record


def confirmed(client: Client, aid: str) -> Record:
    record = client.store.cache.get("appointment", aid)
    assert record is not None, f"no confirmed appointment {aid}"
    return record
