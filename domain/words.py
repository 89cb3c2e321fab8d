"""Every command's words, in one table keyed by the command's name.

The lifecycle's refusals ("Can't <verb>: …"), the cards' buttons, the
snackbar once the server has applied a command, the activity feed's
past-tense sentence and the outbox's name for a command all read from here,
so the words of one command are written once, side by side.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Words:
    button: str | None = None  # a card's button ("Request pickup")
    # what the change is called in a list of changes ("New booking"); None:
    # the button's words
    title: str | None = None
    verb: str | None = None  # completes "Can't …" in the lifecycle's refusals
    # the snackbar once the server applied it; None: too small to announce;
    # "": the outbox's own words ("<label>: saved.")
    saved: str | None = ""
    # the feed's sentence; {who}: the actor, {booking}: "Maria Santos's 2 pm
    # Swedish massage", {client}, {therapists}, {pickup_driver}, {payment}
    done: str | None = None


WORDS: dict[str, Words] = {
    "appointment.create": Words(
        title="New booking", saved="Booking saved", done="{who} booked {booking} with {therapists}"
    ),
    "appointment.update": Words(
        title="Booking change", saved="Changes saved", done="{who} changed {booking}"
    ),
    "appointment.accept": Words(
        button="Accept",
        verb="accept the appointment",
        saved="Accepted — saved",
        done="{who} accepted {booking}",
    ),
    "appointment.reject": Words(
        button="Reject",
        verb="reject the appointment",
        saved="Rejection sent to the operator",
        done="{who} rejected {booking}",
    ),
    "appointment.review_rejection": Words(
        title="Review a rejection", verb="review the rejection", saved="Review saved"),
    "appointment.confirm": Words(
        button="Confirm trip",
        verb="confirm the trip",
        saved="Trip confirmed — saved",
        done="{who} confirmed the trip for {booking}",
    ),
    "appointment.start": Words(
        button="Start",
        verb="start the appointment",
        saved="Appointment started — saved",
        done="{who} started {booking}",
    ),
    "appointment.start_journey": Words(
        button="Start journey",
        verb="start the journey",
        saved="Journey started — saved",
        done="{who} is on the way to {client}",
    ),
    "appointment.arrive": Words(
        button="Arrive",
        verb="mark arrival",
        saved="Arrival saved",
        done="{who} arrived at {client}'s",
    ),
    "appointment.drop_off": Words(
        button="Drop off",
        verb="drop off",
        saved="Drop-off saved",
        done="{who} dropped {therapists} off at {client}'s",
    ),
    "appointment.start_session": Words(
        button="Start session",
        verb="start the session",
        saved="Session started — saved",
        done="{who} started the session for {booking}",
    ),
    "appointment.request_payment": Words(
        button="Request payment",
        verb="request payment",
        saved="Payment requested — saved",
        done="{who} asked for payment for {booking}",
    ),
    "appointment.verify_payment": Words(
        title="Verify payment",
        verb="verify the payment",
        saved="Payment verified — saved",
        done="{who} verified {payment} for {booking}",
    ),
    "appointment.complete": Words(
        button="Complete",
        verb="complete the session",
        saved="Session completed — saved",
        done="{who} completed {booking}",
    ),
    "appointment.request_pickup": Words(
        button="Request pickup",
        verb="request a pickup",
        saved="Pickup requested — saved",
        done="{who} asked for a pickup from {client}'s",
    ),
    "appointment.assign_pickup_driver": Words(
        title="Assign a pickup driver",
        verb="assign a pickup driver",
        saved="Pickup driver assigned — saved",
        done="{who} sent {pickup_driver} to pick up {therapists} from {client}'s",
    ),
    "appointment.confirm_pickup": Words(
        button="Confirm pickup",
        verb="confirm the pickup",
        saved="Pickup confirmed — saved",
        done="{who} picked up {therapists} from {client}'s",
    ),
    "appointment.complete_return": Words(
        button="Complete return",
        verb="complete the return",
        saved="Return completed — saved",
        done="{who} brought {therapists} back from {client}'s",
    ),
    "appointment.cancel": Words(
        button="Cancel",
        verb="cancel the appointment",
        saved="Appointment cancelled — saved",
        done="{who} cancelled {booking}",
    ),
    "appointments.auto_cancel_overdue": Words(
        title="Cancel overdue bookings",
        verb="auto-cancel the appointment",
        saved="Overdue bookings cancelled — saved",
        done="{booking} was cancelled: nobody accepted in time",
    ),
    "appointments.auto_assign_pickups": Words(
        title="Assign waiting pickups",
        done="{who} sent {pickup_driver} to pick up {therapists} from {client}'s"
    ),
    "availability.bulk_create": Words(title="New slots", saved="Slots added — saved"),
    "availability.create": Words(title="New slot", saved="Slot added — saved"),
    "availability.delete": Words(title="Delete slot", saved="Slot deleted — saved"),
    "availability.update": Words(title="Slot change", saved="Slot updated — saved"),
    "client.create": Words(title="New client", saved="Client added — saved"),
    "client.update": Words(title="Client details", saved="Client details saved"),
    "notification.mark_all_read": Words(title="Mark all read", saved=None),
    "notification.mark_read": Words(title="Mark read", saved=None),
    "staff.set_duty": Words(title="Duty status", saved="Duty status saved"),
    "service.create": Words(title="New service", saved="Service added — saved"),
    "service.update": Words(title="Service change", saved="Service saved"),
    "material.create": Words(title="New material", saved="Material added — saved"),
    "material.update": Words(title="Material change", saved="Material saved"),
    "material.restock": Words(title="Restock", verb="restock", saved="Restock saved"),
}


def title(name: str) -> str:
    """What a change is called in a list of changes: 'Accept', 'New booking'
    (a name this version doesn't know: `label`)."""
    words = WORDS.get(name)
    return (words and (words.title or words.button)) or label(name)


def label(name: str) -> str:
    """A command's name for a person: 'appointment.request_pickup' -> 'Request
    pickup (appointment)' (any name, also one this version doesn't know)."""
    entity, _, action = name.partition(".")
    words = action.replace("_", " ") or entity
    return f"{words[:1].upper()}{words[1:]} ({entity.rstrip('s')})"
