"""Receipt photos in the dialogs (issue 16): the operator's verify dialog
and the therapist's request-payment dialog attach a photo through Flet's
FilePicker (the picker's result event as the browser sends it, bytes
included), show it, send its id with the payment; a file that isn't a photo
or is too large is refused in the server's words; a photo the therapist
attached shows in the operator's dialog."""

from __future__ import annotations

from typing import Any

import flet as ft

from domain import receipts
from domain.status import Status
from testkit.flet_harness import Harness, descendants
from tests.views.conftest import Mount
from tests.views.data import OPERATOR, THERAPIST, appointment, world
from tests.views.fake_client import FakeClient

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))


async def pick(h: Harness, root: ft.Control, name: str, data: bytes) -> None:
    """What the browser sends when a file was picked (`with_data`)."""
    (picker,) = [s for s in h.page._services._services if isinstance(s, ft.FilePicker)
                 and any(isinstance(b, ft.Button) and isinstance(b.action, ft.PickFiles)
                         and b.action.file_picker is s for b in descendants(root))]
    files: list[dict[str, Any]] = [{"id": 0, "name": name, "size": len(data),
                                    "bytes": list(data)}]
    await h.session.dispatch_event(picker._i, "result", {"files": files})
    await h.settle()


def images(root: ft.Control) -> list[ft.Image]:
    return [c for c in descendants(root) if isinstance(c, ft.Image)]


async def open_verify(h: Harness) -> ft.AlertDialog:
    await h.click(h.button("Verify payment", within=h.semantics("queue-pay")))
    dialog = h.semantics("verify-pay").parent
    assert isinstance(dialog, ft.AlertDialog)
    return dialog


async def test_operator_attaches_a_receipt_and_pays_with_it(mount: Mount) -> None:
    client = FakeClient(OPERATOR, world(appointment("pay", Status.AWAITING_PAYMENT)))
    h = await mount(client, width=1440, height=900)
    dialog = await open_verify(h)
    method = next(d for d in descendants(dialog) if isinstance(d, ft.Dropdown))
    await h.toggle(method, "gcash")
    await h.type_text(h.field("Amount"), "1500")
    assert h.buttons_in(dialog).count("Attach receipt photo") == 1

    await pick(h, dialog, "gcash.png", PNG)
    rid = receipts.receipt_id(PNG)
    assert client.receipts == {("pay", rid): PNG}  # sent to the server's side
    (image,) = images(dialog)
    assert image.src == PNG
    assert "Receipt photo attached (gcash.png)." in h.texts(dialog)
    assert "Replace receipt photo" in h.buttons_in(dialog)

    # no typed reference needed with the photo
    await h.click(h.button("Verify payment", within=dialog))
    cmd = client.dispatched[-1]
    assert cmd.name == "appointment.verify_payment"
    assert cmd.args == {"method": "gcash", "amount": 1500.0, "receipt_id": rid}
    assert not dialog.open


async def test_not_a_photo_or_too_large_is_refused_in_words(mount: Mount) -> None:
    client = FakeClient(OPERATOR, world(appointment("pay", Status.AWAITING_PAYMENT)))
    client.receipt_limit = 1024
    h = await mount(client, width=1440, height=900)
    dialog = await open_verify(h)

    await pick(h, dialog, "statement.pdf", b"%PDF-1.7 not a photo")
    said = [t for t in h.texts(dialog) if "JPEG, PNG, WebP or HEIC" in t]
    assert said and not client.receipts and not images(dialog)

    await pick(h, dialog, "huge.jpg", b"\xff\xd8\xff" + b"\0" * 4096)
    assert any("too large" in t for t in h.texts(dialog))
    assert not client.receipts and not images(dialog)

    client.offline_asks = True
    await pick(h, dialog, "ok.png", PNG)
    assert any("Can't reach the server" in t for t in h.texts(dialog))

    # the form still asks for a reference: no photo was kept
    method = next(d for d in descendants(dialog) if isinstance(d, ft.Dropdown))
    await h.toggle(method, "card")
    await h.type_text(h.field("Amount"), "900")
    await h.click(h.button("Verify payment", within=dialog))
    assert "receipt reference" in str(h.field("Receipt reference").error)
    assert not client.dispatched


