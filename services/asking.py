"""Questions to the server beside the command stream, answered in people's
words: receipt photos and the sales report (`ServerRefused` when there is no
answer), and the commands that hand out or take a password (`AccountAnswer`),
which go straight to the server, never through the outbox."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, TypeVar

from domain.records import Record
from services.api import ApiError, NetworkError

T = TypeVar("T")

OFFLINE = "Can't reach the server right now. Try again when you're back online."


class ServerRefused(Exception):
    """A friendly reason a question to the server (a receipt, a report) got
    no answer: the server's refusal (`code`: too_large, not_an_image,
    not_found, ...) or `offline`."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.message, self.code = message, code


async def asked(call: Awaitable[T]) -> T:
    """The server's answer, or ServerRefused in words for the person."""
    try:
        return await call
    except NetworkError as exc:
        raise ServerRefused(OFFLINE, "offline") from exc
    except ApiError as exc:
        raise ServerRefused(exc.message or "The server couldn't do that. Try again in a "
                            "moment.", exc.code) from exc


@dataclass(frozen=True)
class AccountAnswer:
    """The server's answer to staff.create, staff.reset_password or
    account.change_password (the same fields as a dispatch's result, plus
    the one-time password to hand over, shown once)."""

    ok: bool
    message: str = ""  # friendly reason when not ok
    code: str = ""
    record: Record | None = None
    one_time_password: str | None = None

    @classmethod
    def of(cls, status: int, body: Any) -> AccountAnswer:
        body = body if isinstance(body, dict) else {}
        if status == 200:
            return cls(ok=True, record=body.get("record"),
                       one_time_password=body.get("one_time_password"))
        return cls(ok=False, code=str(body.get("code") or ""),
                   message=str(body.get("message") or "That can't be done right now."))


# Offline, nothing is queued: a password must not wait on disk.
ACCOUNT_OFFLINE = AccountAnswer(ok=False, code="offline", message=(
    "Can't reach the server: passwords are only handed out and changed online. "
    "Try again when you're back online."))
