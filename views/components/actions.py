"""The actions each role's screen offers on an appointment card, and their
words. Whether an action shows is decided by `domain.lifecycle.allowed`."""

from __future__ import annotations

from domain.acceptance import has_accepted
from domain.commands import Actor
from domain.lifecycle import allowed
from domain.records import Record
from domain.status import Role

LABELS: dict[str, str] = {
    "accept": "Accept",
    "reject": "Reject",
    "confirm": "Confirm trip",
    "start": "Start",
    "start_journey": "Start journey",
    "arrive": "Arrive",
    "drop_off": "Drop off",
    "start_session": "Start session",
    "request_payment": "Request payment",
    "complete": "Complete",
    "request_pickup": "Request pickup",
    "confirm_pickup": "Confirm pickup",
    "complete_return": "Complete return",
    "cancel": "Cancel",
}

# What each role's card offers, in the order the buttons show.
OFFERED: dict[Role, tuple[str, ...]] = {
    "therapist": (
        "accept",
        "reject",
        "start_session",
        "request_payment",
        "complete",
        "request_pickup",
    ),
    "driver": (
        "confirm",
        "start_journey",
        "arrive",
        "drop_off",
        "confirm_pickup",
        "complete_return",
        "reject",
    ),
    # The full console (verify payment, reviews, pickups) is the operator's own screen.
    "operator": ("start", "cancel"),
    "system": (),
}

def label_for(appt: Record, actor: Actor, action: str) -> str:
    """The button's words for `action` on `appt`: a therapist of a group
    booking who already accepted may still pull out while the others answer
    (the rules allow it), and the button says that is what it does."""
    if action == "reject" and actor.role == "therapist" and has_accepted(appt, actor):
        return "Withdraw"
    return LABELS[action]


# Actions that ask for more before they are sent.
NEEDS_INPUT = frozenset({"reject", "complete", "request_pickup", "cancel"})

# The primary action is the filled button; secondary ones are outlined.
SECONDARY = frozenset({"reject", "cancel"})


def actions_for(appt: Record, actor: Actor) -> list[str]:
    """The actions to show on `appt` for `actor`: the role's offer, filtered
    by the domain's lifecycle rules."""
    return [a for a in OFFERED.get(actor.role, ()) if allowed(appt, actor, a)]


# What a snackbar says when the server has applied a command ("each
# success"). None: too small to announce.
SAVED: dict[str, str | None] = {
    "appointment.create": "Booking saved",
    "appointment.update": "Changes saved",
    "appointment.review_rejection": "Review saved",
    "appointment.verify_payment": "Payment verified — saved",
    "appointment.assign_pickup_driver": "Pickup driver assigned — saved",
    "appointments.auto_cancel_overdue": "Overdue bookings cancelled — saved",
    "client.create": "Client added — saved",
    "client.update": "Client details saved",
    "appointment.accept": "Accepted — saved",
    "appointment.reject": "Rejection sent to the operator",
    "appointment.confirm": "Trip confirmed — saved",
    "appointment.start": "Appointment started — saved",
    "appointment.start_journey": "Journey started — saved",
    "appointment.arrive": "Arrival saved",
    "appointment.drop_off": "Drop-off saved",
    "appointment.start_session": "Session started — saved",
    "appointment.request_payment": "Payment requested — saved",
    "appointment.complete": "Session completed — saved",
    "appointment.request_pickup": "Pickup requested — saved",
    "appointment.confirm_pickup": "Pickup confirmed — saved",
    "appointment.complete_return": "Return completed — saved",
    "appointment.cancel": "Appointment cancelled — saved",
    "availability.create": "Slot added — saved",
    "availability.update": "Slot updated — saved",
    "availability.delete": "Slot deleted — saved",
    "availability.bulk_create": "Slots added — saved",
    "staff.set_duty": "Duty status saved",
    "notification.mark_read": None,
    "notification.mark_all_read": None,
}
