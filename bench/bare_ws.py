"""The reference point for fan-out: a bare `websockets` server that only
broadcasts. Every connection that sends "hello" joins the audience; a frame
"go <payload>" from any connection is sent to the whole audience with
`websockets.broadcast` (the same bytes, encoded once). Like Tandem's server
it doesn't negotiate permessage-deflate, and it runs on uvloop when installed
(as uvicorn does).

    python -m bench.bare_ws PORT       prints "listening" when ready
"""

from __future__ import annotations

import asyncio
import sys

import websockets
from websockets.asyncio.server import ServerConnection, serve

AUDIENCE: set[ServerConnection] = set()


async def handler(ws: ServerConnection) -> None:
    try:
        async for message in ws:
            text = message if isinstance(message, str) else message.decode()
            if text == "hello":
                AUDIENCE.add(ws)
            elif text.startswith("go "):
                websockets.broadcast(AUDIENCE, text[3:])
    finally:
        AUDIENCE.discard(ws)


async def main(port: int) -> None:
    # No permessage-deflate, like Tandem's server (server/__main__.py): the
    # same frames on the wire, so the ratio compares the servers' own work.
    async with serve(handler, "127.0.0.1", port, ping_interval=None, backlog=4096,
                     max_size=2**20, compression=None):
        print("listening", flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    try:  # the loop uvicorn runs Tandem's server on
        import uvloop
    except ImportError:
        asyncio.run(main(int(sys.argv[1])))
    else:
        uvloop.run(main(int(sys.argv[1])))
