"""Services, materials and stock through the real API (issue 16), on SQLite
and PostgreSQL: the operator runs the list, a completed session takes what
it used from stock in the same transaction as the completion (a write that
fails between them leaves neither), going below zero answers with a
warning, and a therapist never sees the stock history or the operators'
low-stock notices."""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from testkit.server import ServerProcess
from tests.server.helpers import Answer, Api, fresh_day, make_world, new_client, service_id
from tests.support.postgres import query


@pytest.fixture(scope="module")
def srv(staff_server: ServerProcess) -> ServerProcess:
    return staff_server


def cmd(api: Api, command: str, target: str | None = None, /, **args: Any) -> Answer:
    """Api.cmd, for args that include `name`."""
    body = api.body(command, target)
    body["args"] = args
    return api.send(body)


def material(op: Api, on_hand: float = 50, level: float = 40) -> dict[str, Any]:
    name = f"Oil {uuid.uuid4().hex[:6]}"
    return (
        cmd(
            op,
            "material.create",
            str(uuid.uuid4()),
            name=name,
            unit="ml",
            on_hand=on_hand,
            reorder_level=level,
        )
        .ok()
        .record
    )


def ready_to_complete(op: Api, t1: Api, d1: Api) -> dict[str, Any]:
    """An appointment of t1's with the payment verified."""
    day = fresh_day()
    make_world(op, day, [t1.username])
    aid = str(uuid.uuid4())
    cmd(
        op,
        "appointment.create",
        aid,
        client_id=new_client(op),
        service_ids=[service_id(op)],
        therapist_ids=[t1.id],
        driver_id=d1.id,
        date=day,
        start_time="10:00",
        end_time="11:00",
        location="12 Jupiter St, Makati",
    ).ok()
    for api, action in (
        (t1, "accept"),
        (d1, "confirm"),
        (op, "start"),
        (d1, "start_journey"),
        (d1, "arrive"),
        (d1, "drop_off"),
        (t1, "start_session"),
        (t1, "request_payment"),
    ):
        cmd(api, f"appointment.{action}", aid).ok()
    return cmd(op, "appointment.verify_payment", aid, method="cash", amount=900).ok().record


def by_id(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in rows}


def test_the_operator_runs_the_services(op: Api, t1: Api) -> None:
    sid = str(uuid.uuid4())
    name = f"Hot stone {sid[:6]}"
    assert cmd(t1, "service.create", sid, name=name, minutes=75, price=1300).status == 403
    created = cmd(op, "service.create", sid, name=name, minutes=75, price=1300).ok().record
    assert created["active"] is True and created["price"] == 1300
    assert by_id(t1.bootstrap()["services"])[sid]["name"] == name  # everyone sees services
    cmd(op, "service.update", sid, active=False).ok()
    day = fresh_day()
    make_world(op, day, [t1.username])
    answer = cmd(
        op,
        "appointment.create",
        str(uuid.uuid4()),
        client_id=new_client(op),
        service_ids=[sid],
        therapist_ids=[t1.id],
        date=day,
        start_time="10:00",
        end_time="11:00",
        location="12 Jupiter St",
    )
    assert answer.status == 422
    assert answer.body["message"] == f"{name} isn't offered any more: choose another service."
    bad = cmd(op, "service.update", sid, minutes=0)
    assert (bad.status, bad.body["message"]) == (422, "The minutes must be more than zero.")


