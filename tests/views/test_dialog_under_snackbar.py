"""A dialog closes when it is done even if a snackbar came up while it was
open (a "saved" notice from an earlier action, say). `page.pop_dialog()`
closes the topmost open dialog control, which is then the snackbar: the
booking dialog used to stay on screen over the queue it had just filled."""

from __future__ import annotations

import flet as ft

from domain.status import Status
from testkit.flet_harness import Harness
from tests.views.conftest import Mount
from tests.views.data import OPERATOR, THERAPIST, appointment, world
from tests.views.fake_client import FakeClient
from tests.views.test_operator_booking import data, fill, open_dialog
from views.components.feedback import snack


def open_bars(h: Harness) -> list[ft.SnackBar]:
    return [d for d in h.page._dialogs.controls if isinstance(d, ft.SnackBar) and d.open]


async def test_booking_dialog_closes_with_a_snackbar_above_it(mount: Mount) -> None:
    client = FakeClient(OPERATOR, data())
    h, dialog = await open_dialog(mount, client)
    await fill(h)
    snack(h.page, "Client added — saved")
    await h.settle()
    await h.click(h.button("Book", within=dialog))
    assert client.dispatched[-1].name == "appointment.create"
    assert not dialog.open, "the dialog closed"
    assert open_bars(h), "the notice is left to time out on its own"


async def test_verify_dialog_closes_with_a_snackbar_above_it(mount: Mount) -> None:
    client = FakeClient(OPERATOR, world(appointment("pay", Status.AWAITING_PAYMENT)))
    h = await mount(client, width=1440, height=900)
    await h.click(h.button("Verify payment", within=h.semantics("queue-pay")))
    dialog = h.semantics("verify-pay").parent
    assert isinstance(dialog, ft.AlertDialog)
    snack(h.page, "Appointment started — saved")
    await h.settle()
    await h.type_text(h.field("Amount"), "900")
    await h.click(h.button("Verify payment", within=dialog))
    assert client.dispatched[-1].name == "appointment.verify_payment"
    assert not dialog.open


async def test_reason_dialog_closes_with_a_snackbar_above_it(mount: Mount) -> None:
    client = FakeClient(THERAPIST, world(appointment("a1", Status.PENDING)))
    h = await mount(client)
    await h.click(h.button("Reject", within=h.semantics("appt-a1")))
    dialog = next(
        d for d in h.page._dialogs.controls if isinstance(d, ft.AlertDialog) and d.open
    )
    snack(h.page, "Accepted — saved")
    await h.settle()
    await h.type_text(h.field("Reason"), "Unwell")
    await h.click(h.button("Reject", within=dialog))
    assert client.dispatched[-1].name == "appointment.reject"
    assert not dialog.open
