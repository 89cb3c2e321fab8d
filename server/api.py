"""HTTP routes of the wire protocol (docs/architecture.md): login, commands, bootstrap, events."""

from __future__ import annotations

import asyncio
import email.message
import json
import re
from typing import Annotated, Any

import orjson
import sqlalchemy as sa
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import ValidationError
from starlette.responses import Response as StarletteResponse

from domain import attendance
from domain.commands import Actor, Command
from domain.errors import DomainError
from domain.policy import can_see
from domain.records import Entity, Record, staff_name
from server import accounts, lean_route, repo, timeline
from server.auth import AuthError, Session
from server.commands import Response
from server.errors import JSON, WireError, invalid_message
from server.events import view_for
from server.runtime import Runtime
from server.schema import records, users
from server.wire import (
    BATCH_MAX,
    Applied,
    BatchIn,
    BatchOut,
    BootstrapOut,
    CommandIn,
    EventsOut,
    Health,
    LoginIn,
    LoginOut,
    TimelineOut,
    errors,
)

# Any route may answer 500 server_error (server.errors), documented on each.
router = APIRouter(prefix="/api", responses=errors(500))
bearer = HTTPBearer(auto_error=False, description="The token from POST /api/auth/login")


async def runtime(request: Request) -> Runtime:
    # async (no I/O): a plain `def` dependency costs a thread-pool hop per request.
    rt: Runtime = request.app.state.runtime
    return rt


Rt = Annotated[Runtime, Depends(runtime)]


