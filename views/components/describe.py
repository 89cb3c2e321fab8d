"""A change in people's words: "Accept — Carlo Bautista, tomorrow 09:00".

What the change is comes from the words table (`domain.words.title`); what it
is about, from the record it targets as the client holds it now (gone, e.g. a
refused create that was rolled back: the title alone)."""

from __future__ import annotations

from domain.records import Record, client_name, staff_name
from domain.words import title
from views.components.card import when_text
from views.port import ClientPort, QueuedCommand


def subject(client: ClientPort, entity: str, target: str | None) -> str | None:
    """'Carlo Bautista, Tomorrow · 09:00–10:00', 'slot 09:00–12:00, Today', …"""
    if target is None:
        return None
    record: Record | None = client.view().get(entity, target)  # type: ignore[arg-type]
    if record is None:
        return None
    if entity == "appointment":
        return f"{record.get('client_name') or 'a client'}, {when_text(record)}"
    if entity == "availability":
        day = when_text({"date": record.get("date")}).split(" · ")[0]
        return f"slot {record.get('start_time')}–{record.get('end_time')}, {day}"
    if entity == "client":
        return client_name(record)
    if entity == "staff":
        return staff_name(record)
    if entity in ("service", "material"):
        return str(record.get("name") or "") or None
    return None


def describe(client: ClientPort, command: QueuedCommand) -> str:
    entity = command.name.split(".", 1)[0]
    about = subject(client, entity, command.target)
    return title(command.name) + (f" — {about}" if about else "")
