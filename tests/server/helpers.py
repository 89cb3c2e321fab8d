"""Small real clients for the server tests: httpx for the API, websockets for
the stream, and sqlite3 to read the server's event log directly."""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
from websockets.asyncio.client import ClientConnection, connect

from domain.commands import Actor
from domain.policy import Audience
from services.listener import close_promptly
from testkit import loopback
from testkit.server import DEMO_PASSWORD, ServerProcess
from tests.support.postgres import query

_days = itertools.count()


def fresh_day() -> str:
    """A date nobody else in this test run books (no clashes between tests)."""
    n = next(_days)
    return f"{2031 + n // 300}-{1 + (n // 28) % 10:02d}-{1 + n % 28:02d}"


@dataclass
class Answer:
    status: int
    body: dict[str, Any]

    @property
    def record(self) -> dict[str, Any]:
        rec = self.body.get("record")
        assert isinstance(rec, dict), self.body
        return rec

    @property
    def code(self) -> str | None:
        return self.body.get("code")

    def ok(self) -> Answer:
        assert self.status == 200 and self.body["status"] == "applied", self.body
        return self


@dataclass
class Api:
    """One signed-in device: a client_id and a growing seq, like the outbox."""

    srv: ServerProcess
    username: str
    password: str = DEMO_PASSWORD
    client_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    seq: int = 0
    token: str = ""
    user: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        r = loopback.post(self.srv.url + "/api/auth/login",
                       json={"username": self.username, "password": self.password}, timeout=15)
        assert r.status_code == 200, r.text
        self.token = r.json()["token"]
        self.user = r.json()["user"]

    @property
    def id(self) -> str:
        return str(self.user["id"])

    @property
    def actor(self) -> Actor:
        return Actor(self.id, self.user["role"])

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def body(self, name: str, target: str | None = None, base_version: int | None = None,
             **args: Any) -> dict[str, Any]:
        self.seq += 1
        return {"client_id": self.client_id, "seq": self.seq, "name": name, "target": target,
                "args": args, "base_version": base_version}

    def send(self, body: dict[str, Any]) -> Answer:
        r = loopback.post(self.srv.url + "/api/commands", json=body, headers=self.headers,
                       timeout=30)
        return Answer(r.status_code, r.json())

    def cmd(self, name: str, target: str | None = None, base_version: int | None = None,
            **args: Any) -> Answer:
        return self.send(self.body(name, target, base_version, **args))

    def get(self, path: str, **params: Any) -> httpx.Response:
        return loopback.get(self.srv.url + path, params=params, headers=self.headers, timeout=30)

    def bootstrap(self) -> dict[str, Any]:
        r = self.get("/api/sync/bootstrap")
        assert r.status_code == 200, r.text
        data: dict[str, Any] = r.json()
        return data

    def events(self, after: int = 0) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        while True:
            r = self.get("/api/events", after=after, limit=1000)
            assert r.status_code == 200, r.text
            data = r.json()
            out += data["events"]
            if data["cursor"] == after:
                return out
            after = data["cursor"]

    def cursor(self) -> int:
        return int(self.get("/api/health").json()["cursor"])

    def staff_id(self, username: str) -> str:
        for s in self.bootstrap()["staff"]:
            if s["username"] == username:
                return str(s["id"])
        raise KeyError(username)


def log_rows(srv: ServerProcess) -> list[dict[str, Any]]:
    """Every event in the server's log, straight from its SQLite file (or PostgreSQL)."""
    if srv.database_url.startswith("postgresql"):
        return query(srv.database_url, "SELECT * FROM events ORDER BY seq")
    path = srv.database_url.removeprefix("sqlite:///")
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    try:
        rows = con.execute("SELECT * FROM events ORDER BY seq").fetchall()
    finally:
        con.close()
    return [dict(r) for r in rows]


def audience_of(row: dict[str, Any]) -> Audience:
    return Audience(frozenset(orjson.loads(row["audience_users"])), bool(row["to_operators"]),
                    bool(row["to_everyone"]))


class Stream:
    """A websocket session: hello, then read frames."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    async def frame(self, timeout: float = 20.0) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.ws.recv(), timeout)
        frame: dict[str, Any] = orjson.loads(raw)
        return frame

    async def events(self, n: int, timeout: float = 30.0) -> list[dict[str, Any]]:
        """The next `n` events (pings skipped)."""
        out: list[dict[str, Any]] = []
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while len(out) < n:
            frame = await self.frame(max(0.01, end - loop.time()))
            if frame["type"] == "event":
                out.append(frame["event"])
            elif frame["type"] != "ping":
                raise AssertionError(f"unexpected frame {frame}")
        return out

    async def quiet(self, seconds: float = 0.5) -> list[dict[str, Any]]:
        """Whatever events arrive within `seconds` (expecting none, usually)."""
        out: list[dict[str, Any]] = []
        try:
            while True:
                frame = await self.frame(seconds)
                if frame["type"] == "event":
                    out.append(frame["event"])
        except TimeoutError:
            return out

    async def until(self, cursor: int, timeout: float = 15.0) -> list[dict[str, Any]]:
        """Events until one with seq >= cursor, or until quiet (caller checks)."""
        out: list[dict[str, Any]] = []
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while not out or out[-1]["seq"] < cursor:
            try:
                frame = await self.frame(max(0.01, end - loop.time()))
            except TimeoutError:
                break
            if frame["type"] == "event":
                out.append(frame["event"])
        return out


@asynccontextmanager
async def stream(srv: ServerProcess, token: str, after: int | None) -> AsyncIterator[Stream]:
    ws = await connect(srv.ws_url, proxy=None, open_timeout=15)
    try:
        hello: dict[str, Any] = {"type": "hello", "token": token}
        if after is not None:
            hello["after"] = after
        await ws.send(orjson.dumps(hello).decode())
        yield Stream(ws)
    finally:
        # a test often stops reading mid-stream: a plain close would wait out
        # its whole timeout (services.listener.close_promptly says why)
        await close_promptly(ws)


def make_world(op: Api, day: str, people: list[str]) -> None:
    """Availability 07:00-23:00 on `day` for each username in `people`."""
    for username in people:
        op.cmd("availability.create", str(uuid.uuid4()), user_id=op.staff_id(username),
               date=day, start_time="07:00", end_time="23:00", available=True).ok()


def new_client(op: Api) -> str:
    cid = str(uuid.uuid4())
    op.cmd("client.create", cid, first_name="Test", last_name="Client",
           phone="+63 900 000 0000", address="1 Test St, Manila").ok()
    return cid


def service_id(op: Api) -> str:
    return str(op.bootstrap()["services"][0]["id"])
