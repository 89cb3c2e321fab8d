"""The words table: every command has its words, and every lifecycle row's
refusal its verb, in one place."""

from __future__ import annotations

from domain.apply import COMMANDS
from domain.lifecycle import TABLE, command_of
from domain.words import WORDS, label


def test_every_command_has_its_words_and_nothing_else_does() -> None:
    assert set(WORDS) == COMMANDS


def test_every_lifecycle_row_has_the_verb_its_refusals_complete() -> None:
    for action in TABLE:
        assert WORDS[command_of(action)].verb, action


def test_a_command_is_named_for_a_person_even_when_this_version_does_not_know_it() -> None:
    assert label("appointment.request_pickup") == "Request pickup (appointment)"
    assert label("appointments.auto_cancel_overdue") == "Auto cancel overdue (appointment)"
    assert label("gadget.polish") == "Polish (gadget)"
