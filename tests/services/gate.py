"""`Gate`: a small HTTP proxy on loopback in front of the real server, to
play the things that sit between a phone and the server.

    gate = await Gate.start(srv.port)
    gate.url                      # give it to Client.start (HTTP and websocket)
    gate.down = True              # refuse new connections (and gate.cut() the open ones)
    gate.block_upgrades = True    # answer websocket upgrades 404, as some proxies do
    gate.garble("POST", "/api/commands")  # answer 502 with a body that won't decode
    gate.hang("POST", "/api/commands")    # hold such requests; gate.held counts them
    gate.clear(); gate.release()  # pass requests again; drop the held ones (no answer)
    gate.cut_websockets()         # end the websockets passing through
    await gate.close()

Plain requests are passed on one per upstream connection (`Connection:
close` upstream: the answer is all the server sends before it closes);
websockets are piped byte for byte.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Literal

from testkit.server import free_port

Rule = Literal["garble", "hang"]
GARBLED = (b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: application/json\r\n"
           b"Content-Encoding: gzip\r\nContent-Length: 15\r\nConnection: close\r\n\r\n"
           b"not gzip at all")
NO_UPGRADES = (b"HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: 9\r\n"
               b"Connection: close\r\n\r\nno access")


class Gate:
    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = free_port()
        self.down = False
        self.block_upgrades = False
        self.rules: dict[tuple[str, str], Rule] = {}
        self.held = 0  # requests being held (hang), now
        self.answered: dict[tuple[str, str], int] = {}  # (method, path): passed or garbled
        self._release = asyncio.Event()
        self._writers: set[asyncio.StreamWriter] = set()
        self._sockets: set[asyncio.StreamWriter] = set()  # websockets' both ends
        self._server: asyncio.Server | None = None

    @classmethod
    async def start(cls, upstream_port: int) -> Gate:
        gate = cls(upstream_port)
        gate._server = await asyncio.start_server(gate._serve, "127.0.0.1", gate.port)
        return gate

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def garble(self, method: str, path: str) -> None:
        self.rules[(method, path)] = "garble"

    def hang(self, method: str, path: str) -> None:
        self.rules[(method, path)] = "hang"

    def clear(self) -> None:
        self.rules.clear()

    def release(self) -> None:
        """The held requests end without an answer (their connection is cut)."""
        self._release.set()
        self._release = asyncio.Event()

    def cut_websockets(self) -> None:
        for w in list(self._sockets):
            w.transport.abort()
        self._sockets.clear()

    def cut(self) -> None:
        for w in list(self._writers):
            w.transport.abort()
        self._writers.clear()
        self._sockets.clear()

    async def close(self) -> None:
        self.release()
        self.cut()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.down:
            writer.transport.abort()
            return
        self._writers.add(writer)
        try:
            await self._requests(reader, writer)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pass
        finally:
            writer.transport.abort()
            self._writers.discard(writer)
            self._sockets.discard(writer)

    async def _requests(self, reader: asyncio.StreamReader,
                        writer: asyncio.StreamWriter) -> None:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            path = target.split("?", 1)[0]
            headers = {k.strip().lower(): v.strip()
                       for k, _, v in (line.partition(":") for line in lines[1:] if line)}
            body = await reader.readexactly(int(headers.get("content-length") or 0))
            if headers.get("upgrade", "").lower() == "websocket":
                if self.block_upgrades:
                    writer.write(NO_UPGRADES)
                    await writer.drain()
                    return
                await self._pipe_websocket(head + body, reader, writer)
                return
            rule = self.rules.get((method, path))
            if rule == "hang":
                self.held += 1
                try:
                    await self._release.wait()
                finally:
                    self.held -= 1
                return  # cut: no answer
            self.answered[(method, path)] = self.answered.get((method, path), 0) + 1
            if rule == "garble":
                writer.write(GARBLED)
                await writer.drain()
                return
            writer.write(await self._forward(lines, body))
            await writer.drain()  # and the next request on this connection

    async def _forward(self, lines: list[str], body: bytes) -> bytes:
        kept = [line for line in lines[1:] if line and not line.lower().startswith("connection:")]
        head = "\r\n".join([lines[0], *kept, "Connection: close", "", ""]).encode("latin-1")
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        try:
            up_writer.write(head + body)
            await up_writer.drain()
            return await up_reader.read()  # until the server closes: the whole answer
        finally:
            up_writer.transport.abort()

    async def _pipe_websocket(self, request: bytes, reader: asyncio.StreamReader,
                              writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        self._sockets.update((writer, up_writer))
        self._writers.add(up_writer)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while chunk := await src.read(65536):
                    dst.write(chunk)
                    await dst.drain()
            finally:
                dst.transport.abort()

        up_writer.write(request)
        try:
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        finally:
            up_writer.transport.abort()
            self._writers.discard(up_writer)
            self._sockets.discard(up_writer)
