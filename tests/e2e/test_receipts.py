"""A receipt photo through the real browser (issue 16): the operator's
Verify payment dialog opens Chromium's own file chooser (Flet's FilePicker,
through the PickFiles client action), the picked PNG's bytes reach the
server's receipt route, the dialog shows the photo, and the verified
payment names it; the server then serves the very same bytes. And the
Reports page on the demo business."""

from __future__ import annotations

import hashlib
import random
import re
import struct
import zlib
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from server.seed import receipt_png
from testkit.browser import DESKTOP, expect_text, ident, login, open_app, shoot, type_into
from testkit.server import ServerProcess
from tests.e2e.conftest import Operator, UiProcess
from tests.e2e.test_operator import TO_PAYMENT

pytestmark = pytest.mark.timeout(900)


def test_operator_attaches_a_receipt_photo_in_chromium(
    browser: Browser, ui: UiProcess, operator: Operator
) -> None:
    aid = operator.book(hour=14)
    operator.advance(aid, *TO_PAYMENT)
    photo = receipt_png(7, "gcash")
    console = open_app(browser, ui.url, DESKTOP)
    login(console, "operator")

    queued = ident(console, f"queue-{aid}")
    expect_text(queued, "Verify payment", timeout=30_000)
    queued.get_by_role("button", name="Verify payment").click()
    type_into(console.get_by_role("textbox", name="Amount"), "1200")
    ident(console, "verify-method").click()
    console.get_by_text("GCash", exact=True).click()
    with console.expect_file_chooser(timeout=30_000) as chooser:
        console.get_by_role("button", name="Attach receipt photo").click()
    chooser.value.set_files(files=[{"name": "gcash-receipt.png", "mimeType": "image/png",
                                    "buffer": photo}])
    expect_text(ident(console, f"receipt-{aid}"), "Receipt photo attached", timeout=30_000)
    expect(ident(console, f"receipt-photo-{aid}")).to_be_visible()
    shoot(console, "operator-verify-receipt-1440")

    console.get_by_role("button", name="Verify payment").last.click()
    expect(ident(console, f"queue-{aid}")).to_have_count(0, timeout=15_000)
    operator.wait_for_status(aid, "payment_verified")
    rid = hashlib.sha256(photo).hexdigest()
    payment = operator.appointment(aid)["payment"]
    # no typed reference: the photo stands for it
    assert (payment["method"], payment["receipt_id"], payment["receipt_ref"]) == (
        "gcash", rid, None)
    served = operator.http.get(f"/api/appointments/{aid}/receipts/{rid}")
    assert served.status_code == 200 and served.content == photo


def test_reports_page_on_the_demo_business(browser: Browser, tmp_path: Path) -> None:
    """`make run`'s demo data on the Reports page: the method split, the
    chart, the table; by therapist; the receipts in an appointment's history."""
    srv = ServerProcess(tmp_path / "server", seed="demo", startup_timeout=120).start()
    ui = UiProcess(srv.url, tmp_path / "ui")
    ui.data_dir.mkdir()
    ui.start()
    try:
        console = open_app(browser, ui.url, DESKTOP)
        login(console, "operator")
        console.get_by_role("tab", name=re.compile(r"Reports")).or_(
            console.get_by_role("button", name=re.compile(r"Reports"))).first.click()
        summary = ident(console, "reports-summary")
        expect_text(summary, "sessions", timeout=30_000)
        for method in ("Cash", "GCash", "Card", "Bank transfer"):
            expect_text(summary, method)
        expect_text(ident(console, "reports-table"), "Total")
        shoot(console, "operator-reports-1440")
        ident(console, "reports-by").click()
        console.get_by_text("Therapist", exact=True).last.click()
        expect_text(ident(console, "reports-table"), "Ana Reyes", timeout=15_000)
        shoot(console, "operator-reports-therapist-1440")
    finally:
        ui.stop()
        srv.close()


def noisy_png(side: int) -> bytes:
    """A real PNG about side*side*3 bytes big (noise doesn't compress): a
    phone photo's size."""
    rng = random.Random(side)
    raw = b"".join(b"\x00" + rng.randbytes(side * 3) for _ in range(side))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2,
                                                            0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 1)) + chunk(b"IEND", b""))


def test_a_phone_sized_photo_goes_through(
    browser: Browser, ui: UiProcess, operator: Operator
) -> None:
    """Megabytes, not a thumbnail: the picked bytes cross Flet's socket to the
    session and then the receipt route."""
    aid = operator.book(hour=15)
    operator.advance(aid, *TO_PAYMENT)
    photo = noisy_png(1100)  # ~3.6 MB
    assert len(photo) > 3_000_000
    console = open_app(browser, ui.url, DESKTOP)
    login(console, "operator")
    queued = ident(console, f"queue-{aid}")
    expect_text(queued, "Verify payment", timeout=30_000)
    queued.get_by_role("button", name="Verify payment").click()
    with console.expect_file_chooser(timeout=30_000) as chooser:
        console.get_by_role("button", name="Attach receipt photo").click()
    chooser.value.set_files(files=[{"name": "IMG_2041.png", "mimeType": "image/png",
                                    "buffer": photo}])
    expect_text(ident(console, f"receipt-{aid}"), "Receipt photo attached", timeout=60_000)
    rid = hashlib.sha256(photo).hexdigest()
    served = operator.http.get(f"/api/appointments/{aid}/receipts/{rid}")
    assert served.status_code == 200 and served.content == photo
