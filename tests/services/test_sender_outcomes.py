"""The sender's handling of outcomes, on a small in-memory stand-in for the
API (pure logic: what it does with each kind of answer). The same rules on
the real server, through a misbehaving proxy: test_link.py."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Callable
from typing import Any, cast

import pytest

from domain.commands import Actor
from services.api import Api, NetworkError
from services.sender import Answer, Sender
from store.store import Store
from tests.services.helpers import until

Reply = Callable[[dict[str, Any], int], Answer]  # (wire, attempt for that seq) -> answer


class FakeApi:
    """Answers each POST with `reply(wire, attempt)`; a reply may raise.
    `hang` holds the first POST until `release` is set. No batch route,
    unless `batch` answers a batch's commands (a list of answers)."""

    def __init__(self, reply: Reply, hang: bool = False,
                 batch: Callable[[list[dict[str, Any]]], list[Answer]] | None = None) -> None:
        self.reply = reply
        self.attempts: dict[int, int] = {}
        self.hang = hang
        self.release = asyncio.Event()
        self.in_flight = 0
        self.batch = batch
        self.batches = 0

    async def command(self, wire: dict[str, Any]) -> Answer:
        n = self.attempts[wire["seq"]] = self.attempts.get(wire["seq"], 0) + 1
        if self.hang and sum(self.attempts.values()) == 1:
            self.in_flight += 1
            await self.release.wait()
            self.in_flight -= 1
        await asyncio.sleep(0)
        return self.reply(wire, n)

    async def commands(self, wires: list[dict[str, Any]]) -> Answer:
        if self.batch is None:
            return 404, None  # no batch route: one by one
        self.batches += 1
        await asyncio.sleep(0)
        return 200, {"results": [{"status_code": status, "body": body}
                                 for status, body in self.batch(wires)]}


def applied(wire: dict[str, Any]) -> Answer:
    return 200, {"status": "applied", "record": None, "changes": [], "cursor": 1}


def person(n: int) -> dict[str, Any]:
    return {"first_name": "A", "last_name": f"B{n}", "phone": "+63 917 000 0000",
            "address": "1 Loopback St"}


@contextlib.asynccontextmanager
async def running(api: FakeApi, delay: float = 0.01, **options: Any
                  ) -> AsyncIterator[tuple[Store, Sender, asyncio.Task[None]]]:
    store = Store(Actor("op", "operator"))
    store.bootstrap({"cursor": 0})
    options.setdefault("batch", 1)
    sender = Sender(store, cast(Api, api), delays=lambda: itertools.repeat(delay), **options)
    task = asyncio.create_task(sender.run())
    try:
        yield store, sender, task
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        store.close()


async def test_a_send_that_fails_in_an_unplanned_way_is_retried_and_the_sender_lives() -> None:
    def reply(wire: dict[str, Any], attempt: int) -> Answer:
        if attempt == 1:
            raise RuntimeError("a bug somewhere below the sender")
        return applied(wire)

    async with running(FakeApi(reply)) as (store, _, task):
        assert store.dispatch("client.create", "c1", person(1)).ok
        await until(lambda: not store.queued() or task.done(), what="sent or dead")
        assert not task.done(), "the sender died"
        assert store.queued() == [] and store.failed() == []


async def test_a_command_the_server_keeps_failing_on_lands_in_the_failed_list() -> None:
    """Five 500s in a row: the command can't succeed; it is rolled back into
    the failed list with a message, and the commands after it (one on the
    same record included) get their own answers instead of waiting for ever."""
    def reply(wire: dict[str, Any], attempt: int) -> Answer:
        if wire["name"] == "client.create" and wire["target"] == "c1":
            return 500, {"status": "rejected", "code": "server_error",
                         "message": "The server had a problem."}
        if wire["target"] == "c1":
            return 404, {"status": "rejected", "code": "not_found", "message": "No such client."}
        return applied(wire)

    api = FakeApi(reply)
    async with running(api) as (store, _, task):
        assert store.dispatch("client.create", "c1", person(1)).ok
        assert store.dispatch("client.update", "c1", {"notes": "gate code 1234"}).ok
        assert store.dispatch("client.create", "c2", person(2)).ok
        await until(lambda: not store.queued(), what="every command answered for good")
        assert not task.done()
        failed = {e.seq: e.error for e in store.failed()}
        assert failed[1] is not None and failed[1]["code"] == "stuck"
        assert "couldn't process this change after several tries" in failed[1]["message"]
        assert failed[2] is not None and failed[2]["code"] == "not_found"
        assert 3 not in failed and store.view.get("client", "c1") is None
        assert api.attempts[1] == 5
        told = [m for m in store.messages if m.code == "stuck"]
        assert len(told) == 1 and told[0].kind == "rollback" and told[0].seq == 1
        store.dismiss(1)
        assert 1 not in {e.seq for e in store.failed()}


