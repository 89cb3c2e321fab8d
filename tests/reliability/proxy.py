"""A small asyncio loopback TCP proxy that misbehaves on purpose.

    proxy = await FaultyProxy.start(upstream_port)
    proxy.url                       # http://127.0.0.1:<port>, give it to a client
    proxy.swallow_responses = True  # requests still reach the server; answers vanish
    proxy.delay = 0.2               # every chunk waits this long (both ways)
    proxy.drop_rate = 0.05          # each chunk may cut its connection instead
    proxy.cut()                     # close every connection now
    proxy.down = True               # refuse (close) new connections until False
    await proxy.close()

It works on bytes, so it serves HTTP and websockets alike. `requests` counts
the chunks sent upstream that start an HTTP request to `/api/commands`.
"""

from __future__ import annotations

import asyncio
import contextlib
import random

from testkit.server import free_port


class FaultyProxy:
    def __init__(self, upstream_port: int, seed: int = 0) -> None:
        self.upstream_port = upstream_port
        self.port = free_port()
        self.swallow_responses = False
        self.delay = 0.0
        self.drop_rate = 0.0
        self.down = False
        self.commands_seen = 0
        self.rng = random.Random(seed)
        self._writers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None

    @classmethod
    async def start(cls, upstream_port: int, seed: int = 0) -> FaultyProxy:
        proxy = cls(upstream_port, seed)
        proxy._server = await asyncio.start_server(proxy._serve, "127.0.0.1", proxy.port)
        return proxy

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cut(self) -> None:
        for w in list(self._writers):
            w.transport.abort()
        self._writers.clear()

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.down:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            writer.transport.abort()
            return
        self._writers.update((writer, up_writer))
        try:
            await asyncio.gather(self._pipe(reader, up_writer, upstream=True),
                                 self._pipe(up_reader, writer, upstream=False))
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            for w in (writer, up_writer):
                w.transport.abort()
                self._writers.discard(w)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *,
                    upstream: bool) -> None:
        try:
            while True:
                chunk = await reader.read(65536)
                if not chunk:
                    break
                if self.delay:
                    await asyncio.sleep(self.delay)
                if self.drop_rate and self.rng.random() < self.drop_rate:
                    break  # the link dies mid-stream
                if upstream:
                    self.commands_seen += chunk.count(b"POST /api/commands")  # single or /batch
                elif self.swallow_responses:
                    continue
                writer.write(chunk)
                await writer.drain()
        finally:
            writer.transport.abort()