async def current_session(
    rt: Rt,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Session:
    # async for the same reason: checking a token takes microseconds (auth.Tokens),
    # and its account's standing a dict look-up (server.accounts).
    try:
        session = rt.tokens.session(creds.credentials if creds else None)
        await rt.accounts.check(session)
        return session
    except AuthError as exc:
        raise WireError(401, exc.code, exc.message, {"WWW-Authenticate": "Bearer"}) from exc


async def current_actor(
    rt: Rt,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Actor:
    return (await current_session(rt, creds)).actor


Me = Annotated[Actor, Depends(current_actor)]


@router.get("/health", response_model=Health, tags=["meta"],
            summary="Liveness (no sign-in needed)")
async def health(rt: Rt) -> dict[str, Any]:
    return {"status": "ok", "cursor": rt.hub.head}


@router.post("/auth/login", response_model=LoginOut, tags=["auth"],
             responses=errors(400, 401, 413, 422, 429))
async def login(body: LoginIn, request: Request, rt: Rt) -> dict[str, Any]:
    ip = request.client.host if request.client else "?"
    wait = rt.throttle.retry_after(body.username, ip)
    if wait:
        raise WireError(429, "too_many_attempts",
                        f"Too many failed sign-ins. Please wait {wait} seconds and try again.",
                        {"Retry-After": str(wait)})
    async with rt.db.read() as conn:
        row = (await conn.execute(
            sa.select(users).where(sa.func.lower(users.c.username) == body.username.lower())
        )).first()
        staff = await repo.get(conn, "staff", row.id) if row else None
    ok = await asyncio.to_thread(rt.passwords.verify, row.password_hash if row else None,
                                 body.password, body.username)
    if not ok or row is None:
        rt.throttle.failed(body.username, ip)
        raise WireError(401, "bad_credentials",
                        "That username and password don't match. Please try again.")
    rt.throttle.succeeded(body.username, ip)
    # Only someone who knows the password learns that the account is inactive.
    if staff is not None and not staff.get("active", True):
        refused = accounts.inactive()
        raise WireError(401, refused.code, refused.message)
    if rt.passwords.needs_rehash(row.password_hash):  # made with other cost settings
        new_hash = await asyncio.to_thread(rt.passwords.hash, body.password)
        await accounts.rehash(rt.db, row.id, row.password_hash, new_hash)
    return {
        "token": rt.tokens.issue(row.id, row.role, generation=row.token_generation),
        "user": _user(row, staff),
    }


def _user(row: Any, staff: Record | None) -> dict[str, Any]:
    """Who signed in (a `users` row and their staff record); a one-time
    password says so: the app asks for a new one before anything else."""
    return {"id": row.id, "username": row.username, "role": row.role,
            "name": staff_name(staff) if staff else row.username,
            "must_change_password": bool(row.must_change_password)}


# A number token of 19+ digits (a digit run after ':', ',' or '[' or at the
# start; inside a string this only costs the slower parser).
_LONG_NUMBER = re.compile(rb"(?:^|[:,\[])\s*-?[0-9]{19}")


def _json_body(raw: bytes) -> Any:
    """The request body as JSON: orjson, or the standard library for what
    orjson refuses but FastAPI's parser takes (NaN, lone surrogates, huge
    integers, other encodings), with FastAPI's two refusals."""
    if not _LONG_NUMBER.search(raw):  # orjson turns integers beyond 64 bits into floats
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise WireError(400, "malformed_json", "The request body is not valid JSON.") from exc
    except Exception as exc:  # e.g. RecursionError: nested too deep
        raise WireError(400, "malformed_json", "The request body could not be read.") from exc


_NO_BODY = object()


async def _body(request: Request) -> Any:
    """What FastAPI makes of a JSON body parameter's request body (strict
    content type): parsed JSON for application/json or +json, the raw bytes
    for any other content type (refused as not an object), `_NO_BODY` for none."""
    raw = await request.body()
    if not raw:
        return _NO_BODY
    content_type = request.headers.get("content-type")
    if content_type == "application/json":
        return _json_body(raw)
    if not content_type:
        return raw
    message = email.message.Message()
    message["content-type"] = content_type
    if message.get_content_maintype() == "application":
        subtype = message.get_content_subtype()
        if subtype == "json" or subtype.endswith("+json"):
            return _json_body(raw)
    return raw


async def _caller(request: Request) -> tuple[Runtime, Session]:
    """The `Rt` and `Me` dependencies, called directly (the session: a
    password change keeps the session that asked, server.credentials)."""
    rt = await runtime(request)
    return rt, await current_session(rt, await bearer(request))


def _invalid(exc: ValidationError) -> Response:
    """What FastAPI's validation of a CommandIn body answers (server/errors.py)."""
    return 422, {"status": "rejected", "code": "invalid_request",
                 "message": invalid_message(exc.errors())}


_UNSTORABLE: Response = (422, {"status": "rejected", "code": "invalid_request",
                               "message": "args: contains characters that can't be stored."})


PASSWORD_FIRST: Response = (403, {
    "status": "rejected", "code": "password_change_required",
    "message": "You signed in with a one-time password: please choose your own first."})


async def _password_first(rt: Runtime, actor: Actor, command: Command) -> Response | None:
    """Someone who signed in with a one-time password changes it before any
    other command (server.credentials)."""
    if command.name == "account.change_password" or not await rt.accounts.must_change(actor.id):
        return None
    return PASSWORD_FIRST


def _command_of(item: Any) -> Command | Response:
    """A body (or a batch item) as a Command, or how POST /api/commands refuses it."""
    if item is _NO_BODY:
        return 422, {"status": "rejected", "code": "invalid_request",
                     "message": "body: Field required."}
    try:
        body = CommandIn.model_validate(item, from_attributes=True)  # as FastAPI does
    except ValidationError as exc:
        return _invalid(exc)
    try:
        orjson.dumps(body.args)
    except orjson.JSONEncodeError:
        return _UNSTORABLE
    return Command(name=body.name, target=body.target, args=body.args,
                   base_version=body.base_version, client_id=body.client_id, seq=body.seq)


# The command routes are the hot path: their handlers read and check the body
# and the token themselves instead of FastAPI's body parameter and
# dependencies (solving those was ~15 % of the server's CPU per command), with
# the same answers in the same order: unreadable JSON 400, then the token 401,
# then the fields 422 (tests/server/test_batch_single_route.py). The OpenAPI
# entry comes from a signature that never runs (server/lean_route.py).
async def _post_command(request: Request) -> JSON:
    body = await _body(request)
    rt, session = await _caller(request)
    command = _command_of(body)
    if not isinstance(command, Command):
        return JSON(command[1], status_code=command[0])
    first = await _password_first(rt, session.actor, command)
    if first is not None:
        return JSON(first[1], status_code=first[0])
    status, answer = await rt.commands.execute(session.actor, command, session_key=session.key)
    return JSON(answer, status_code=status)


async def post_command(body: CommandIn, actor: Me, rt: Rt) -> JSON:
    raise NotImplementedError  # the OpenAPI signature; served by _post_command


lean_route.add(
    router, "/commands", post_command, _post_command, methods=["POST"],
    response_model=Applied, tags=["commands"],
    responses=errors(400, 401, 403, 404, 409, 413, 422, 503),
    summary="Run one command (exactly once per client_id + seq)")


async def _post_commands_batch(request: Request) -> JSON:
    data = await _body(request)
    rt, session = await _caller(request)
    if data is _NO_BODY:
        raise WireError(422, "invalid_request", "body: Field required.")
    if not isinstance(data, dict):
        raise WireError(422, "invalid_request",
                        "body: Input should be a valid dictionary or object to extract "
                        "fields from.")
    items = data.get("commands")
    if not isinstance(items, list):
        raise WireError(422, "invalid_request",
                        "commands: Field required." if items is None
                        else "commands: Input should be a valid list.")
    if len(items) > BATCH_MAX:
        raise WireError(413, "too_many_commands",
                        f"At most {BATCH_MAX} commands per batch; send the rest in another.")
    results: list[dict[str, Any] | None] = [None] * len(items)
    commands: list[Command] = []
    positions: list[int] = []
    for i, item in enumerate(items):
        got = _command_of(item)
        if isinstance(got, Command):
            got = await _password_first(rt, session.actor, got) or got
        if isinstance(got, Command):
            commands.append(got)
            positions.append(i)
        else:
            results[i] = {"status_code": got[0], "body": got[1]}
    answers = await rt.commands.execute_many(session.actor, commands, session_key=session.key)
    for i, (status, answer) in zip(positions, answers, strict=True):
        results[i] = {"status_code": status, "body": answer}
    return JSON({"results": results})


async def post_commands_batch(body: BatchIn, actor: Me, rt: Rt) -> JSON:
    raise NotImplementedError  # the OpenAPI signature; served by _post_commands_batch


lean_route.add(
    router, "/commands/batch", post_commands_batch, _post_commands_batch, methods=["POST"],
    response_model=BatchOut,
    tags=["commands"], responses=errors(400, 401, 413, 422),
    summary="Run several commands in order (each exactly once per client_id + seq)",
    description=(
        f"`{{\"commands\": [command, ...]}}` (at most {BATCH_MAX}; more is 413 "
        "`too_many_commands`) → `{\"results\": [{status_code, body}, ...]}`, one per "
        "command in the same order: the status and body POST /api/commands would have "
        "answered for that command alone. The commands run one after another, each "
        "seeing the ones before it; a rejected one doesn't stop the rest. A malformed "
        "command is answered 422 in its place; a server without this route answers 404 "
        "(send them one by one)."
    ),
)


_LISTS: tuple[tuple[str, Entity], ...] = (
    ("appointments", "appointment"), ("availability", "availability"), ("staff", "staff"),
    ("clients", "client"), ("services", "service"), ("notifications", "notification"),
    ("materials", "material"), ("stock_moves", "stock_move"), ("shifts", "shift"),
)


@router.get("/sync/bootstrap", response_model=BootstrapOut, tags=["sync"],
            responses=errors(401))
async def bootstrap(actor: Me, rt: Rt) -> JSON:
    """Everything you may see, and the event-log cursor it corresponds to."""
    out: dict[str, Any] = {}
    async with rt.db.read() as conn:
        row = (await conn.execute(sa.select(users).where(users.c.id == actor.id))).first()
        if rt.db.is_sqlite:
            # One process owns the database: the in-memory state is exactly the
            # database at state.seq; read both without an await in between.
            out["cursor"] = rt.state.seq
            visible = rt.state.visible(actor)
            for key, entity in _LISTS:
                out[key] = [view_for(actor, entity, r) for r in visible[entity]]
        else:  # replicas: one read snapshot gives state and cursor together
            out["cursor"], _ = await repo.head(conn)
            for key, entity in _LISTS:
                rows = [] if entity == "client" and actor.role != "operator" \
                    else await repo.select(conn, entity)
                out[key] = [view_for(actor, entity, r) for r in rows
                            if can_see(actor, entity, r)]
    if row is None:
        raise WireError(401, "invalid_token", "Your account no longer exists.")
    me_staff = next((s for s in out["staff"] if s.get("id") == actor.id), None)
    out["me"] = _user(row, me_staff)
    return JSON(out)


@router.get("/events", response_model=EventsOut, tags=["sync"], responses=errors(401, 410, 422))
async def get_events(
    actor: Me,
    rt: Rt,
    after: Annotated[int, Query(ge=0, le=2**62, description="Your cursor")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> JSON:
    """Your events after `after`, in order, at most `limit`. 410
    resync_required when the log no longer reaches back that far (trimmed) or
    `after` is beyond its head (a cursor from another database): bootstrap
    again."""
    async with rt.db.read() as conn:
        head, trimmed = await repo.head(conn)
        if after < trimmed or after > head:
            raise WireError(410, "resync_required",
                            "Your copy is too old to catch up. Please reload everything.")
        batch = await repo.events_after(conn, after, limit, actor)
    cursor = batch[-1].seq if len(batch) == limit else head
    return JSON({"events": [e.seen_by(actor).wire() for e in batch], "cursor": cursor})


@router.get(
    "/appointments/{appointment_id}/timeline", response_model=TimelineOut, tags=["history"],
    responses=errors(401, 404, 422),
    summary="One appointment's history: who did what, when (an extension)",
)
async def get_timeline(
    appointment_id: Annotated[str, Path(min_length=1, max_length=200)], actor: Me, rt: Rt,
) -> JSON:
    """Every step of the appointment still in the event log, oldest first, as
    far as you may see it: the events you would have received (the same
    audience rule as GET /api/events), of an appointment you may see now."""
    async with rt.db.read() as conn:  # one snapshot: the record and its events agree
        record = await repo.get(conn, "appointment", appointment_id)
        if record is None or not can_see(actor, "appointment", record):
            raise WireError(404, "not_found", "That appointment doesn't exist or isn't yours.")
        steps = [e.seen_by(actor)
                 for e in await repo.record_events(conn, "appointment", appointment_id, actor)]
        people = {s["id"]: s for s in await repo.select(conn, "staff")}
    return JSON({"entries": timeline.entries(steps, people)})


@router.get(
    "/attendance.csv", tags=["attendance"], responses=errors(401, 403, 422),
    response_class=StarletteResponse,
    summary="Attendance of a date range as CSV (operators; an extension)",
)
async def get_attendance_csv(
    actor: Me,
    rt: Rt,
    first: Annotated[str, Query(alias="from", description="First date, YYYY-MM-DD")],
    last: Annotated[str, Query(alias="to", description="Last date, YYYY-MM-DD (inclusive)")],
) -> StarletteResponse:
    """One line per shift clocked in on the business's dates `from`..`to`:
    date, name, role, clock_in, clock_out (local times; empty while open),
    hours (an open shift until now), late, late_minutes, expected_start, note,
    out_note (domain.attendance.CSV_HEADER)."""
    if actor.role != "operator":
        raise WireError(403, "forbidden", "Only the operator can export attendance.")
    try:
        first, last = attendance.export_range(first, last)
    except DomainError as exc:
        raise WireError(exc.status, exc.code, exc.message) from exc
    async with rt.db.read() as conn:  # one snapshot: the shifts and the names agree
        shifts = await repo.select(conn, "shift", records.c.date >= first,
                                   records.c.date <= last)
        people = {s["id"]: s for s in await repo.select(conn, "staff")}
    rows = attendance.export_rows(shifts, people, rt.settings.zone, rt.commands.clock(),
                                  first, last)
    return StarletteResponse(
        attendance.export_csv(rows), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition":
                 f'attachment; filename="attendance-{first}-to-{last}.csv"'})
