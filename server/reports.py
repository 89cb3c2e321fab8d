"""Sales reports as CSV for the operators (issue 16): the numbers come from
domain.reports, the same functions the operator's Reports page runs on its
copy, so the file and the screen agree."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from domain import reports
from server import repo
from server.api import Me, Rt
from server.errors import WireError
from server.wire import errors

router = APIRouter(prefix="/api", tags=["reports"], responses=errors(500))

Day = Annotated[date | None, Query(description="YYYY-MM-DD, inclusive")]


@router.get(
    "/reports/sales.csv", response_class=Response,
    responses={**errors(401, 403, 422),
               200: {"content": {"text/csv": {}}, "description": "The report"}},
    summary="Sales by day, week, month, therapist or service, with the payment-method "
            "split, as CSV (operators)",
    description=(
        "`by`: day | week (from Monday) | month | therapist | service; `start`/`end` "
        "(YYYY-MM-DD, inclusive, either may be left out) bound the appointments' dates. "
        "A sale is a verified payment (amount plus extension) of an appointment not "
        "cancelled; a session shared by several therapists or services is split among "
        "them (domain/reports.py). Columns: key, label, sessions, total, then one per "
        "payment method, in pesos; the last line is the total."
    ),
)
async def sales_csv(actor: Me, rt: Rt, by: Annotated[reports.By, Query()] = "day",
                    start: Day = None, end: Day = None) -> Response:
    if actor.role != "operator":
        raise WireError(403, "forbidden", "Only operators can export sales reports.")
    first, last = (d.isoformat() if d else None for d in (start, end))
    async with rt.db.read() as conn:
        found = reports.sales(await repo.select(conn, "appointment"), first, last)
        staff = await repo.select(conn, "staff")
        services = await repo.select(conn, "service")
    rows = reports.report(by, found, staff, services)
    text = reports.to_csv(by, rows, reports.totals(found))
    name = f"sales-by-{by}" + (f"-{start}" if start else "") + (f"-to-{end}" if end else "")
    return Response(text.encode("utf-8-sig"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