async def test_therapist_at_the_door_attaches_then_the_operator_sees_it(mount: Mount) -> None:
    session = appointment("s1", Status.SESSION_IN_PROGRESS)
    therapist = FakeClient(THERAPIST, world(session))
    h = await mount(therapist, width=820, height=1180)
    await h.click(h.button("Request payment"))
    dialog = next(d for d in h.by_type(ft.AlertDialog) if d.open)
    method = next(d for d in descendants(dialog) if isinstance(d, ft.Dropdown))
    field = h.semantics("receipt-s1")
    assert not field.visible  # cash: no receipt to photograph
    therapist.pending.clear()
    h.session.apply_patch(method._i, {"value": "gcash"})
    await h.session.dispatch_event(method._i, "select", "gcash")
    await h.settle()
    assert field.visible

    await pick(h, dialog, "IMG_2041.png", PNG)
    rid = receipts.receipt_id(PNG)
    await h.click(h.button("Request payment", within=dialog))
    cmd = therapist.dispatched[-1]
    assert (cmd.name, cmd.args) == ("appointment.request_payment",
                                    {"method": "gcash", "receipt_id": rid})
    claimed = therapist.view().get("appointment", "s1")
    assert claimed is not None and claimed["status"] == "awaiting_payment"

    # the operator's dialog opens on the therapist's method, with her photo
    operator = FakeClient(OPERATOR, world({**claimed, "id": "pay"}))
    operator.receipts[("pay", rid)] = PNG
    h2 = await mount(operator, width=1440, height=900)
    dialog2 = await open_verify(h2)
    method2 = next(d for d in descendants(dialog2) if isinstance(d, ft.Dropdown))
    assert method2.value == "gcash"
    (image,) = images(dialog2)
    assert image.src == PNG
    await h2.type_text(h2.field("Amount"), "900")
    await h2.click(h2.button("Verify payment", within=dialog2))
    assert operator.dispatched[-1].args == {"method": "gcash", "amount": 900.0,
                                            "receipt_id": rid}


async def test_cash_at_the_door_stays_one_tap_and_a_choice(mount: Mount) -> None:
    therapist = FakeClient(THERAPIST, world(appointment("s1", Status.SESSION_IN_PROGRESS)))
    h = await mount(therapist, width=820, height=1180)
    await h.click(h.button("Request payment"))
    dialog = next(d for d in h.by_type(ft.AlertDialog) if d.open)
    await h.click(h.button("Request payment", within=dialog))
    cmd = therapist.dispatched[-1]
    assert (cmd.name, cmd.args) == ("appointment.request_payment", {"method": "cash"})


async def test_the_history_shows_the_receipt_photo(mount: Mount) -> None:
    rid = receipts.receipt_id(PNG)
    other = receipts.receipt_id(PNG + b"x")
    paid = appointment("a1", Status.PAYMENT_VERIFIED,
                       payment={"method": "gcash", "amount": 900, "receipt_ref": None,
                                "extension_amount": None, "receipt_id": rid},
                       payment_claim={"method": "gcash", "receipt_id": other})
    client = FakeClient(OPERATOR, world(paid))
    client.receipts[("a1", rid)] = PNG  # the therapist's photo is missing on the server
    h = await mount(client, width=1440, height=900)
    r = next(x for t in h.by_type(ft.DataTable) for x in t.rows if x.data == "a1")
    await h.session.dispatch_event(r._i, "select_change", True)
    await h.session.after_event(r)
    await h.settle(30)
    panel = h.semantics("timeline-panel")
    assert h.has_semantics(f"timeline-receipt-{rid[:12]}")
    assert [i.src for i in images(panel)] == [PNG]
    assert any("can't be shown" in t and "isn't attached" in t for t in h.texts(panel))
