"""Payment receipt photos through the real API (issue 16), on SQLite and
PostgreSQL: upload and serve by content hash, authorized like the
appointment (a therapist never sees the receipts of an appointment not
hers: 404, as for the appointment itself), refusals by size and by bytes
(not by the name or the declared type), the payment commands naming the
stored receipt, and the bytes never in an event frame."""

from __future__ import annotations

import hashlib
import shutil
import struct
import uuid
import zlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from testkit import loopback
from testkit.server import ServerProcess
from tests.server import conftest
from tests.server.helpers import Api, fresh_day, make_world, new_client, service_id

LIMIT = 64 * 1024


def png(seed: int, width: int = 4) -> bytes:
    """A real (tiny) PNG, different for each seed."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    rows = b"".join(b"\x00" + bytes([seed % 256, 80, 160]) * width for _ in range(width))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, width, 8, 2,
                                                            0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def srv(request: pytest.FixtureRequest, backend: str,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """The staff seed, with a small receipt limit to test against."""
    tmp = tmp_path_factory.mktemp("receipts-server")
    url = conftest._database_url(request, backend, "staff")
    server = ServerProcess(tmp, seed="staff" if url is None else None, database_url=url,
                           env={"TANDEM_RECEIPT_MAX_BYTES": str(LIMIT)})
    server.start()
    yield server
    server.close()
    shutil.rmtree(tmp, ignore_errors=True)


def upload(api: Api, aid: str, data: bytes, content_type: str = "image/png") -> httpx.Response:
    return loopback.post(f"{api.srv.url}/api/appointments/{aid}/receipts", content=data,
                      headers={**api.headers, "Content-Type": content_type}, timeout=30)


def booked(op: Api, t1: Api, d1: Api, *, until: str = "start_session") -> str:
    """An appointment of t1's, driven up to `until` (inclusive)."""
    day = fresh_day()
    make_world(op, day, [t1.username])
    aid = str(uuid.uuid4())
    op.cmd("appointment.create", aid, client_id=new_client(op), service_ids=[service_id(op)],
           therapist_ids=[t1.id], driver_id=d1.id, date=day, start_time="10:00",
           end_time="11:00", location="12 Jupiter St, Makati").ok()
    for api, action in ((t1, "accept"), (d1, "confirm"), (op, "start"), (d1, "start_journey"),
                        (d1, "arrive"), (d1, "drop_off"), (t1, "start_session")):
        api.cmd(f"appointment.{action}", aid).ok()
        if action == until:
            break
    return aid


def test_upload_serve_and_pay_with_it(op: Api, t1: Api, d1: Api) -> None:
    aid = booked(op, t1, d1)
    photo = png(1)
    head = op.cursor()
    # the therapist at the door: declared as anything, recognised by its bytes
    r = upload(t1, aid, photo, "application/octet-stream")
    assert r.status_code == 201, r.text
    about = r.json()
    rid = hashlib.sha256(photo).hexdigest()
    assert about["id"] == rid
    assert (about["content_type"], about["size"], about["uploaded_by"]) == (
        "image/png", len(photo), t1.id)
    again = upload(t1, aid, photo)  # the same photo: the same receipt
    assert (again.status_code, again.json()["id"]) == (200, rid)
    assert op.cursor() == head  # an upload is no event

    t1.cmd("appointment.request_payment", aid, method="gcash", receipt_id=rid).ok()
    for api in (op, t1):  # everyone who sees the appointment sees the photo
        served = api.get(f"/api/appointments/{aid}/receipts/{rid}")
        assert served.status_code == 200
        assert served.content == photo
        assert served.headers["content-type"] == "image/png"
        listed = api.get(f"/api/appointments/{aid}/receipts").json()["receipts"]
        assert [x["id"] for x in listed] == [rid]

    record = op.cmd("appointment.verify_payment", aid, method="gcash", amount=1500,
                    receipt_id=rid).ok().record
    assert record["payment"]["receipt_id"] == rid
    assert record["payment_claim"] == {"method": "gcash", "receipt_id": rid}
    summaries = [e["summary"] for e in
                 op.get(f"/api/appointments/{aid}/timeline").json()["entries"]]
    assert "requested payment: paid by GCash and attached a receipt photo" in summaries
    assert "verified a GCash payment of 1,500 with a receipt photo" in summaries
    # the frames name the receipt, never carry it
    frames = [e for e in op.events(head)]
    assert frames and all(photo.hex() not in str(e) and "IDAT" not in str(e) for e in frames)


