"""Who took a step in an appointment's history, from the record alone.

Every transition stamps `<stamp>_by` (see `domain.lifecycle.STAMPS`), a
booking `created_by` and a field edit `updated_by`; an event carries the
command's name (`cause`) and the record after it. So the record of each
version names who acted, without the command path logging anything more.
"""

from __future__ import annotations

from domain.lifecycle import TABLE
from domain.records import Record

SYSTEM_ID = "system"  # the server's own jobs

# causes that aren't `appointment.<lifecycle action>`
_FIELDS: dict[str, str] = {
    "appointment.create": "created_by",
    "appointment.update": "updated_by",
    "appointments.auto_cancel_overdue": f"{TABLE['auto_cancel'].stamp}_by",
    "appointments.auto_assign_pickups": f"{TABLE['assign_pickup_driver'].stamp}_by",
}


def actor_field(cause: str) -> str | None:
    """The appointment field naming who made a step caused by `cause`."""
    if cause in _FIELDS:
        return _FIELDS[cause]
    kind, _, action = cause.partition(".")
    if kind == "appointment" and action in TABLE:
        return f"{TABLE[action].stamp}_by"
    return None


def actor_id(cause: str, appt: Record) -> str | None:
    """Who made the step that left `appt` as it is (a staff id, SYSTEM_ID, or
    None when the record doesn't say, e.g. an edit from before `updated_by`)."""
    field = actor_field(cause)
    who = appt.get(field) if field else None
    return who if isinstance(who, str) and who else None
