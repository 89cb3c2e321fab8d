"""The client's background flusher saves the cache (copy on the loop, write
in a worker thread) and keeps saving later changes. No server needed."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import orjson

from services import session as sessions
from services.api import Api
from services.client import Client
from store.store import CACHE_FILE, Store
from tests.services.helpers import until


@contextlib.asynccontextmanager
async def flushing(folder: Path) -> AsyncIterator[tuple[Store, asyncio.Task[None]]]:
    """An operator's store in `folder` and its client's flusher, running
    (every 10 ms); no server: nothing else of the client runs."""
    user = {"id": "op", "username": "operator", "role": "operator", "name": "Op"}
    session = sessions.Session("http://127.0.0.1:9", "token", user, folder)
    store = Store(session.actor, directory=folder)
    api = Api("http://127.0.0.1:9")
    client = Client(session, store, api, flush_interval=0.01)
    flusher = asyncio.create_task(client._flusher())
    try:
        yield store, flusher
    finally:
        flusher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await flusher
        store.close()
        await api.aclose()


async def test_the_flusher_saves_the_cache_and_later_changes(tmp_path: Path) -> None:
    async with flushing(tmp_path) as (store, flusher):
        store.bootstrap({"cursor": 4, "clients": [{"id": "c1", "version": 1, "first_name": "A"}]})
        await until(lambda: not store.dirty, what="flushed")
        saved = orjson.loads((tmp_path / CACHE_FILE).read_bytes())
        assert saved["client"] == {"c1": {"id": "c1", "version": 1, "first_name": "A"}}
        assert saved["_meta"]["state"]["cursor"] == 4
        store.apply_events([{"seq": 5, "entity": "client", "id": "c1", "op": "upsert",
                             "version": 2, "data": {"id": "c1", "version": 2,
                                                    "first_name": "B"}, "cause": "x"}])
        await until(lambda: not store.dirty, what="flushed again")
        saved = orjson.loads((tmp_path / CACHE_FILE).read_bytes())
        assert saved["client"]["c1"]["first_name"] == "B"
        assert saved["_meta"]["state"]["cursor"] == 5


async def test_the_flusher_outlives_a_save_that_fails_in_an_unplanned_way(tmp_path: Path) -> None:
    """A value that won't serialize (a bug elsewhere) fails one save with a
    TypeError, not an OSError: the flusher logs it and saves the next state."""
    async with flushing(tmp_path) as (store, flusher):
        store.bootstrap({"cursor": 1, "clients": [
            {"id": "c1", "version": 1, "first_name": "A", "tags": {"not", "json"}}]})
        await asyncio.sleep(0.3)  # a few tries
        assert not flusher.done(), "the flusher died"
        store.bootstrap({"cursor": 2, "clients": [{"id": "c1", "version": 2, "first_name": "B"}]})
        await until(lambda: not store.dirty, what="saved in the end")
        saved = orjson.loads((tmp_path / CACHE_FILE).read_bytes())
        assert saved["client"]["c1"]["first_name"] == "B"
