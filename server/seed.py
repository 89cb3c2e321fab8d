"""`--seed demo`: a believable small business, only into an empty database.

People, services and logins are inserted directly (no command creates them);
clients, availability and appointments are made by running the real domain
commands through the ordinary command path, so every record is valid and in
the event log. One appointment ends in each status.
"""

from __future__ import annotations

import asyncio
import logging
import struct
import uuid
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from domain.commands import SYSTEM, Actor, Change, Command
from domain.records import Record
from domain.status import OUTBOUND_BUSY
from domain.times import iso
from server import repo
from server.commands import CommandService
from server.events import drafts_for
from server.receipt_store import store
from server.schema import users
from server.settings import ServerSettings

log = logging.getLogger("tandem.seed")

PASSWORD = "demo1234"
_NS = uuid.UUID("0b7c6a55-7d3e-4f0b-9a59-4d7d2f1c8e20")


def demo_id(kind: str, key: str) -> str:
    """Stable ids, so a demo database looks the same every time."""
    return str(uuid.uuid5(_NS, f"{kind}:{key}"))


@dataclass(frozen=True)
class Person:
    username: str
    role: str
    name: str
    phone: str
    extra: dict[str, Any]


PEOPLE = (
    Person("operator", "operator", "Grace Villanueva", "+63 917 555 0100", {}),
    Person("therapist1", "therapist", "Ana Reyes", "+63 917 555 0111",
           {"specialization": "Swedish and deep tissue", "pressure_preference": "medium",
            "license": "PH-MT-20311"}),
    Person("therapist2", "therapist", "Maria Santos", "+63 917 555 0112",
           {"specialization": "Hilot and reflexology", "pressure_preference": "firm",
            "license": "PH-MT-20418"}),
    Person("therapist3", "therapist", "Joy Dela Cruz", "+63 917 555 0113",
           {"specialization": "Thai and sports massage", "pressure_preference": "light",
            "license": "PH-MT-20522"}),
    Person("driver1", "driver", "Ramon Cruz", "+63 917 555 0121", {"plate": "NAB 1234"}),
    Person("driver2", "driver", "Paolo Garcia", "+63 917 555 0122", {"plate": "DAE 5678"}),
)
# The demo's day has five trips under way at once (out: started, on the way, arrived;
# back: pickup assigned, on the way back), one per driver as a dispatcher would plan
# it, so it needs three more drivers than the staff seed the tests build on.
DEMO_DRIVERS = (
    Person("driver3", "driver", "Nestor Villareal", "+63 917 555 0123", {"plate": "NCA 4421"}),
    Person("driver4", "driver", "Arnel Castillo", "+63 917 555 0124", {"plate": "TAB 7719"}),
    Person("driver5", "driver", "Rico Dizon", "+63 917 555 0125", {"plate": "DBC 3380"}),
)
DEMO_PEOPLE = PEOPLE + DEMO_DRIVERS

SERVICES = (
    ("swedish", "Swedish Massage", 60, 800),
    ("deep", "Deep Tissue Massage", 90, 1200),
    ("hilot", "Traditional Hilot", 60, 700),
    ("foot", "Foot Reflexology", 45, 500),
    ("thai", "Thai Massage", 90, 1100),
)

# The stock list: (key, name, unit, on hand, reorder level). Hot stones start
# low, so the inventory page has something to say; the completed sessions
# below take oil and towels from stock, so the history isn't empty.
MATERIALS = (
    ("oil", "Massage oil", "ml", 2000, 500),
    ("aroma", "Aromatherapy oil", "ml", 300, 100),
    ("towels", "Towels", "pieces", 40, 10),
    ("stones", "Hot stones", "sets", 2, 3),
    ("sheets", "Disposable sheets", "pieces", 120, 30),
)
RESTOCKS = (("oil", 1000, "Monthly order"), ("towels", 20, "Laundry back"))

