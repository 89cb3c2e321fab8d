"""Who may run which command, written down from docs/architecture.md (not from the server).

`PARTY[action]` is the set of roles-in-relation that may run an appointment
action on a record in the action's source status: "operator", "therapist_own"
(an assigned therapist), "therapist_other", "driver_own" (the outbound driver),
"driver_other", and for the return trip "pickup_own" (the pickup driver).
"""

from __future__ import annotations

from typing import Any

# Every command of the contract's table in docs/architecture.md (copied by hand;
# test_access_matrix checks the two agree).
CONTRACT_COMMANDS = frozenset({
    "appointment.create", "appointment.update", "appointment.accept", "appointment.confirm",
    "appointment.start", "appointment.start_journey", "appointment.arrive",
    "appointment.drop_off", "appointment.start_session", "appointment.request_payment",
    "appointment.confirm_pickup", "appointment.complete_return", "appointment.reject",
    "appointment.review_rejection", "appointment.verify_payment", "appointment.complete",
    "appointment.request_pickup", "appointment.assign_pickup_driver", "appointment.cancel",
    "appointments.auto_cancel_overdue", "availability.create", "availability.update",
    "availability.delete", "availability.bulk_create", "client.create", "client.update",
    "staff.set_duty", "notification.mark_read", "notification.mark_all_read",
    "service.create", "service.update", "material.create", "material.update",
    "material.restock",
    "staff.create", "staff.update", "staff.reset_password", "account.change_password",
    "attendance.clock_in", "attendance.clock_out",
})

ACTORS = ("operator", "therapist_own", "therapist_other", "driver_own", "driver_other")

# action -> who may run it (docs/architecture.md, "Every command, and who may run it").
PARTY: dict[str, frozenset[str]] = {
    "accept": frozenset({"therapist_own"}),
    "reject": frozenset({"therapist_own", "driver_own"}),
    "review_rejection": frozenset({"operator"}),
    "confirm": frozenset({"driver_own"}),
    "start": frozenset({"operator"}),
    "start_journey": frozenset({"driver_own"}),
    "arrive": frozenset({"driver_own"}),
    "drop_off": frozenset({"driver_own"}),
    "start_session": frozenset({"therapist_own"}),
    "request_payment": frozenset({"therapist_own"}),
    "verify_payment": frozenset({"operator"}),
    "complete": frozenset({"therapist_own"}),
    "request_pickup": frozenset({"therapist_own"}),
    "assign_pickup_driver": frozenset({"operator"}),
    # The return trip belongs to the pickup driver (here driver_other, so the
    # outbound driver counts as "someone else" for it).
    "confirm_pickup": frozenset({"driver_other"}),
    "complete_return": frozenset({"driver_other"}),
    "cancel": frozenset({"operator"}),
    "update": frozenset({"operator"}),
}

# The main path: (action, who runs it when walking a booking forward).
MAIN_PATH: tuple[tuple[str, str], ...] = (
    ("accept", "therapist_own"),
    ("confirm", "driver_own"),
    ("start", "operator"),
    ("start_journey", "driver_own"),
    ("arrive", "driver_own"),
    ("drop_off", "driver_own"),
    ("start_session", "therapist_own"),
    ("request_payment", "therapist_own"),
    ("verify_payment", "operator"),
    ("complete", "therapist_own"),
    ("request_pickup", "therapist_own"),
    ("assign_pickup_driver", "operator"),
    ("confirm_pickup", "driver_other"),
    ("complete_return", "driver_other"),
)


def prefix(action: str) -> list[tuple[str, str]]:
    """The steps that bring a new booking to where `action` is legal."""
    names = [a for a, _ in MAIN_PATH]
    if action in names:
        return list(MAIN_PATH[: names.index(action)])
    if action == "review_rejection":
        return [("reject", "therapist_own")]
    return []  # reject, cancel, update: from pending


def args_for(action: str, ids: dict[str, str]) -> dict[str, Any]:
    table: dict[str, dict[str, Any]] = {
        "reject": {"reason": "cannot make it"},
        "review_rejection": {"decision": "deny"},
        "verify_payment": {"method": "cash", "amount": 1500},
        "request_pickup": {"urgency": "normal"},
        "assign_pickup_driver": {"driver_id": ids["driver_other"]},
        "cancel": {"reason": "client called"},
        "update": {"notes": "ring twice"},
    }
    return table.get(action, {})
