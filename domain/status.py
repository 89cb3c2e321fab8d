"""Appointment statuses and the words each role sees for them."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

Role = Literal["operator", "therapist", "driver", "system"]
ROLES: tuple[Role, ...] = ("operator", "therapist", "driver")


class Status(StrEnum):
    PENDING = "pending"
    THERAPIST_CONFIRMED = "therapist_confirmed"
    DRIVER_CONFIRMED = "driver_confirmed"
    IN_PROGRESS = "in_progress"
    JOURNEY = "journey"
    ARRIVED = "arrived"
    DROPPED_OFF = "dropped_off"
    SESSION_IN_PROGRESS = "session_in_progress"
    AWAITING_PAYMENT = "awaiting_payment"
    PAYMENT_VERIFIED = "payment_verified"
    COMPLETED = "completed"
    PICKUP_REQUESTED = "pickup_requested"
    DRIVER_ASSIGNED_PICKUP = "driver_assigned_pickup"
    RETURN_JOURNEY = "return_journey"
    TRANSPORT_COMPLETED = "transport_completed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    AUTO_CANCELLED = "auto_cancelled"


# The main path, in order: used to say "not yet" versus "already".
MAIN_PATH: tuple[Status, ...] = (
    Status.PENDING,
    Status.THERAPIST_CONFIRMED,
    Status.DRIVER_CONFIRMED,
    Status.IN_PROGRESS,
    Status.JOURNEY,
    Status.ARRIVED,
    Status.DROPPED_OFF,
    Status.SESSION_IN_PROGRESS,
    Status.AWAITING_PAYMENT,
    Status.PAYMENT_VERIFIED,
    Status.COMPLETED,
    Status.PICKUP_REQUESTED,
    Status.DRIVER_ASSIGNED_PICKUP,
    Status.RETURN_JOURNEY,
    Status.TRANSPORT_COMPLETED,
)

TERMINAL: frozenset[Status] = frozenset(
    {Status.TRANSPORT_COMPLETED, Status.CANCELLED, Status.AUTO_CANCELLED}
)

# A driver is busy while carrying a therapist out or back.
OUTBOUND_BUSY = frozenset({Status.IN_PROGRESS, Status.JOURNEY, Status.ARRIVED})
RETURN_BUSY = frozenset({Status.DRIVER_ASSIGNED_PICKUP, Status.RETURN_JOURNEY})
DRIVER_BUSY = OUTBOUND_BUSY | RETURN_BUSY
# Ties up a driver or waits for one: the pickup commands read every appointment
# in one of these, whatever its date.
DRIVING = DRIVER_BUSY | {Status.PICKUP_REQUESTED}

# Short labels, for sentences like "it's already <label>".
LABEL: dict[Status, str] = {
    Status.PENDING: "waiting for the therapist",
    Status.THERAPIST_CONFIRMED: "accepted by the therapist",
    Status.DRIVER_CONFIRMED: "confirmed by the driver",
    Status.IN_PROGRESS: "started",
    Status.JOURNEY: "on the way",
    Status.ARRIVED: "at the client's place",
    Status.DROPPED_OFF: "dropped off",
    Status.SESSION_IN_PROGRESS: "in session",
    Status.AWAITING_PAYMENT: "waiting for payment",
    Status.PAYMENT_VERIFIED: "paid",
    Status.COMPLETED: "completed",
    Status.PICKUP_REQUESTED: "waiting for a pickup driver",
    Status.DRIVER_ASSIGNED_PICKUP: "assigned to a pickup driver",
    Status.RETURN_JOURNEY: "on the way back",
    Status.TRANSPORT_COMPLETED: "finished",
    Status.REJECTED: "rejected and waiting for the operator",
    Status.CANCELLED: "cancelled",
    Status.AUTO_CANCELLED: "cancelled because nobody accepted in time",
}

# The business's own words, shown on cards. Role-specific texts override.
STATUS_TEXT: dict[Status, str] = {
    Status.PENDING: "Pending — waiting for the therapist to accept",
    Status.THERAPIST_CONFIRMED: "Accepted — waiting for the driver to confirm",
    Status.DRIVER_CONFIRMED: "Ready to start — waiting for operator",
    Status.IN_PROGRESS: "Started — driver to set off",
    Status.JOURNEY: "En route — driver is on the way",
    Status.ARRIVED: "Arrived — at the client's address",
    Status.DROPPED_OFF: "Start session — dropped off at client location",
    Status.SESSION_IN_PROGRESS: "Session in progress",
    Status.AWAITING_PAYMENT: "Awaiting payment — operator to verify",
    Status.PAYMENT_VERIFIED: "Payment verified — complete the session",
    Status.COMPLETED: "Completed — request a pickup",
    Status.PICKUP_REQUESTED: "Pickup requested — finding a driver",
    Status.DRIVER_ASSIGNED_PICKUP: "Pickup driver assigned — on the way",
    Status.RETURN_JOURNEY: "Return journey — heading back",
    Status.TRANSPORT_COMPLETED: "Done — back at base",
    Status.REJECTED: "Rejected — operator to review",
    Status.CANCELLED: "Cancelled",
    Status.AUTO_CANCELLED: "Auto-cancelled — not accepted in time",
}

ROLE_STATUS_TEXT: dict[Role, dict[Status, str]] = {
    "therapist": {
        Status.PENDING: "New request — accept or reject",
        Status.THERAPIST_CONFIRMED: "Accepted — waiting for your driver",
        Status.IN_PROGRESS: "Started — your driver is setting off",
        Status.JOURNEY: "En route — driver is on the way",
        Status.SESSION_IN_PROGRESS: "Session in progress — request payment when done",
        Status.AWAITING_PAYMENT: "Awaiting payment — operator is verifying",
    },
    "driver": {
        Status.THERAPIST_CONFIRMED: "Therapist accepted — confirm the trip",
        Status.IN_PROGRESS: "Started — start the journey",
        Status.JOURNEY: "En route — tap Arrive when you get there",
        Status.ARRIVED: "Arrived — drop off the therapist",
        Status.DRIVER_ASSIGNED_PICKUP: "Pickup assigned to you — confirm pickup",
        Status.RETURN_JOURNEY: "Return journey — complete when back",
    },
    "operator": {
        Status.AWAITING_PAYMENT: "Awaiting payment — verify it",
        Status.PICKUP_REQUESTED: "Pickup requested — assign a driver",
        Status.REJECTED: "Rejected — review it",
    },
}


def status_text(status: str, role: Role | None = None) -> str:
    """The text a person in `role` sees for `status`."""
    s = Status(status)
    if role is not None and s in ROLE_STATUS_TEXT.get(role, {}):
        return ROLE_STATUS_TEXT[role][s]
    return STATUS_TEXT[s]


def is_terminal(status: str) -> bool:
    return Status(status) in TERMINAL