def test_a_therapist_never_sees_receipts_not_hers(op: Api, t1: Api, t2: Api,
                                                  d1: Api) -> None:
    aid = booked(op, t1, d1)
    photo = png(2)
    rid = upload(op, aid, photo).json()["id"]
    not_yours = "That appointment doesn't exist or isn't yours."
    for r in (t2.get(f"/api/appointments/{aid}/receipts/{rid}"),
              t2.get(f"/api/appointments/{aid}/receipts"),
              upload(t2, aid, png(3))):
        assert r.status_code == 404, r.text
        assert (r.json()["code"], r.json()["message"]) == ("not_found", not_yours)
    # an id that exists elsewhere is not found under another appointment
    other = booked(op, t2, d1, until="accept")
    missing = op.get(f"/api/appointments/{other}/receipts/{rid}")
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    # nor are unknown appointments, nor without signing in
    assert op.get(f"/api/appointments/{uuid.uuid4()}/receipts/{rid}").status_code == 404
    anon = loopback.get(f"{op.srv.url}/api/appointments/{aid}/receipts/{rid}", timeout=10)
    assert anon.status_code == 401


@pytest.mark.parametrize(
    ("data", "content_type", "status", "code"),
    [
        (b"GIF89a" + b"\x00" * 64, "image/gif", 415, "not_an_image"),
        (b"%PDF-1.7 a statement", "image/png", 415, "not_an_image"),  # the label lies
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml", 415, "not_an_image"),
        (b"", "image/png", 415, "not_an_image"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * LIMIT, "image/png", 413, "too_large"),
        (b"\xff\xd8\xff" + b"\x00" * (4 * LIMIT), "image/jpeg", 413, "too_large"),
    ],
)
def test_refusals(op: Api, t1: Api, d1: Api, data: bytes, content_type: str, status: int,
                  code: str) -> None:
    aid = booked(op, t1, d1, until="accept")
    r = upload(op, aid, data, content_type)
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    assert (body["status"], body["code"]) == ("rejected", code)
    assert "Traceback" not in body["message"]
    words = "too large" if code == "too_large" else "JPEG, PNG, WebP or HEIC"
    assert words in body["message"]
    assert op.get(f"/api/appointments/{aid}/receipts").json()["receipts"] == []


def test_too_large_without_a_length(op: Api, t1: Api, d1: Api) -> None:
    """A chunked upload (no Content-Length) is cut off at the limit too."""
    aid = booked(op, t1, d1, until="accept")

    def chunks() -> Iterator[bytes]:
        yield b"\x89PNG\r\n\x1a\n"
        for _ in range(8):
            yield b"\x00" * (LIMIT // 4)

    r = loopback.post(f"{op.srv.url}/api/appointments/{aid}/receipts", content=chunks(),
                   headers=op.headers, timeout=30)
    assert (r.status_code, r.json()["code"]) == (413, "too_large")


def test_other_routes_keep_their_body_limit(op: Api) -> None:
    """The receipt limit is the upload route's only: commands stay at 256 KiB."""
    body = op.body("client.create", str(uuid.uuid4()), first_name="x" * (300 * 1024))
    r = loopback.post(f"{op.srv.url}/api/commands", json=body, headers=op.headers, timeout=30)
    assert (r.status_code, r.json()["code"]) == (413, "too_large")
    assert "KiB" in r.json()["message"]


async def test_the_client_side_calls(op: Api, t1: Api, t2: Api, d1: Api,
                                     srv: ServerProcess) -> None:
    """services.Client, the views' port (views/port.py): upload,
    fetch, the sales CSV; refusals as ServerRefused in the server's words."""
    from services.client import Client
    from testkit.server import DEMO_PASSWORD
    from views.port import ServerRefused

    aid = booked(op, t1, d1)
    mine = await Client.start(srv.url, "therapist1", DEMO_PASSWORD)
    other = await Client.start(srv.url, "therapist2", DEMO_PASSWORD)
    boss = await Client.start(srv.url, "operator", DEMO_PASSWORD)
    try:
        photo = png(9)
        rid = await mine.upload_receipt(aid, photo)
        assert rid == hashlib.sha256(photo).hexdigest()
        assert await boss.receipt(aid, rid) == photo
        with pytest.raises(ServerRefused) as refused:
            await other.receipt(aid, rid)
        assert refused.value.code == "not_found"
        with pytest.raises(ServerRefused) as refused:
            await mine.upload_receipt(aid, b"%PDF-1.7")
        assert refused.value.code == "not_an_image" and "JPEG" in refused.value.message
        with pytest.raises(ServerRefused) as refused:
            await mine.upload_receipt(aid, b"\x89PNG\r\n\x1a\n" + b"\0" * (2 * LIMIT))
        assert refused.value.code == "too_large" and "too large" in refused.value.message
        text = (await boss.sales_csv("month", None, None)).decode("utf-8-sig")
        assert text.startswith("month,label,sessions,total,cash,gcash,bank_transfer,card")
        with pytest.raises(ServerRefused) as refused:
            await mine.sales_csv("day", None, None)
        assert refused.value.code == "forbidden"
    finally:
        for c in (mine, other, boss):
            await c.stop()