CLIENTS = (
    ("Liza", "Mendoza", "+63 918 222 0101", "12 Jupiter St, Bel-Air, Makati City"),
    ("Carlo", "Bautista", "+63 918 222 0102", "45 Scout Tobias St, Quezon City"),
    ("Bea", "Lim", "+63 918 222 0103", "Unit 8B, One Serendra, BGC, Taguig"),
    ("Miguel", "Ramos", "+63 918 222 0104", "221 Kapitolyo St, Pasig City"),
    ("Tess", "Aquino", "+63 918 222 0105", "9 Aguirre Ave, BF Homes, Parañaque"),
    ("Jun", "Navarro", "+63 918 222 0106", "3F 1010 Roxas Blvd, Malate, Manila"),
)

# The main path as (action, who acts) after create; "pickup" = the pickup driver.
MAIN = (
    ("accept", "therapist"), ("confirm", "driver"), ("start", "operator"),
    ("start_journey", "driver"), ("arrive", "driver"), ("drop_off", "driver"),
    ("start_session", "therapist"), ("request_payment", "therapist"),
    ("verify_payment", "operator"), ("complete", "therapist"),
    ("request_pickup", "therapist"), ("confirm_pickup", "pickup"),
    ("complete_return", "pickup"),
)
ARGS: dict[str, dict[str, Any]] = {
    "complete": {"materials": [{"material_id": demo_id("material", "oil"), "quantity": 30},
                               {"material_id": demo_id("material", "towels"), "quantity": 2}]},
    "request_pickup": {"urgency": "normal", "notes": "Waiting at the lobby"},
}


# The past week's attendance: each person's slot on those days (the shifts'
# lateness is measured against it), then per day back (1 = yesterday) who
# came how many minutes after the slot's start (negative: early) and stayed
# how many minutes past its end; None: a day off. driver2 works nights
# (a slot, and shifts, across midnight). therapist1 is clocked in right now.
WEEK_SLOTS = {"therapist1": ("09:00", "18:00"), "therapist2": ("10:00", "19:00"),
              "therapist3": ("08:00", "17:00"), "driver1": ("07:00", "16:00"),
              "driver2": ("18:00", "02:00")}
WEEK: dict[str, tuple[tuple[int, int] | None, ...]] = {  # days back 1..6
    "therapist1": ((-5, 0), (12, 15), (2, 0), None, (-3, 30), (1, 0)),
    "therapist2": ((3, 10), None, (25, 0), (0, 0), (-8, 45), None),
    "therapist3": ((40, 20), (-2, 0), (5, 0), (1, 5), None, (-4, 0)),
    "driver1": ((0, 0), (-10, 0), None, (14, 30), (2, 0), (6, 0)),
    "driver2": (None, (4, 0), (-5, 20), (31, 0), (0, 15), None),
}


# How the verified demo payments were made, in turn (method, reference, a
# receipt photo: attached by the therapist at the door, or by the operator
# when verifying); the amount is the service's price.
PAYMENTS = (
    ("gcash", None, "therapist"),
    ("cash", None, None),
    ("card", "VISA-4417", "operator"),
    ("bank_transfer", "BPI-9912033", None),
)
# the method's colour on the made-up receipt's header band
RECEIPT_COLORS = {"gcash": (0, 112, 224), "card": (230, 120, 20),
                  "bank_transfer": (120, 60, 170)}


def receipt_png(n: int, method: str, width: int = 120, height: int = 200) -> bytes:
    """A small made-up receipt photo (a coloured header, lines of 'text', a
    bold total), different for each `n`, as a real PNG."""
    band = RECEIPT_COLORS.get(method, (90, 90, 90))
    rows = []
    for y in range(height):
        line = bytearray()
        for x in range(width):
            if y < 28:
                pixel = band
            elif 40 <= y < 170 and (y - 40) % 14 < 5 and 10 <= x < width - 10 - (
                    (y * 7 + n * 13) % 40):
                pixel = (70, 70, 70)  # a line of text
            elif 178 <= y < 188 and width // 2 <= x < width - 10:
                pixel = (20, 20, 20)  # the total
            else:
                pixel = (250, 250, 246)
            line += bytes(pixel)
        rows.append(b"\x00" + bytes(line))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b""))


# The response window of the demo's pending group booking (see seed_demo).
GROUP_WINDOW_MINUTES = 8 * 60


class SeedError(RuntimeError):
    pass


