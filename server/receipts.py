"""Payment receipt photos (issue 16): their own routes, beside the commands.

POST /api/appointments/{id}/receipts takes the photo as the raw request body
(any content type: what counts is the bytes, domain.receipts.sniff), keeps it
in the `receipts` table under its SHA-256, and answers its id, which the
payment commands then name (`receipt_id`). GET lists an appointment's
receipts and serves one. Every route is authorized like the appointment:
who may see it (domain.policy) may attach and see its receipts; anyone else
is told it doesn't exist (404), as the rest of the API does. The bytes never
travel in records or event frames."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from domain import receipts as rc
from domain.commands import Actor
from domain.policy import can_see
from server import repo
from server.api import Me, Rt
from server.errors import JSON, WireError, rejected
from server.receipt_store import COLUMNS, about, store
from server.runtime import Runtime
from server.schema import receipts
from server.wire import errors

router = APIRouter(prefix="/api", tags=["receipts"], responses=errors(500))

UPLOAD_PATH = re.compile(r"/api/appointments/[^/]+/receipts")

AppointmentId = Annotated[str, Path(min_length=1, max_length=200)]
ReceiptId = Annotated[str, Path(min_length=1, max_length=200)]

_STATUS = {"too_large": 413, "not_an_image": 415}
_NOT_YOURS = "That appointment doesn't exist or isn't yours."


def refusal(exc: rc.ReceiptRefused) -> WireError:
    return WireError(_STATUS.get(exc.code, 422), exc.code, exc.message)


def too_large(limit: int) -> Callable[[int], JSON]:
    """BodyLimit's answer for a receipt over `limit` (server.errors.Upload)."""

    def answer(size: int) -> JSON:
        exc = rc.too_large(size, limit)
        return rejected(413, exc.code, exc.message)

    return answer


async def _visible(rt: Runtime, actor: Actor, appointment_id: str) -> None:
    async with rt.db.read() as conn:
        record = await repo.get(conn, "appointment", appointment_id)
    if record is None or not can_see(actor, "appointment", record):
        raise WireError(404, "not_found", _NOT_YOURS)


@router.post(
    "/appointments/{appointment_id}/receipts", status_code=201,
    responses={**errors(401, 404, 413, 415, 422),
               200: {"description": "The same photo was already attached: its id"}},
    summary="Attach a payment receipt photo (the raw image as the body)",
    description=(
        "The body is the photo itself (JPEG, PNG, WebP or HEIC, recognised by its bytes; "
        "at most TANDEM_RECEIPT_MAX_BYTES). Answers `{id, content_type, size, "
        "uploaded_by, uploaded_at}`; the id (the SHA-256 of the bytes, hex) is what "
        "`appointment.verify_payment` / `request_payment` take as `receipt_id`. The same "
        "photo again answers the same id (200). Refusals: 413 `too_large`, 415 "
        "`not_an_image`, 404 for an appointment you may not see."
    ),
)
async def upload(appointment_id: AppointmentId, request: Request, actor: Me,
                 rt: Rt) -> JSON:
    await _visible(rt, actor, appointment_id)
    data = await request.body()
    try:
        kind = rc.accepted(data, rt.settings.receipt_max_bytes)
    except rc.ReceiptRefused as exc:
        raise refusal(exc) from exc
    kept, fresh = await store(rt.db, appointment_id, data, kind, actor.id)
    return JSON(kept, status_code=201 if fresh else 200)


@router.get(
    "/appointments/{appointment_id}/receipts", responses=errors(401, 404, 422),
    summary="The receipt photos attached to an appointment (without their bytes)",
)
async def listing(appointment_id: AppointmentId, actor: Me, rt: Rt) -> JSON:
    await _visible(rt, actor, appointment_id)
    async with rt.db.read() as conn:
        rows = (await conn.execute(
            sa.select(*COLUMNS).where(receipts.c.appointment_id == appointment_id)
            .order_by(receipts.c.created_at, receipts.c.id))).all()
    return JSON({"receipts": [about(r) for r in rows]})


@router.get(
    "/appointments/{appointment_id}/receipts/{receipt_id}",
    responses={**errors(401, 404, 422),
               200: {"content": {"image/*": {}}, "description": "The photo"}},
    summary="One receipt photo",
    response_class=Response,
)
async def photo(appointment_id: AppointmentId, receipt_id: ReceiptId, actor: Me,
                rt: Rt) -> Response:
    await _visible(rt, actor, appointment_id)
    async with rt.db.read() as conn:
        row = (await conn.execute(
            sa.select(receipts.c.content_type, receipts.c.data).where(
                receipts.c.appointment_id == appointment_id, receipts.c.id == receipt_id))
        ).first()
    if row is None:
        raise WireError(404, "not_found", "That receipt isn't attached to this appointment.")
    # the same id is the same bytes: cacheable, but only by this signed-in browser
    return Response(bytes(row.data), media_type=row.content_type,
                    headers={"Cache-Control": "private, max-age=31536000, immutable"})
