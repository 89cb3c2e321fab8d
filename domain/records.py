"""Records are plain JSON-ready dicts: the same shape on the wire, in the
server's database and in the client's cache.

The entities and their fields (besides `id` and `version`):

appointment   status, client_id, service_ids[], therapist_ids[], accepted_ids[],
              driver_id, pickup_driver_id, date, start_time, end_time, location,
              notes, response_deadline, created_at, created_by,
              <stamp>_at / <stamp>_by for every transition (see lifecycle.STAMPS),
              rejection {by, role, reason, at, decision?}, payment {method,
              amount, receipt_ref, extension_amount, receipt_id?},
              payment_claim {method, receipt_id} (the therapist's, optional), materials [{name,
              quantity, material_id?}], pickup {urgency, notes}, cancel_reason, updated_at,
              updated_by (who made the last field edit)
availability  user_id, date, start_time, end_time, available
staff         username, role, name, phone, specialization, pressure_preference,
              license, plate, active, on_duty, last_available_at
client        first_name, last_name, phone, address, email, notes
service       name, minutes, price, currency, active
notification  user_id, kind, text, appointment_id, read, created_at
material      name, unit, on_hand, reorder_level, active
stock_move    material_id, delta, kind (use | restock | count), on_hand (after),
              appointment_id, by, at, note
shift         user_id, date (local, of the clock-in), clock_in_at, clock_out_at
              (None while open), late, late_minutes, expected_start, note, out_note
"""

from __future__ import annotations

from typing import Any, Literal, get_args

Record = dict[str, Any]
Entity = Literal[
    "appointment",
    "availability",
    "staff",
    "client",
    "service",
    "notification",
    "material",
    "stock_move",
    "shift",
]
ENTITIES: tuple[Entity, ...] = get_args(Entity)


def bumped(record: Record, **fields: Any) -> Record:
    """A copy of `record` with `fields` set and the version raised by one."""
    new = dict(record)
    new.update(fields)
    new["version"] = int(record.get("version", 0)) + 1
    return new


def staff_name(record: Record | None) -> str:
    if not record:
        return "Someone"
    return str(record.get("name") or record.get("username") or "Someone")


def client_name(record: Record | None) -> str:
    if not record:
        return "the client"
    first = str(record.get("first_name") or "").strip()
    last = str(record.get("last_name") or "").strip()
    return (first + " " + last).strip() or "the client"
