"""Payment receipts: which photos are accepted (by their bytes, not their
name), what a receipt's id is, and the refusals a person reads.

A receipt is stored once per appointment under the SHA-256 of its bytes
(server.receipts); its id is that hash in hex, and the payment commands
reference it as `receipt_id`. Client and server share these checks so the
dialog can refuse a file before sending it, in the server's words."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from domain.errors import DomainError, InvalidArgs

# The methods whose payment a receipt photo proves (cash has none).
RECEIPT_METHODS = ("gcash", "bank_transfer", "card")

_ID = re.compile(r"[0-9a-f]{64}")


class ReceiptRefused(DomainError):
    """An upload that can't be kept: `too_large` (413) or `not_an_image` (415)."""

    status = 422


def sniff(data: bytes) -> str | None:
    """The image type the bytes are (image/jpeg, png, webp, heic), by their
    magic numbers; None for anything else."""
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    # ISO base media: a 'ftyp' box whose brand is one of HEIF's
    if data[4:8] == b"ftyp" and data[8:12] in (
        b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1",
    ):
        return "image/heic"
    return None


def receipt_id(data: bytes) -> str:
    """The id a receipt is stored under: the SHA-256 of its bytes, in hex."""
    return hashlib.sha256(data).hexdigest()


def accepted(data: bytes, limit: int) -> str:
    """The content type of an acceptable receipt photo, or ReceiptRefused
    with what to do instead."""
    if len(data) > limit:
        raise too_large(len(data), limit)
    kind = sniff(data)
    if not data or kind is None:
        raise ReceiptRefused(
            "That file isn't a photo we can keep. Please attach a JPEG, PNG, WebP "
            "or HEIC picture of the receipt.",
            code="not_an_image",
        )
    return kind


def too_large(size: int, limit: int) -> ReceiptRefused:
    return ReceiptRefused(
        f"That photo is too large ({megabytes(size)}); the most a receipt can be is "
        f"{megabytes(limit)}. Please take a smaller photo or a screenshot.",
        code="too_large",
    )


def megabytes(size: int) -> str:
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def is_receipt_id(value: object) -> bool:
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def arg(args: Mapping[str, Any], key: str = "receipt_id") -> str | None:
    """An optional receipt reference in a command's args."""
    value = args.get(key)
    if value is None or value == "":
        return None
    if not is_receipt_id(value):
        raise InvalidArgs("That receipt photo isn't one we have; please attach it again.")
    return str(value)
