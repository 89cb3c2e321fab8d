"""Everything one server process holds, started and stopped by the app's lifespan."""

from __future__ import annotations

import logging

from domain.commands import Settings as DomainSettings
from server import repo
from server.accounts import Accounts
from server.auth import LoginThrottle, Passwords, Tokens
from server.commands import CommandService
from server.credentials import Credentials
from server.database import Database
from server.events import Event
from server.hub import Hub
from server.jobs import Jobs
from server.seed import seed_demo
from server.settings import ServerSettings
from server.state import State

log = logging.getLogger("tandem")


class Runtime:
    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self.db = Database(settings)
        self.hub = Hub(self._load_events, ring_size=settings.ring_size)
        self.state = State()
        self.tokens = Tokens(settings)
        self.passwords = Passwords(settings)
        self.throttle = LoginThrottle(settings)
        self.accounts = Accounts(self.db, self.passwords, settings.account_check_interval)
        self.commands = CommandService(
            self.db, self.hub, self.state,
            DomainSettings(response_minutes=settings.response_minutes,
                           late_minutes=settings.late_minutes, timezone=settings.timezone),
            credentials=Credentials(self.db, self.passwords),
        )
        self.commands.on_accounts = self.accounts.recheck_soon
        self.jobs = Jobs(self.commands, settings)

    async def _load_events(self, after: int, limit: int) -> list[Event]:
        async with self.db.read() as conn:
            return await repo.events_after(conn, after, limit)

    async def start(self) -> None:
        await self.db.migrate()
        async with self.db.read() as conn:
            await self.state.load(conn)
            _, trimmed = await repo.head(conn)
        self.hub.start(self.state.seq, trimmed)
        if self.settings.seed in ("demo", "staff"):
            await seed_demo(self.commands, self.settings, self.passwords.hash,
                            bookings=self.settings.seed == "demo")
        await self.accounts.start()
        self.jobs.start()
        log.info("Tandem server ready (event log at %d)", self.hub.head)

    async def stop(self) -> None:
        await self.jobs.stop()
        await self.accounts.stop()
        await self.commands.close()
        await self.db.close()