def test_completing_takes_the_stock_with_a_warning_below_zero(op: Api, t1: Api, d1: Api) -> None:
    oil = material(op, on_hand=50, level=40)
    appt = ready_to_complete(op, t1, d1)
    head = op.cursor()
    answer = cmd(
        t1,
        "appointment.complete",
        appt["id"],
        materials=[{"material_id": oil["id"], "quantity": 60}],
    ).ok()
    assert answer.body["warnings"] == [f"{oil['name']} is now at -10 ml: restock it."]
    assert answer.record["materials"] == [
        {"material_id": oil["id"], "name": oil["name"], "quantity": 60.0}
    ]
    # the therapist's answer shows the stock she may see, not the history
    assert {c["entity"] for c in answer.body["changes"]} == {"appointment", "material"}

    boot = op.bootstrap()
    assert by_id(boot["materials"])[oil["id"]]["on_hand"] == -10
    (move,) = [m for m in boot["stock_moves"] if m["material_id"] == oil["id"]]
    assert (move["kind"], move["delta"], move["appointment_id"], move["by"]) == (
        "use",
        -60,
        appt["id"],
        t1.id,
    )
    low = [
        n
        for n in boot["notifications"]
        if n["kind"] == "low_stock" and n["text"].startswith(oil["name"])
    ]
    assert len(low) == 1
    # one command, one transaction: its events are consecutive, cause complete
    causes = {e["cause"] for e in op.events(head)}
    assert causes == {"appointment.complete"}

    # what the therapist may not see never reaches her
    t_boot = t1.bootstrap()
    assert by_id(t_boot["materials"])[oil["id"]]["on_hand"] == -10  # her picker's list
    assert t_boot["stock_moves"] == []
    assert not [n for n in t_boot["notifications"] if n["kind"] == "low_stock"]
    seen = {(e["entity"], (e["data"] or {}).get("kind")) for e in t1.events(head)}
    assert ("stock_move", "use") not in seen and ("notification", "low_stock") not in seen

    # further down: still low, so no new notice; a restock brings it back
    appt2 = ready_to_complete(op, t1, d1)
    quiet = cmd(
        t1,
        "appointment.complete",
        appt2["id"],
        materials=[{"material_id": oil["id"], "quantity": 5}, {"name": "towel", "quantity": 1}],
    ).ok()
    assert quiet.body["warnings"] == [f"{oil['name']} is now at -15 ml: restock it."]
    cmd(op, "material.restock", oil["id"], quantity=100, note="Lazada").ok()
    boot = op.bootstrap()
    assert by_id(boot["materials"])[oil["id"]]["on_hand"] == 85
    assert (
        len(
            [
                n
                for n in boot["notifications"]
                if n["kind"] == "low_stock" and n["text"].startswith(oil["name"])
            ]
        )
        == 1
    )
    assert cmd(t1, "material.restock", oil["id"], quantity=1).status == 403


def _refuse_material_updates(srv: ServerProcess, backend: str) -> Callable[[], None]:
    """Plant a trigger that makes any update of a material record fail (the
    server writes inserts first, then updates: the appointment's update and
    the stock move's insert are already in the transaction by then). Returns
    what takes it away."""
    if backend == "sqlite":
        path = srv.database_url.removeprefix("sqlite:///")

        def sql(statement: str) -> None:
            con = sqlite3.connect(path, timeout=30)
            try:
                con.execute(statement)
                con.commit()
            finally:
                con.close()

        sql(
            "CREATE TRIGGER refuse_stock BEFORE UPDATE ON records WHEN NEW.entity = 'material' "
            "BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END"
        )
        return lambda: sql("DROP TRIGGER refuse_stock")
    url = srv.database_url
    query(
        url,
        "CREATE FUNCTION refuse_stock() RETURNS trigger AS $$ BEGIN "
        "RAISE EXCEPTION 'refused by a test trigger'; END $$ LANGUAGE plpgsql",
    )
    query(
        url,
        "CREATE TRIGGER refuse_stock BEFORE UPDATE ON records FOR EACH ROW "
        "WHEN (NEW.entity = 'material') EXECUTE FUNCTION refuse_stock()",
    )
    return lambda: query(url, "DROP TRIGGER refuse_stock ON records") and None


def test_a_failed_stock_write_leaves_the_completion_undone_too(
    server_factory: Callable[..., ServerProcess], backend: str
) -> None:
    srv = server_factory(
        seed="staff", args=("--auto-cancel-interval", "0", "--pickup-interval", "0")
    )
    op, t1, d1 = Api(srv, "operator"), Api(srv, "therapist1"), Api(srv, "driver1")
    oil = material(op, on_hand=500, level=10)
    appt = ready_to_complete(op, t1, d1)
    head = op.cursor()
    undo = _refuse_material_updates(srv, backend)
    body = t1.body(
        "appointment.complete", appt["id"], materials=[{"material_id": oil["id"], "quantity": 30}]
    )  # (no `name`)
    failed = t1.send(body)
    assert failed.status in (500, 503) and failed.body["status"] == "rejected", failed.body
    # neither: the appointment still waits, the stock is whole, no history, no events
    boot = op.bootstrap()
    assert by_id(boot["appointments"])[appt["id"]]["status"] == "payment_verified"
    assert by_id(boot["materials"])[oil["id"]]["on_hand"] == 500
    assert not [m for m in boot["stock_moves"] if m["material_id"] == oil["id"]]
    assert op.events(head) == [] and op.cursor() == head
    undo()
    # the same command again (not remembered as failed): applied, once
    deadline = time.monotonic() + 10
    again = t1.send(body)
    while again.status == 503 and time.monotonic() < deadline:  # busy: try again
        time.sleep(0.2)
        again = t1.send(body)
    again.ok()
    assert t1.send(body).ok().body == again.body  # exactly once
    boot = op.bootstrap()
    assert by_id(boot["appointments"])[appt["id"]]["status"] == "completed"
    assert by_id(boot["materials"])[oil["id"]]["on_hand"] == 470
    assert len([m for m in boot["stock_moves"] if m["material_id"] == oil["id"]]) == 1
