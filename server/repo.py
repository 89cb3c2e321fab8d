"""Reading and writing records, events and the command log (SQL lives here).

Every function takes an open connection, so the caller decides the
transaction (see server.database).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.commands import Actor, Change
from domain.records import Entity, Record
from server.events import Event
from server.schema import command_log, events, log_head, records

T = TypeVar("T")

# --- records -------------------------------------------------------------------------


def _columns(entity: str, record: Record) -> dict[str, Any]:
    """The indexed columns of a record: its date, status and owning person."""
    owner = record.get("user_id") if entity in ("availability", "notification", "shift") else None
    return {
        "version": int(record.get("version", 1)),
        "data": orjson.dumps(record).decode(),
        # shift: the attendance export reads a date range
        "date": record.get("date") if entity in ("appointment", "availability", "shift") else None,
        "status": record.get("status") if entity == "appointment" else None,
        "owner": owner,
    }


def _load(row: Any) -> Record:
    data: Record = orjson.loads(row.data)
    return data


async def get(conn: AsyncConnection, entity: Entity, id: str) -> Record | None:
    row = (await conn.execute(
        sa.select(records.c.data).where(records.c.entity == entity, records.c.id == id)
    )).first()
    return _load(row) if row else None


async def select(conn: AsyncConnection, entity: Entity, *where: Any) -> list[Record]:
    rows = await conn.execute(sa.select(records.c.data).where(records.c.entity == entity, *where))
    return [_load(r) for r in rows]


async def many(conn: AsyncConnection, entity: Entity, ids: Iterable[str]) -> list[Record]:
    wanted = sorted({i for i in ids if isinstance(i, str)})
    if not wanted:
        return []
    return await select(conn, entity, records.c.id.in_(wanted))


async def put(conn: AsyncConnection, entity: Entity, record: Record, *, new: bool) -> None:
    cols = _columns(entity, record)
    if not new:
        result = await conn.execute(
            records.update()
            .where(records.c.entity == entity, records.c.id == record["id"])
            .values(**cols)
        )
        if result.rowcount:
            return
    await conn.execute(records.insert().values(entity=entity, id=record["id"], **cols))


async def write_changes(conn: AsyncConnection, changes: Sequence[Change]) -> None:
    for c in changes:
        if c.op == "delete" or c.record is None:
            await conn.execute(
                records.delete().where(records.c.entity == c.entity, records.c.id == c.id)
            )
        else:
            await put(conn, c.entity, c.record, new=c.previous is None)


Writes = Sequence[tuple[str, Entity, str, Record | None]]
Rows = list[dict[str, Any]]


def _record_rows(writes: Writes) -> tuple[Rows, Rows, Rows]:
    """(inserts, updates, deletes) parameter rows for collapsed writes."""
    inserts = [{"entity": e, "id": i, **_columns(e, r)} for op, e, i, r in writes
               if op == "insert" and r is not None]
    updates = [{"k_entity": e, "k_id": i, **_columns(e, r)} for op, e, i, r in writes
               if op == "update" and r is not None]
    deletes = [{"k_entity": e, "k_id": i} for op, e, i, _ in writes if op == "delete"]
    return inserts, updates, deletes


async def write_final(conn: AsyncConnection,
                      writes: Sequence[tuple[str, Entity, str, Record | None]]) -> None:
    """Apply collapsed writes (insert | update | delete) with one statement per kind."""
    inserts, updates, deletes = _record_rows(writes)
    if inserts:
        await conn.execute(records.insert(), inserts)
    if updates:
        await conn.execute(
            records.update().where(records.c.entity == sa.bindparam("k_entity"),
                                   records.c.id == sa.bindparam("k_id")),
            updates,
        )
    if deletes:
        await conn.execute(
            records.delete().where(records.c.entity == sa.bindparam("k_entity"),
                                   records.c.id == sa.bindparam("k_id")),
            deletes,
        )


# --- the event log -------------------------------------------------------------------


async def head(conn: AsyncConnection) -> tuple[int, int]:
    """(last committed seq, trimmed through seq)."""
    row = (await conn.execute(
        sa.select(log_head.c.seq, log_head.c.trimmed_through).where(log_head.c.id == 1)
    )).one()
    return int(row.seq), int(row.trimmed_through)


async def append_events(conn: AsyncConnection, batch: Sequence[Event]) -> None:
    """Insert numbered events and move the head (only under `Database.write`)."""
    if not batch:
        return
    await conn.execute(events.insert(), [_event_row(e) for e in batch])
    await conn.execute(log_head.update().where(log_head.c.id == 1).values(seq=batch[-1].seq))


def _event_row(e: Event) -> dict[str, Any]:
    return {
        "seq": e.seq,
        "entity": e.entity,
        "id": e.id,
        "op": e.op,
        "version": e.version,
        "data": None if e.data is None else orjson.dumps(e.data).decode(),
        "cause": e.cause,
        "audience_users": orjson.dumps(sorted(e.users)).decode(),
        "to_operators": e.to_operators,
        "to_everyone": e.to_everyone,
        "created_at": e.created_at,
    }


def _event(row: Any) -> Event:
    return Event(
        seq=int(row.seq),
        entity=row.entity,
        id=row.id,
        op=row.op,
        version=int(row.version),
        data=None if row.data is None else orjson.loads(row.data),
        cause=row.cause,
        users=frozenset(orjson.loads(row.audience_users)),
        to_operators=bool(row.to_operators),
        to_everyone=bool(row.to_everyone),
        created_at=row.created_at,
    )


def _audience_filter(actor: Actor) -> Any:
    """SQL for 'this event's audience includes actor' (portable LIKE on the JSON list)."""
    if actor.role in ("operator", "system"):
        return sa.or_(events.c.to_operators, events.c.to_everyone,
                      _names(actor.id))
    return sa.or_(events.c.to_everyone, _names(actor.id))


