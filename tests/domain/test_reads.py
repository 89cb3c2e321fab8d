"""The lifecycle facts other parts read: which commands may free a driver (the
pickup job's kick) and which statuses a command reads whatever the date (the
server's per-command snapshot)."""

from __future__ import annotations

from domain.apply import touched_statuses
from domain.commands import Command
from domain.lifecycle import FREES_A_DRIVER
from domain.status import Status


def test_a_driver_may_be_free_after_a_drop_off_a_return_a_cancel_or_coming_on_duty() -> None:
    assert {
        "appointment.drop_off",
        "appointment.complete_return",
        "appointment.cancel",
        "staff.set_duty",
    } == FREES_A_DRIVER


def test_every_command_reads_the_appointments_that_tie_up_or_wait_for_a_driver() -> None:
    driving = {
        Status.IN_PROGRESS,
        Status.JOURNEY,
        Status.ARRIVED,
        Status.PICKUP_REQUESTED,
        Status.DRIVER_ASSIGNED_PICKUP,
        Status.RETURN_JOURNEY,
    }
    assert touched_statuses(Command("appointment.accept")) == driving
    assert touched_statuses(Command("appointments.auto_assign_pickups")) == driving


def test_the_overdue_sweep_also_reads_every_pending_appointment() -> None:
    read = touched_statuses(Command("appointments.auto_cancel_overdue"))
    assert Status.PENDING in read and "pending" in read