@contextmanager
def response_window(commands: CommandService, minutes: int) -> Iterator[None]:
    """Commands run meanwhile get `minutes` to be answered. Only for the seed,
    which runs before the server takes requests or starts its jobs."""
    before = commands.domain_settings
    commands.domain_settings = replace(before, response_minutes=minutes)
    try:
        yield
    finally:
        commands.domain_settings = before


class Seeder:
    def __init__(self, commands: CommandService, hash_password: Callable[[str], str],
                 people: tuple[Person, ...] = PEOPLE) -> None:
        self.commands = commands
        self.hash_password = hash_password
        self.people = people
        self.seq = 0
        self.ids = {p.username: demo_id("user", p.username) for p in people}
        self.actors = {p.username: Actor(self.ids[p.username], p.role) for p in people}  # type: ignore[arg-type]

    async def run(self, name: str, target: str | None, args: dict[str, Any], who: str,
                  at: datetime | None = None) -> Record | None:
        self.seq += 1
        actor = SYSTEM if who == "system" else self.actors[who]
        cmd = Command(name=name, target=target, args=args, client_id="seed:demo", seq=self.seq)
        status, body = await self.commands.execute(actor, cmd, log_it=False, now=at)
        if status != 200:
            raise SeedError(f"demo seed: {name} by {who} refused: {body.get('message')}")
        record: Record | None = body.get("record")
        return record

    async def people_and_services(self, now: datetime) -> None:
        at = iso(now)
        hashes = await asyncio.gather(*(
            asyncio.to_thread(self.hash_password, PASSWORD) for _ in self.people
        ))
        changes: list[Change] = []
        async with self.commands.db.write() as tx:
            for i, (p, pw_hash) in enumerate(zip(self.people, hashes, strict=True)):
                uid = self.ids[p.username]
                await tx.conn.execute(users.insert().values(
                    id=uid, username=p.username, password_hash=pw_hash, role=p.role,
                    created_at=at))
                record: Record = {
                    "id": uid, "version": 1, "username": p.username, "role": p.role,
                    "name": p.name, "phone": p.phone, "specialization": None,
                    "pressure_preference": None, "license": None, "plate": None,
                    "active": True, "on_duty": True,
                    "last_available_at": iso(now - timedelta(minutes=90 - 10 * i)),
                    **p.extra,
                }
                changes.append(Change("staff", uid, "upsert", record, None))
            for key, name, minutes, price in SERVICES:
                sid = demo_id("service", key)
                changes.append(Change("service", sid, "upsert", {
                    "id": sid, "version": 1, "name": name, "minutes": minutes,
                    "price": price, "currency": "PHP", "active": True}, None))
            await repo.write_changes(tx.conn, changes)
            head, _ = await repo.head(tx.conn)
            drafts = [d for c in changes for d in drafts_for(c)]
            events = [d.numbered(head + i + 1, "seed", at) for i, d in enumerate(drafts)]
            await repo.append_events(tx.conn, events)
            seq = events[-1].seq

            def committed() -> None:
                self.commands.state.commit(changes, seq)
                self.commands.hub.publish(events)

            tx.after_commit.append(committed)

    async def book(self, n: int, client: int, therapists: list[str], driver: str | None,
                   day: str, hour: int, minutes: int = 60, at: datetime | None = None) -> str:
        aid = demo_id("appointment", str(n))
        start = f"{hour:02d}:00"
        end_h, end_m = divmod(hour * 60 + minutes, 60)
        await self.run("appointment.create", aid, {
            "client_id": demo_id("client", str(client)),
            "service_ids": [demo_id("service", SERVICES[n % len(SERVICES)][0])],
            "therapist_ids": [self.ids[t] for t in therapists],
            "driver_id": self.ids[driver] if driver else None,
            "date": day, "start_time": start, "end_time": f"{end_h % 24:02d}:{end_m:02d}",
            "location": CLIENTS[client][3],
        }, "operator", at)
        return aid

    async def advance(self, aid: str, therapist: str, driver: str, steps: int,
                      n: int = 0) -> None:
        """Walk the main path `steps` actions past create (the `n`th booking:
        its way of paying from PAYMENTS)."""
        for action, who in MAIN[:steps]:
            if who == "therapist":
                actor = therapist
            elif who == "driver":
                actor = driver
            elif who == "pickup":
                appt = await self._get(aid)
                pickup = appt.get("pickup_driver_id")
                actor = next(u for u, i in self.ids.items() if i == pickup)
            else:
                actor = "operator"
            args = dict(ARGS.get(action, {}))
            if action in ("request_payment", "verify_payment"):
                args = await self.payment(aid, action, actor, n)
            await self.run(f"appointment.{action}", aid, args, actor)

    async def payment(self, aid: str, action: str, actor: str, n: int) -> dict[str, Any]:
        """The payment step's args: the method, and a receipt photo kept the
        way the upload route keeps one (server.receipt_store)."""
        method, reference, photo_by = PAYMENTS[n % len(PAYMENTS)]
        appt = await self._get(aid)
        claim = appt.get("payment_claim") or {}
        if action == "request_payment":
            args: dict[str, Any] = {"method": method}
        else:
            price = next(p for k, _, _, p in SERVICES
                         if demo_id("service", k) in appt["service_ids"])
            args = {"method": method, "amount": price}
            if reference:
                args["receipt_ref"] = reference
            if claim.get("receipt_id"):
                args["receipt_id"] = claim["receipt_id"]
        if photo_by == ("therapist" if action == "request_payment" else "operator"):
            data = receipt_png(n, method)
            kept, _ = await store(self.commands.db, aid, data, "image/png", self.ids[actor])
            args["receipt_id"] = kept["id"]
        return args

    async def attendance_week(self, now: datetime, settings: ServerSettings) -> None:
        """Six days of shifts before today (some late, one across midnight),
        and therapist1 in right now."""
        zone = settings.zone
        today = now.astimezone(zone).date()
        last_out: dict[str, datetime] = {}
        for back in range(6, 0, -1):
            day = today - timedelta(days=back)
            for who, (start, end) in WEEK_SLOTS.items():
                plan = WEEK[who][back - 1]
                if plan is None:
                    continue
                await self.run("availability.bulk_create", None, {
                    "date": day.isoformat(),
                    "slots": [{"start_time": start, "end_time": end}]}, who)
                begins = datetime.combine(day, time.fromisoformat(start), zone)
                ends = datetime.combine(day, time.fromisoformat(end), zone)
                if ends <= begins:  # the slot runs past midnight
                    ends += timedelta(days=1)
                came, stayed = begins + timedelta(minutes=plan[0]), ends + timedelta(
                    minutes=plan[1])
                if stayed >= now:  # a night that isn't over yet: not demo history
                    continue
                sid = demo_id("shift", f"{who}:{day}")
                await self.run("attendance.clock_in", sid, {
                    "note": "Traffic on EDSA" if plan[0] > 20 else None}, who, came)
                await self.run("attendance.clock_out", sid, {}, who, stayed)
                last_out[who] = stayed
        came = now - timedelta(hours=2, minutes=50)
        if "therapist1" in last_out:
            came = max(came, last_out["therapist1"] + timedelta(minutes=1))
        await self.run("attendance.clock_in", demo_id("shift", "therapist1:now"),
                       {"note": "Started with the first booking"}, "therapist1", min(came, now))

    async def _get(self, aid: str) -> Record:
        async with self.commands.db.read() as conn:
            record = await repo.get(conn, "appointment", aid)
        assert record is not None
        return record


