"""Receipt photos (issue 16): what counts as an image (by its bytes), the
refusals' codes, and the payment commands referencing a stored receipt by
id — the old typed reference still accepted, as before."""

from __future__ import annotations

from typing import Any

import pytest

from domain import receipts
from domain.errors import InvalidArgs
from tests.domain.world import OP, T1, world_at

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 24
WEBP = b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 16
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"
RID = receipts.receipt_id(PNG)


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (PNG, "image/png"),
        (JPEG, "image/jpeg"),
        (WEBP, "image/webp"),
        (HEIC, "image/heic"),
        (b"\x00\x00\x00\x18ftypmif1" + b"\x00" * 8, "image/heic"),
        (b"GIF89a" + b"\x00" * 10, None),
        (b"%PDF-1.7\n", None),
        (b"RIFF\x10\x00\x00\x00WAVEfmt ", None),  # RIFF, but sound
        (b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 8, None),  # a video
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None),
        (b"", None),
        (b"\x89PNG", None),  # cut short
    ],
)
def test_sniff_by_magic_bytes(data: bytes, kind: str | None) -> None:
    assert receipts.sniff(data) == kind


@pytest.mark.parametrize(
    ("data", "limit", "code", "words"),
    [
        (PNG + b"\x00" * 2000, 1024, "too_large", "too large"),
        (b"hello, not a photo", 1024, "not_an_image", "JPEG, PNG, WebP or HEIC"),
        (b"", 1024, "not_an_image", "isn't a photo"),
    ],
)
def test_refusals_have_stable_codes(data: bytes, limit: int, code: str, words: str) -> None:
    with pytest.raises(receipts.ReceiptRefused) as info:
        receipts.accepted(data, limit)
    assert info.value.code == code
    assert words in info.value.message


def test_size_limit_is_inclusive() -> None:
    assert receipts.accepted(PNG, len(PNG)) == "image/png"


def test_id_is_the_sha256_of_the_bytes() -> None:
    assert RID == "9656be35bd353ebedd79d7d24a14df408ef96b99fb4e4b4542e3bdd56de73134"
    assert receipts.is_receipt_id(RID)
    assert receipts.receipt_id(PNG) == RID
    assert receipts.receipt_id(JPEG) != RID


@pytest.mark.parametrize(
    ("args", "payment"),
    [
        ({"method": "gcash", "amount": 900, "receipt_id": RID},
         {"method": "gcash", "amount": 900.0, "receipt_ref": None, "extension_amount": None,
          "receipt_id": RID}),
        ({"method": "card", "amount": 900, "receipt_ref": "C-1", "receipt_id": RID},
         {"method": "card", "amount": 900.0, "receipt_ref": "C-1", "extension_amount": None,
          "receipt_id": RID}),
        # the old form: a typed reference, no photo, no receipt_id key
        ({"method": "bank_transfer", "amount": 900, "receipt_ref": "BT-7"},
         {"method": "bank_transfer", "amount": 900.0, "receipt_ref": "BT-7",
          "extension_amount": None}),
        ({"method": "cash", "amount": 900},
         {"method": "cash", "amount": 900.0, "receipt_ref": None, "extension_amount": None}),
    ],
)
def test_verify_payment_references_the_receipt(args: dict[str, Any],
                                               payment: dict[str, Any]) -> None:
    w = world_at("awaiting_payment")
    w.do(OP, "appointment.verify_payment", "a1", **args)
    assert w.appt()["payment"] == payment


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"method": "gcash", "amount": 900}, "receipt reference"),  # neither photo nor ref
        ({"method": "gcash", "amount": 900, "receipt_id": "abc"}, "attach it again"),
        ({"method": "gcash", "amount": 900, "receipt_id": RID.upper()}, "attach it again"),
        ({"method": "gcash", "amount": 900, "receipt_id": 7}, "attach it again"),
    ],
)
def test_verify_payment_refuses(args: dict[str, Any], message: str) -> None:
    w = world_at("awaiting_payment")
    before = w.state()
    with pytest.raises(InvalidArgs, match=message):
        w.do(OP, "appointment.verify_payment", "a1", **args)
    assert w.state() == before


@pytest.mark.parametrize(
    ("args", "claim"),
    [
        ({}, None),  # as before: no args, no claim
        ({"method": "gcash", "receipt_id": RID}, {"method": "gcash", "receipt_id": RID}),
        ({"method": "cash"}, {"method": "cash", "receipt_id": None}),
    ],
)
def test_therapist_at_the_door_attaches_a_receipt(args: dict[str, Any],
                                                  claim: dict[str, Any] | None) -> None:
    w = world_at("session_in_progress")
    w.do(T1, "appointment.request_payment", "a1", **args)
    assert w.appt()["status"] == "awaiting_payment"
    assert w.appt().get("payment_claim") == claim


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"receipt_id": RID}, "payment method"),
        ({"method": "gcash", "receipt_id": "nope"}, "attach it again"),
        ({"method": "gcash", "tip": 1}, "Unknown field"),
    ],
)
def test_request_payment_refuses(args: dict[str, Any], message: str) -> None:
    w = world_at("session_in_progress")
    before = w.state()
    with pytest.raises(InvalidArgs, match=message):
        w.do(T1, "appointment.request_payment", "a1", **args)
    assert w.state() == before
