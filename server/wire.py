"""Request and response bodies, for validation and the OpenAPI docs at /docs."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.apply import COMMANDS


class Rejected(BaseModel):
    """Every refusal: a stable code for programs and a message for people."""

    status: Literal["rejected"] = "rejected"
    code: str = Field(examples=["invalid_transition"])
    message: str = Field(
        examples=["Can't start the session: the driver hasn't dropped you off yet."]
    )


class LoginIn(BaseModel):
    model_config = ConfigDict(strict=True)
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1000)


class UserOut(BaseModel):
    id: str
    username: str
    role: Literal["operator", "therapist", "driver"]
    name: str
    must_change_password: bool = Field(
        default=False, description="Signed in with a one-time password: change it "
        "(account.change_password) before anything else.")


class LoginOut(BaseModel):
    token: str
    user: UserOut


# A client's counter or a record's version: 0 … 2^62, written as an integer
# (strict: 7.0 is refused 422 although JSON Schema counts it an integer).
Counter = Annotated[int, Field(ge=0, le=2**62)]


class CommandIn(BaseModel):
    """One command of the client's outbox. (client_id, seq) makes it exactly-once."""

    model_config = ConfigDict(strict=True)
    client_id: str = Field(min_length=1, max_length=200)
    seq: Counter
    # Described as the set the server knows; checked by the server, so a name
    # it doesn't know stays 400 unknown_command (not a 422 of this model).
    name: str = Field(min_length=1, max_length=100, examples=["appointment.accept"],
                      description="One of the commands this server knows; another "
                                  "name is refused 400 unknown_command.",
                      json_schema_extra={"enum": list(sorted(COMMANDS))})
    target: str | None = Field(default=None, max_length=200)
    args: dict[str, Any] = Field(default_factory=dict)
    base_version: Counter | None = Field(
        default=None,
        description="The version of the target you last saw (at most 2^62); a command "
                    "on a record that changed since is refused 409 version_conflict.")


class ChangeOut(BaseModel):
    entity: str
    id: str
    op: Literal["upsert", "delete"]
    version: int
    data: dict[str, Any] | None


class Applied(BaseModel):
    status: Literal["applied"] = "applied"
    record: dict[str, Any] | None = Field(description="The record the command was about.")
    changes: list[ChangeOut] = Field(
        description="Every record the command changed that you may see."
    )
    cursor: int = Field(description="The event-log position that includes this command.")
    warnings: list[str] = Field(
        default_factory=list,
        description="What you should know although it went through (\"Massage oil is now at "
                    "-20 ml: restock it.\"); absent when none.")
    one_time_password: str | None = Field(
        default=None, description="staff.create and staff.reset_password: the password the "
        "operator hands over, in this answer only (never in events or the bootstrap); a "
        "retry's answer says one_time_password_shown instead: reset it again if it was lost.")
    password_changed: bool | None = Field(
        default=None, description="account.change_password: done; this session stays "
        "signed in, every other one of yours is signed out.")


BATCH_MAX = 200  # commands per POST /api/commands/batch


class CommandResult(BaseModel):
    """One command's answer in a batch: the HTTP status and the body that
    POST /api/commands would have answered for it alone."""

    status_code: int = Field(examples=[200, 409])
    body: Applied | Rejected


class BatchIn(BaseModel):
    """Commands of one client's outbox, in the order to run them."""

    commands: list[CommandIn] = Field(
        max_length=BATCH_MAX,
        description=f"At most {BATCH_MAX} (more: 413 too_many_commands), and the whole "
                    "body at most 256 KiB (more: 413 too_large).")


class BatchOut(BaseModel):
    results: list[CommandResult] = Field(
        description="One per command, in the order sent."
    )


class EventOut(BaseModel):
    seq: int
    entity: Literal["appointment", "availability", "staff", "client", "service", "notification",
                    "material", "stock_move", "shift"]
    id: str
    op: Literal["upsert", "delete"]
    version: int
    data: dict[str, Any] | None = Field(description="The record as you may see it; null on delete.")
    cause: str = Field(description="The command that caused it.")


class EventsOut(BaseModel):
    events: list[EventOut]
    cursor: int = Field(description="Ask for events after this next time.")


class BootstrapOut(BaseModel):
    cursor: int = Field(description="The event-log position this state corresponds to.")
    me: UserOut
    appointments: list[dict[str, Any]]
    availability: list[dict[str, Any]]
    staff: list[dict[str, Any]]
    clients: list[dict[str, Any]]
    services: list[dict[str, Any]]
    notifications: list[dict[str, Any]]
    materials: list[dict[str, Any]] = Field(default_factory=list)
    stock_moves: list[dict[str, Any]] = Field(
        default_factory=list, description="Stock history: operators only.")
    shifts: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Attendance: your own shifts (operators: everyone's).")


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    cursor: int


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: each status documented with the Rejected body."""
    words = {
        400: "Malformed request (bad JSON, unknown command)",
        401: "Sign in again: unauthorized (no token), invalid_token, token_expired, "
             "account_inactive (the account was deactivated), session_revoked (the "
             "password was reset); POST /api/auth/login: bad_credentials, "
             "account_inactive",
        403: "Your role or ownership doesn't allow it",
        404: "No such record (or not visible to you)",
        409: "The current state refuses it (invalid_transition, version_conflict, …)",
        410: "resync_required: the event log no longer reaches your cursor",
        413: "too_large: the body is over the server's limit (TANDEM_MAX_BODY, 256 KiB); "
             f"too_many_commands: a batch of more than {BATCH_MAX}",
        422: "Missing or mistyped fields (invalid_request / invalid_args)",
        429: "too_many_attempts: too many failed sign-ins for this username from your "
             "address, or from your address at all; wait Retry-After seconds",
        500: "server_error: an unexpected problem on the server (it is logged); retry",
        503: "Temporarily unavailable; retry",
    }
    return {c: {"model": Rejected, "description": words.get(c, "Rejected")} for c in codes}


class TimelineActor(BaseModel):
    id: str | None = Field(description="A staff id, \"system\" for the server's jobs, or "
                                       "null when the log doesn't say.")
    name: str = Field(examples=["Ana"])
    role: str | None = Field(examples=["therapist"])


class TimelineEntry(BaseModel):
    seq: int = Field(description="The event's position in the log.")
    at: str = Field(description="When it happened (ISO 8601 UTC).",
                    examples=["2026-11-21T06:02:00Z"])
    version: int = Field(description="The appointment's version after this step.")
    actor: TimelineActor
    command: str = Field(examples=["appointment.accept"])
    status_before: str | None = Field(description="null for the first step shown.")
    status_after: str | None
    summary: str = Field(description="Completes a sentence starting with the actor's name.",
                         examples=["accepted", "rejected it: I'm unwell"])


class TimelineOut(BaseModel):
    """GET /api/appointments/{id}/timeline (an extension of the wire protocol)."""

    entries: list[TimelineEntry] = Field(description="Oldest first.")
