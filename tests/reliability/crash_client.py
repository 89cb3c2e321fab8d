"""A client process for test_ack_crash (not collected by pytest).

    python tests/reliability/crash_client.py URL DATA_DIR N
        resume the saved operator session, dispatch N client.create commands,
        print "QUEUED <ids…>", then wait to be killed (kill -9).
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from services.client import Client  # noqa: E402


async def main(url: str, data_dir: str, n: str) -> None:
    client = await Client.start(url, "operator", None, data_dir=data_dir, timeout=5.0)
    ids = []
    for k in range(int(n)):
        cid = str(uuid.uuid4())
        result = client.dispatch_now("client.create", cid, {
            "first_name": "Crash", "last_name": f"Test {k}", "phone": "+63 900 000 3333",
            "address": f"{k} Crash St"})
        assert result.ok, result.message
        ids.append(cid)
    print("QUEUED " + " ".join(ids), flush=True)
    await asyncio.sleep(3600)  # until kill -9


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
