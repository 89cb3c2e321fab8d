"""A client process for the crash test (run by test_crash.py, not by pytest).

    python tests/services/crash_client.py URL DATA_DIR queue EDITS ID...
        resume the saved operator session, queue EDITS note edits on each
        appointment ID, print "QUEUED <n>", then wait to be killed.
    python tests/services/crash_client.py URL DATA_DIR drain
        resume, send whatever is queued, print "DRAINED <sent> <failed>".
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from services.client import Client  # noqa: E402


async def main(url: str, data_dir: str, mode: str, edits: str = "0", *ids: str) -> None:
    client = await Client.start(url, "operator", None, data_dir=data_dir)
    if mode == "queue":
        for k in range(int(edits)):
            for aid in ids:
                result = client.dispatch_now("appointment.update", aid, {"notes": f"crash {k}"})
                assert result.ok, result.message
        print(f"QUEUED {len(client.queued())}", flush=True)
        await asyncio.sleep(3600)  # until kill -9
    else:
        try:
            await client.wait_idle(30)
        except TimeoutError:
            print(f"STUCK {client.status} {client.sender.last_error} {client.queued()[:1]}",
                  flush=True)
            raise
        print(f"DRAINED {client.sender.sent} {len(client.failed())}", flush=True)
        await client.stop()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
