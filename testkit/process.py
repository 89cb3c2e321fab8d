"""A program under test in its own process: wait until it serves, stop it."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Protocol

import httpx

from testkit import loopback


class Running(Protocol):
    """A started program: a subprocess.Popen, or one forked by testkit.prefork."""

    def poll(self) -> int | None: ...
    def terminate(self) -> None: ...
    def kill(self) -> None: ...
    def wait(self, timeout: float | None = None) -> int: ...


def wait_serving(proc: Running, url: str, log: Path, what: str,
                 timeout: float = 120.0) -> None:
    """Return once `url` answers 200; raise (with the log's tail) if the
    process ends first or nothing answers within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited: {log.read_text(errors='replace')[-3000:]}")
        try:
            if loopback.get(url, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not answer in {timeout:.0f} s")


def stop(proc: Running | None) -> None:
    """Terminate, and kill after 10 s."""
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