async def seed_demo(commands: CommandService, settings: ServerSettings,
                    hash_password: Callable[[str], str], *, bookings: bool = True) -> None:
    """The demo business, made with real commands; `bookings=False` (--seed
    staff) stops before the appointments: people (the first two drivers
    only), services, clients, availability and the stock list."""
    async with commands.db.read() as conn:
        if (await conn.execute(sa.select(sa.func.count()).select_from(users))).scalar():
            log.info("demo seed skipped: the database already has users")
            return
    now = commands.clock()
    today = now.astimezone(settings.zone).date()
    days = [today.isoformat(), (today + timedelta(days=1)).isoformat()]
    s = Seeder(commands, hash_password, DEMO_PEOPLE if bookings else PEOPLE)
    await s.people_and_services(now)

    for i, (first, last, phone, address) in enumerate(CLIENTS):
        await s.run("client.create", demo_id("client", str(i)), {
            "first_name": first, "last_name": last, "phone": phone, "address": address,
            "notes": "Prefers a female therapist" if i % 3 == 0 else None,
        }, "operator")
    for p in s.people:
        if p.role == "operator":
            continue
        for day in days:
            await s.run("availability.bulk_create", None, {
                "date": day, "slots": [{"start_time": "07:00", "end_time": "12:00"},
                                       {"start_time": "12:00", "end_time": "23:00"}],
            }, p.username)

    for key, name, unit, on_hand, level in MATERIALS:
        await s.run("material.create", demo_id("material", key), {
            "name": name, "unit": unit, "on_hand": on_hand, "reorder_level": level,
        }, "operator")
    for key, quantity, note in RESTOCKS:
        await s.run("material.restock", demo_id("material", key),
                    {"quantity": quantity, "note": note}, "operator")

    if not bookings:
        return
    t1, t2, t3 = "therapist1", "therapist2", "therapist3"
    d1, d2, d3, d4, d5 = (f"driver{i}" for i in range(1, 6))
    today_s, tomorrow = days

    # Today, a slot per therapist per two hours, the earlier the further along:
    # (status it ends in, steps along MAIN, therapist, driver out, hour). Each
    # driver's outbound trips are at different hours, and each driver has one
    # trip under way: d4, d5 and d1 drive out (seeded first, so they're busy)
    # and the two return trips go to the free ones, d3 and d2 (longest idle first).
    plan = [
        ("transport_completed", 13, t1, d1, 8), ("return_journey", 12, t2, d2, 8),
        ("driver_assigned_pickup", 11, t3, d3, 8), ("completed", 10, t1, d4, 10),
        ("payment_verified", 9, t2, d5, 10), ("awaiting_payment", 8, t3, d1, 10),
        ("session_in_progress", 7, t1, d2, 12), ("dropped_off", 6, t2, d3, 12),
        ("arrived", 5, t3, d4, 12), ("journey", 4, t1, d5, 14),
        ("in_progress", 3, t2, d1, 14), ("driver_confirmed", 2, t3, d2, 14),
        ("therapist_confirmed", 1, t1, d1, 16),
    ]
    outbound_first = sorted(range(len(plan)), key=lambda n: plan[n][0] not in OUTBOUND_BUSY)
    for n in outbound_first:
        _status, steps, therapist, driver, hour = plan[n]
        aid = await s.book(n, n % len(CLIENTS), [therapist], driver, today_s, hour)
        await s.advance(aid, therapist, driver, steps, n)

    # Still waiting for a driver: every driver is on a trip (above).
    n = len(plan)
    aid = await s.book(n, 0, [t2], d2, today_s, 19)
    await s.advance(aid, t2, d2, 10, n)
    await s.run("appointment.request_pickup", aid, {"urgency": "urgent"}, t2)

    # Tomorrow: waiting ones, a group booking, and the side paths.
    await s.book(n + 1, 1, [t1], d3, tomorrow, 9)  # pending: the usual response window
    # A pending group booking with a working day to answer, so the demo still
    # has a booking in every status hours after it started (the one above is
    # auto-cancelled by the job when its window ends: that's part of the demo).
    with response_window(commands, max(settings.response_minutes, GROUP_WINDOW_MINUTES)):
        group = await s.book(n + 2, 2, [t2, t3], d4, tomorrow, 10, 90)
    # One of its two has said yes: the cards say how far it got ("1 of 2 accepted").
    await s.run("appointment.accept", group, {}, t2)
    rejected = await s.book(n + 3, 3, [t3], d1, tomorrow, 13)
    await s.run("appointment.reject", rejected, {"reason": "I have a family emergency"}, t3)
    cancelled = await s.book(n + 4, 4, [t1], d5, tomorrow, 15)
    await s.run("appointment.cancel", cancelled, {"reason": "Client rescheduled"}, "operator")
    await s.book(n + 5, 5, [t2], None, tomorrow, 17, at=now - timedelta(hours=2))
    await s.run("appointments.auto_cancel_overdue", None, {}, "system")
    await s.attendance_week(now, settings)
    log.info("demo seed: %d commands", s.seq)
