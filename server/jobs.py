"""Background jobs, run as SYSTEM through the ordinary command path (so they
are serialized with every other writer and can never race the operator):

- auto-cancel overdue pending appointments (every `auto_cancel_interval` s);
- pickup auto-assignment (every `pickup_interval` s, and at once after a
  command that may free a driver: drop-off, return, duty, cancel);
- trimming the event log past `log_retention_days`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from datetime import timedelta

from domain.commands import SYSTEM, Command, Outcome
from domain.lifecycle import FREES_A_DRIVER
from domain.times import iso
from server import repo
from server.commands import CommandService
from server.settings import ServerSettings
from server.tasks import cancel_and_wait

log = logging.getLogger("tandem.jobs")


class Jobs:
    def __init__(self, commands: CommandService, settings: ServerSettings) -> None:
        self.commands = commands
        self.settings = settings
        self._client_id = f"server-jobs:{uuid.uuid4()}"  # derived ids stay unique
        self._seq = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._pickup_kick = asyncio.Event()
        commands.listeners.append(self._after_command)

    def start(self) -> None:
        s = self.settings
        jobs = [(s.auto_cancel_interval, self.auto_cancel, None),
                (s.pickup_interval, self.assign_pickups, self._pickup_kick),
                (s.trim_interval, self.trim, None)]
        # An interval of 0 turns that job off (tests of manual paths; settings refuse < 0).
        self._tasks = [asyncio.create_task(self._every(every, job, kick))
                       for every, job, kick in jobs if every > 0]

    async def stop(self) -> None:
        await cancel_and_wait(self._tasks)
        self._tasks = []

    def _after_command(self, command: Command, _outcome: Outcome) -> None:
        if command.name in FREES_A_DRIVER:
            self._pickup_kick.set()

    async def _every(self, seconds: float, job: object,
                     kick: asyncio.Event | None = None) -> None:
        assert callable(job)
        while True:
            if kick is None:
                await asyncio.sleep(seconds)
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(kick.wait(), seconds)
                kick.clear()
            try:
                await job()
            except asyncio.CancelledError:
                raise
            except Exception:  # a failing job must not stop the schedule
                log.exception("job failed")

    async def run(self, name: str) -> int:
        """Run one system command; the HTTP-like status."""
        self._seq += 1
        cmd = Command(name=name, target=None, args={}, client_id=self._client_id, seq=self._seq)
        status, body = await self.commands.execute(SYSTEM, cmd, log_it=False)
        if status != 200 and body.get("code") != "unavailable":
            log.warning("%s refused: %s", name, body.get("message"))
        return status

    async def auto_cancel(self) -> None:
        await self.run("appointments.auto_cancel_overdue")

    async def assign_pickups(self) -> None:
        await self.run("appointments.auto_assign_pickups")

    async def trim(self) -> None:
        cutoff = iso(self.commands.clock() - timedelta(days=self.settings.log_retention_days))
        async with self.commands.db.write() as tx:
            trimmed = await repo.trim_events(tx.conn, cutoff)
        if trimmed:
            hub = self.commands.hub
            hub.trimmed = max(hub.trimmed, trimmed)