def _names(user_id: str) -> Any:
    needle = orjson.dumps(user_id).decode()  # '"id"' exactly as stored in the list
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return events.c.audience_users.like(f"%{escaped}%", escape="\\")


async def events_after(conn: AsyncConnection, after: int, limit: int,
                       actor: Actor | None = None) -> list[Event]:
    """Events after `after` in seq order (only the actor's, when given)."""
    query = sa.select(events).where(events.c.seq > after)
    if actor is not None:
        query = query.where(_audience_filter(actor))
    rows = await conn.execute(query.order_by(events.c.seq).limit(limit))
    return [_event(r) for r in rows]


async def record_events(conn: AsyncConnection, entity: Entity, id: str,
                        actor: Actor) -> list[Event]:
    """One record's events still in the log that `actor` may see, in seq order
    (indexed by ix_events_entity_id; a record has tens of events, not thousands)."""
    rows = await conn.execute(
        sa.select(events)
        .where(events.c.entity == entity, events.c.id == id, _audience_filter(actor))
        .order_by(events.c.seq)
    )
    return [_event(r) for r in rows]


async def trim_events(conn: AsyncConnection, before: str) -> int:
    """Delete events created before `before` (ISO instant); return the new trim point."""
    last = (await conn.execute(
        sa.select(sa.func.max(events.c.seq)).where(events.c.created_at < before)
    )).scalar()
    if not last:
        return 0
    await conn.execute(events.delete().where(events.c.seq <= last))
    await conn.execute(log_head.update().where(log_head.c.id == 1).values(trimmed_through=last))
    return int(last)


# --- the command log -----------------------------------------------------------------


async def logged_responses(
    conn: AsyncConnection, keys: Sequence[tuple[str, int]]
) -> dict[tuple[str, int], tuple[str, int, dict[str, Any]]]:
    """Stored answers for these (client_id, seq): (user_id, status, body)."""
    if not keys:
        return {}
    wanted = set(keys)
    rows = await conn.execute(
        sa.select(command_log.c.client_id, command_log.c.seq, command_log.c.user_id,
                  command_log.c.status_code, command_log.c.response)
        .where(command_log.c.client_id.in_(sorted({k[0] for k in keys})))
        .where(command_log.c.seq.in_(sorted({k[1] for k in keys})))
    )
    return {
        (r.client_id, int(r.seq)): (r.user_id, int(r.status_code), orjson.loads(r.response))
        for r in rows if (r.client_id, int(r.seq)) in wanted
    }


