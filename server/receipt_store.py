"""Keeping receipt photos: the `receipts` table's writes and rows, for the
upload route (server.receipts) and the demo seed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from domain import receipts as rc
from domain.times import iso
from server.database import Database
from server.schema import receipts

COLUMNS = (receipts.c.id, receipts.c.content_type, receipts.c.size,
           receipts.c.uploaded_by, receipts.c.created_at)


def about(row: Any) -> dict[str, Any]:
    return {"id": row.id, "content_type": row.content_type, "size": row.size,
            "uploaded_by": row.uploaded_by, "uploaded_at": row.created_at}


async def store(db: Database, appointment_id: str, data: bytes, kind: str,
                by: str) -> tuple[dict[str, Any], bool]:
    """Keep `data` as a receipt of the appointment (once: the same bytes are
    the same receipt); what it is, and whether it is new."""
    rid = rc.receipt_id(data)
    where = (receipts.c.appointment_id == appointment_id, receipts.c.id == rid)
    async with db.write() as tx:
        row = (await tx.conn.execute(sa.select(*COLUMNS).where(*where))).first()
        fresh = row is None
        if fresh:
            await tx.conn.execute(receipts.insert().values(
                appointment_id=appointment_id, id=rid, content_type=kind, size=len(data),
                data=data, uploaded_by=by, created_at=iso(datetime.now(UTC))))
            row = (await tx.conn.execute(sa.select(*COLUMNS).where(*where))).one()
    return about(row), fresh
