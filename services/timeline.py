"""One appointment's history from the server, as the operator's timeline
shows it (GET /api/appointments/{id}/timeline, see server/README.md)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.api import Api, ApiError, NetworkError


@dataclass(frozen=True)
class TimelineEntry:
    """One step of an appointment's history, as the server tells it."""

    seq: int
    at: str  # ISO 8601 UTC instant
    actor_id: str | None
    actor_name: str  # "Ana Reyes", "Tandem" (the server's jobs) or "Someone"
    actor_role: str | None
    command: str
    status_before: str | None
    status_after: str | None
    summary: str  # completes a sentence that starts with actor_name

    @classmethod
    def of(cls, raw: Mapping[str, Any]) -> TimelineEntry:
        actor = raw.get("actor") or {}
        return cls(
            seq=int(raw.get("seq") or 0),
            at=str(raw.get("at") or ""),
            actor_id=actor.get("id"),
            actor_name=str(actor.get("name") or "Someone"),
            actor_role=actor.get("role"),
            command=str(raw.get("command") or ""),
            status_before=raw.get("status_before"),
            status_after=raw.get("status_after"),
            summary=str(raw.get("summary") or ""),
        )


class TimelineUnavailable(Exception):
    """A friendly reason an appointment's history can't be shown now."""


async def timeline(api: Api, appointment_id: str) -> list[TimelineEntry]:
    """Oldest first; TimelineUnavailable says why not in the operator's words."""
    try:
        raw = await api.timeline(appointment_id)
    except NetworkError as exc:
        raise TimelineUnavailable(
            "Can't reach the server, so the history can't be loaded right now. "
            "Try again when you're back online."
        ) from exc
    except ApiError as exc:
        if exc.status == 404:
            raise TimelineUnavailable(
                "The server has no history for this appointment yet — if it was just "
                "booked, it appears once the booking is saved."
            ) from exc
        raise TimelineUnavailable(
            exc.message or "The history couldn't be loaded. Try again in a moment."
        ) from exc
    return [TimelineEntry.of(e) for e in raw]