async def log_responses(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    await conn.execute(command_log.insert(), [_log_row(r) for r in rows])


def _log_row(r: dict[str, Any]) -> dict[str, Any]:
    return {**r, "response": orjson.dumps(r["response"]).decode()}


# --- SQLite: a batch's reads, and its writes, in one trip each -----------------------
#
# Through SQLAlchemy's aiosqlite adapter every statement costs ~4 hand-offs to
# the driver's thread (cursor, execute, fetch, close), each waiting for the
# event loop to come round again: on a busy machine that latency, not CPU,
# bounded the write rate. These run the same statements (compiled once from
# the tables above) on the driver's thread in one hand-off, inside the
# caller's transaction (`Database.write` still owns BEGIN IMMEDIATE/COMMIT).

_SQLITE = sqlite_dialect(paramstyle="named")


def _sql(stmt: Any) -> str:
    return str(stmt.compile(dialect=_SQLITE))


_HEAD_SQL = _sql(sa.select(log_head.c.seq, log_head.c.trimmed_through)
                 .where(log_head.c.id == sa.bindparam("head_id")))
_LOGGED_SQL = _sql(sa.select(command_log.c.user_id, command_log.c.status_code,
                             command_log.c.response)
                   .where(command_log.c.client_id == sa.bindparam("client_id"),
                          command_log.c.seq == sa.bindparam("seq")))
_RECORD_COLS = ("version", "data", "date", "status", "owner")
_INSERT_RECORD_SQL = _sql(records.insert().values(
    {c: sa.bindparam(c) for c in ("entity", "id", *_RECORD_COLS)}))
_UPDATE_RECORD_SQL = _sql(records.update().where(
    records.c.entity == sa.bindparam("k_entity"), records.c.id == sa.bindparam("k_id"),
).values({c: sa.bindparam(c) for c in _RECORD_COLS}))
_DELETE_RECORD_SQL = _sql(records.delete().where(
    records.c.entity == sa.bindparam("k_entity"), records.c.id == sa.bindparam("k_id")))
_INSERT_EVENT_SQL = _sql(events.insert().values({c.name: sa.bindparam(c.name)
                                                 for c in events.columns}))
_MOVE_HEAD_SQL = _sql(log_head.update().where(log_head.c.id == sa.bindparam("head_id"))
                      .values(seq=sa.bindparam("new_seq")))
_INSERT_LOG_SQL = _sql(command_log.insert().values({c.name: sa.bindparam(c.name)
                                                    for c in command_log.columns}))

Prior = dict[tuple[str, int], tuple[str, int, dict[str, Any]]]


async def _on_driver_thread(conn: AsyncConnection, fn: Callable[..., T], *args: Any) -> T:
    """fn(sqlite3_connection, *args) on aiosqlite's thread, in conn's transaction."""
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection  # aiosqlite.Connection
    assert driver is not None
    # `_execute` is how aiosqlite runs everything on its thread (private, but
    # the only way to run several statements per hand-off).
    result: T = await driver._execute(fn, driver._conn, *args)
    return result


def _sqlite_prepare(db: sqlite3.Connection, keys: Sequence[tuple[str, int]]
                    ) -> tuple[int, int, Prior]:
    seq, trimmed = db.execute(_HEAD_SQL, {"head_id": 1}).fetchone()
    prior: Prior = {}
    for client_id, seq_no in set(keys):
        row = db.execute(_LOGGED_SQL, {"client_id": client_id, "seq": seq_no}).fetchone()
        if row is not None:
            prior[(client_id, seq_no)] = (row[0], int(row[1]), orjson.loads(row[2]))
    return int(seq), int(trimmed), prior


async def sqlite_prepare(conn: AsyncConnection, keys: Sequence[tuple[str, int]]
                         ) -> tuple[int, int, Prior]:
    """(head seq, trimmed through, stored answers for these keys): `head` and
    `logged_responses` in one hand-off."""
    return await _on_driver_thread(conn, _sqlite_prepare, list(keys))


def _sqlite_write(db: sqlite3.Connection, inserts: Rows, updates: Rows, deletes: Rows,
                  event_rows: Rows, log_rows: Rows) -> None:
    if inserts:
        db.executemany(_INSERT_RECORD_SQL, inserts)
    if updates:
        db.executemany(_UPDATE_RECORD_SQL, updates)
    if deletes:
        db.executemany(_DELETE_RECORD_SQL, deletes)
    if event_rows:
        db.executemany(_INSERT_EVENT_SQL, event_rows)
        db.execute(_MOVE_HEAD_SQL, {"head_id": 1, "new_seq": event_rows[-1]["seq"]})
    if log_rows:
        db.executemany(_INSERT_LOG_SQL, log_rows)


async def sqlite_write(conn: AsyncConnection, writes: Writes, batch: Sequence[Event],
                       logged: Sequence[dict[str, Any]]) -> None:
    """`write_final` + `append_events` + `log_responses` in one hand-off."""
    inserts, updates, deletes = _record_rows(writes)
    await _on_driver_thread(conn, _sqlite_write, inserts, updates, deletes,
                            [_event_row(e) for e in batch], [_log_row(r) for r in logged])
