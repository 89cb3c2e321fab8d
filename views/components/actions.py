"""The actions each role's screen offers on an appointment card, and their
words. Whether an action shows is decided by `domain.lifecycle.allowed`."""

from __future__ import annotations

from domain.acceptance import has_accepted
from domain.commands import Actor
from domain.lifecycle import TABLE, allowed, command_of
from domain.records import Record
from domain.status import Role
from domain.words import WORDS

# A card's button per action, from the words table.
LABELS: dict[str, str] = {
    action: button for action in TABLE if (button := WORDS[command_of(action)].button)
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
# success"), from the words table. None: too small to announce; a command
# not here is announced in the outbox's own words.
SAVED: dict[str, str | None] = {name: w.saved for name, w in WORDS.items() if w.saved != ""}
