"""Every command's words, in one table keyed by the command's name.

The lifecycle's refusals ("Can't <verb>: …"), the cards' buttons, the
snackbar once the server has applied a command, the activity feed's
past-tense sentence and the outbox's name for a command all read from here,
so the words of one command are written once, side by side.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from domain.commands import Snapshot
from domain.records import client_name


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
        title="New booking",
        verb="save the appointment",
        saved="Booking saved",
        done="{who} booked {booking} with {therapists}",
    ),
    "appointment.update": Words(
        title="Booking change",
        verb="change the appointment",
        saved="Changes saved",
        done="{who} changed {booking}",
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
        title="Review a rejection", verb="review the rejection", saved="Review saved"
    ),
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
        done="{who} sent {pickup_driver} to pick up {therapists} from {client}'s",
    ),
    "availability.bulk_create": Words(
        title="New slots", verb="add the slots", saved="Slots added — saved"
    ),
    "availability.create": Words(title="New slot", verb="add the slot", saved="Slot added — saved"),
    "availability.delete": Words(
        title="Delete slot", verb="delete the slot", saved="Slot deleted — saved"
    ),
    "availability.update": Words(
        title="Slot change", verb="change the slot", saved="Slot updated — saved"
    ),
    "client.create": Words(title="New client", verb="add the client", saved="Client added — saved"),
    "client.update": Words(
        title="Client details", verb="change the client's details", saved="Client details saved"
    ),
    "notification.mark_all_read": Words(title="Mark all read", saved=None),
    "notification.mark_read": Words(title="Mark read", saved=None),
    "staff.set_duty": Words(
        title="Duty status", verb="change the duty status", saved="Duty status saved"
    ),
    "service.create": Words(
        title="New service", verb="add the service", saved="Service added — saved"
    ),
    "service.update": Words(
        title="Service change", verb="change the service", saved="Service saved"
    ),
    "material.create": Words(
        title="New material", verb="add the material", saved="Material added — saved"
    ),
    "material.update": Words(
        title="Material change", verb="change the material", saved="Material saved"
    ),
    "material.restock": Words(title="Restock", verb="restock", saved="Restock saved"),
    "staff.create": Words(title="New staff member", verb="add the person", saved=None),
    "staff.update": Words(
        title="Staff details", verb="change the person's details", saved="Staff details saved"
    ),
    "staff.reset_password": Words(title="Reset password", verb="reset the password", saved=None),
    "account.change_password": Words(
        title="Change password", verb="change your password", saved=None
    ),
    "attendance.clock_in": Words(button="Clock in", verb="clock in", saved="Clocked in — saved"),
    "attendance.clock_out": Words(
        button="Clock out", verb="clock out", saved="Clocked out — saved"
    ),
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


def about(snap: Snapshot, name: str, target: str | None, args: Mapping[str, Any]) -> str | None:
    """What a command is about, in words that stand for "the appointment"
    or "the slot" in its verb: "Carlo Bautista's 09:00 booking", "the
    09:00–12:00 slot". From the record as the client holds it, else from
    the command's own arguments (a create the server refused)."""
    entity = name.split(".", 1)[0]
    record = (snap.get(entity, target) if target else None) or args  # type: ignore[arg-type]
    if entity == "appointment":
        who = record.get("client_name") or (
            client_name(snap.get("client", str(record["client_id"])))
            if record.get("client_id")
            else None
        )
        at = record.get("start_time")
        if not who:
            return None
        return f"{who}'s {at} booking" if at else f"{who}'s booking"
    if entity == "availability" and record.get("start_time") and record.get("end_time"):
        return f"the {record['start_time']}–{record['end_time']} slot"
    return None


def refusal(name: str, message: str, subject: str | None = None) -> str:
    """Who, what, why in one sentence: "Couldn't accept Carlo Bautista's
    09:00 booking: it's cancelled." `message` is the server's (or the
    domain's) refusal; its "Can't <verb>: " is not said twice."""
    words = WORDS.get(name)
    verb = words.verb if words is not None and words.verb else title(name).lower()
    reason = message.removeprefix(f"Can't {verb}: ")
    for thing in ("the appointment", "the slot"):
        if subject and verb.endswith(thing):
            verb = verb[: -len(thing)] + subject
            break
    else:
        if subject:
            verb = f"{verb} for {subject}"
    return f"Couldn't {verb}: {reason}"