async def test_a_batch_that_fails_for_one_commands_sake_costs_only_that_one() -> None:
    """The server runs a batch in one transaction: one command that breaks
    it gives every command of the batch a 500. Those strikes count for no
    one; the commands go one by one, the good ones are applied and only the
    culprit ends in the failed list."""
    def alone(wire: dict[str, Any], attempt: int) -> Answer:
        if wire["target"] == "bad":
            return 500, {"status": "rejected", "code": "server_error", "message": "Oops."}
        return applied(wire)

    def together(wires: list[dict[str, Any]]) -> list[Answer]:
        if any(w["target"] == "bad" for w in wires):
            return [(500, {"status": "rejected", "code": "server_error", "message": "Oops."})
                    for _ in wires]
        return [applied(w) for w in wires]

    api = FakeApi(alone, batch=together)
    async with running(api, batch=100) as (store, sender, _):
        for n in range(30):
            assert store.dispatch("client.create", "bad" if n == 3 else f"c{n}", person(n)).ok
        await until(lambda: not store.queued(), what="every command answered for good")
        assert [e.target for e in store.failed()] == ["bad"]
        assert sender.sent == 29 and api.batches >= 1


@pytest.mark.parametrize("answer", [
    (200, {"unexpected": True}),  # a 2xx that isn't "applied"
    (404, "<html>not here</html>"),  # a 4xx without a code: not our server's word
    (302, None),
])
async def test_odd_answers_give_up_only_while_the_link_is_up(answer: Answer) -> None:
    """While the link is down, odd answers come from whatever sits between
    (a captive portal's page): no strikes; they count once it is up."""
    up = False
    api = FakeApi(lambda wire, attempt: answer)
    async with running(api, link_up=lambda: up) as (store, _, _task):
        assert store.dispatch("client.create", "c1", person(1)).ok
        await until(lambda: api.attempts.get(1, 0) >= 12, what="retried")
        assert store.failed() == [] and len(store.queued()) == 1
        up = True
        await until(lambda: bool(store.failed()), what="given up once the link is up")
        error = store.failed()[0].error
        assert error is not None and error["code"] == "stuck"


@pytest.mark.parametrize("kind", ["network", 503, 502, 504, 429])
async def test_no_answer_or_busy_is_retried_for_as_long_as_it_takes(kind: str | int) -> None:
    """Offline, or the server away behind its gateway, is normal: never given up."""
    def reply(wire: dict[str, Any], attempt: int) -> Answer:
        if attempt <= 12:
            if kind == "network":
                raise NetworkError("connection refused")
            return int(kind), "<html>Service Unavailable</html>"
        return applied(wire)

    async with running(FakeApi(reply)) as (store, sender, _):
        assert store.dispatch("client.create", "c1", person(1)).ok
        await until(lambda: sender.sent == 1, what="applied in the end")
        assert store.failed() == [] and store.queued() == []


async def test_a_wake_while_a_request_is_in_flight_is_not_lost() -> None:
    """The link came back while a request was hanging; it then fails without
    an answer: retried at once, not after the (minute-long) backoff."""
    def reply(wire: dict[str, Any], attempt: int) -> Answer:
        if attempt == 1:
            raise NetworkError("reset")
        return applied(wire)

    api = FakeApi(reply, hang=True)
    async with running(api, delay=60.0) as (store, sender, _):
        assert store.dispatch("client.create", "c1", person(1)).ok
        await until(lambda: api.in_flight == 1, what="in flight")
        sender.wake()  # the listener is online again
        await asyncio.sleep(0.05)
        api.release.set()  # ... and the request in flight fails
        await until(lambda: sender.sent == 1, 20, "retried at once")
