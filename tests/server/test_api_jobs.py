"""Pickup assignment (automatic, by the job, manual, and two operators racing)
and the overdue sweep (job and manual, idempotent)."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson
import pytest

from testkit import loopback
from testkit.server import ServerProcess
from tests.server.helpers import (
    Answer,
    Api,
    fresh_day,
    log_rows,
    make_world,
    new_client,
    service_id,
)

PATH_TO_COMPLETED = (
    ("therapist", "accept"), ("driver", "confirm"), ("operator", "start"),
    ("driver", "start_journey"), ("driver", "arrive"), ("driver", "drop_off"),
    ("therapist", "start_session"), ("therapist", "request_payment"),
    ("operator", "verify_payment"), ("therapist", "complete"),
)


def completed_appointment(op: Api, t: Api, d: Api) -> str:
    day = fresh_day()
    make_world(op, day, [t.username])
    aid = str(uuid.uuid4())
    op.cmd("appointment.create", aid, client_id=new_client(op), service_ids=[service_id(op)],
           therapist_ids=[t.id], driver_id=d.id, date=day, start_time="10:00",
           end_time="11:00", location="x").ok()
    who = {"therapist": t, "driver": d, "operator": op}
    for role, action in PATH_TO_COMPLETED:
        args: dict[str, Any] = {"method": "cash", "amount": 800} if action == "verify_payment" \
            else {}
        who[role].cmd(f"appointment.{action}", aid, **args).ok()
    return aid


def appointment(api: Api, aid: str) -> dict[str, Any]:
    return next(a for a in api.bootstrap()["appointments"] if a["id"] == aid)


def wait_for(check: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def team(srv: ServerProcess) -> tuple[Api, Api, Api, Api]:
    return Api(srv, "operator"), Api(srv, "therapist1"), Api(srv, "driver1"), Api(srv, "driver2")


def test_job_assigns_a_waiting_pickup_when_a_driver_comes_on_duty(
    server_factory: Callable[..., ServerProcess],
) -> None:
    srv = server_factory(seed="staff")
    op, t1, d1, d2 = team(srv)
    aid = completed_appointment(op, t1, d1)
    for d in (d1, d2):
        d.cmd("staff.set_duty", d.id, on_duty=False).ok()
    waiting = t1.cmd("appointment.request_pickup", aid, urgency="normal").ok().record
    assert waiting["status"] == "pickup_requested" and waiting["pickup_driver_id"] is None
    assert any(n["kind"] == "pickup_requested" for n in op.bootstrap()["notifications"])

    d2.cmd("staff.set_duty", d2.id, on_duty=True).ok()  # kicks the job
    wait_for(lambda: appointment(op, aid)["status"] == "driver_assigned_pickup")
    appt = appointment(op, aid)
    assert appt["pickup_driver_id"] == d2.id and appt["pickup_assigned_by"] == "system"
    assert aid in {a["id"] for a in d2.bootstrap()["appointments"]}
    d2.cmd("appointment.confirm_pickup", aid).ok()
    done = d2.cmd("appointment.complete_return", aid).ok().record
    assert done["status"] == "transport_completed"


def test_operator_assigns_manually_and_a_busy_driver_is_refused(
    server_factory: Callable[..., ServerProcess],
) -> None:
    srv = server_factory(seed="staff", args=("--pickup-interval", "0"))  # job off
    op, t1, d1, d2 = team(srv)
    aid = completed_appointment(op, t1, d1)
    for d in (d1, d2):
        op.cmd("staff.set_duty", d.id, on_duty=False).ok()
    t1.cmd("appointment.request_pickup", aid, urgency="urgent").ok()
    busy = op.cmd("appointment.assign_pickup_driver", aid, driver_id=d1.id)
    assert (busy.status, busy.code) == (409, "driver_busy")
    nobody = op.cmd("appointment.assign_pickup_driver", aid, driver_id=t1.id)
    assert (nobody.status, nobody.code) == (404, "not_found")
    op.cmd("staff.set_duty", d1.id, on_duty=True).ok()
    rec = op.cmd("appointment.assign_pickup_driver", aid, driver_id=d1.id).ok().record
    assert rec["status"] == "driver_assigned_pickup" and rec["pickup_driver_id"] == d1.id
    wrong = d2.cmd("appointment.confirm_pickup", aid)
    assert (wrong.status, wrong.code) == (404, "not_found")  # not theirs to see


def test_two_operators_race_to_assign_different_drivers(
    server_factory: Callable[..., ServerProcess],
) -> None:
    srv = server_factory(seed="staff", args=("--pickup-interval", "0"))
    op, t1, d1, d2 = team(srv)
    op2 = Api(srv, "operator")  # a second operator device
    for round_ in range(3):
        aid = completed_appointment(op, t1, d1)
        for d in (d1, d2):
            op.cmd("staff.set_duty", d.id, on_duty=False).ok()
        t1.cmd("appointment.request_pickup", aid, urgency="normal").ok()
        for d in (d1, d2):
            op.cmd("staff.set_duty", d.id, on_duty=True).ok()
        bodies = [op.body("appointment.assign_pickup_driver", aid, driver_id=d1.id),
                  op2.body("appointment.assign_pickup_driver", aid, driver_id=d2.id)]
        with ThreadPoolExecutor(2) as pool:
            answers: list[Answer] = list(pool.map(
                lambda pair: pair[0].send(pair[1]), zip((op, op2), bodies, strict=True)))
        statuses = sorted(a.status for a in answers)
        assert statuses == [200, 409], [a.body for a in answers]
        winner = next(a for a in answers if a.status == 200)
        loser = next(a for a in answers if a.status != 200)
        assert loser.code == "invalid_transition" and "already" in loser.body["message"]
        final = appointment(op, aid)
        assert final["pickup_driver_id"] == winner.record["pickup_driver_id"]
        assert final["version"] == winner.record["version"]
        # Finish the trip so both drivers are free for the next round.
        pickup = d1 if final["pickup_driver_id"] == d1.id else d2
        pickup.cmd("appointment.confirm_pickup", aid).ok()
        pickup.cmd("appointment.complete_return", aid).ok()
        del round_


def test_overdue_appointments_are_auto_cancelled_once(
    server_factory: Callable[..., ServerProcess],
) -> None:
    srv = server_factory(seed="staff", args=("--response-minutes", "0",
                                             "--auto-cancel-interval", "0.3"))
    op, t1, _, _ = team(srv)
    day = fresh_day()
    make_world(op, day, ["therapist1"])
    aid = str(uuid.uuid4())
    op.cmd("appointment.create", aid, client_id=new_client(op), service_ids=[service_id(op)],
           therapist_ids=[t1.id], date=day, start_time="10:00", end_time="11:00",
           location="x").ok()
    wait_for(lambda: appointment(op, aid)["status"] == "auto_cancelled")
    late = t1.cmd("appointment.accept", aid)
    assert (late.status, late.code) == (409, "invalid_transition")
    # The operator's manual sweep finds nothing left: idempotent, no new events.
    before = len(log_rows(srv))
    sweep = op.cmd("appointments.auto_cancel_overdue").ok()
    assert sweep.body["changes"] == []
    time.sleep(0.7)  # two more job runs
    assert len(log_rows(srv)) == before
    cancels = [r for r in log_rows(srv) if r["id"] == aid and r["cause"] ==
               "appointments.auto_cancel_overdue"]
    assert len(cancels) == 1
    assert any(n["kind"] == "auto_cancelled" for n in t1.bootstrap()["notifications"])


def test_only_operators_sweep(staff_server: ServerProcess) -> None:
    t1 = Api(staff_server, "therapist1")
    a = t1.cmd("appointments.auto_cancel_overdue")
    assert (a.status, a.code) == (403, "forbidden")
    a = t1.cmd("appointments.auto_assign_pickups")
    assert (a.status, a.code) == (403, "forbidden")


@pytest.mark.slow  # races the job many times
def test_the_manual_sweep_racing_the_job_cancels_each_appointment_once(
    server_factory: Callable[..., ServerProcess],
) -> None:
    """Bookings that are overdue the moment they exist (response window 0),
    the job sweeping every 50 ms and two operator devices sweeping again and
    again, all at once: each appointment is auto-cancelled exactly once, by
    whichever sweep came first, and each person is told once."""
    srv = server_factory(seed="staff", args=("--response-minutes", "0",
                                             "--auto-cancel-interval", "0.05",
                                             "--pickup-interval", "0"))
    op, op2 = Api(srv, "operator"), Api(srv, "operator")
    therapists = [Api(srv, f"therapist{i}") for i in (1, 2, 3)]
    client, service = new_client(op), service_id(op)
    made: list[str] = []
    stop = threading.Event()
    sweeps: list[Answer] = []

    def sweep(api: Api) -> None:
        while not stop.is_set():
            sweeps.append(api.cmd("appointments.auto_cancel_overdue").ok())
            # a pause of 0-60 ms: back to back, on a fast machine the devices
            # took every booking within a few ms of its commit and the job,
            # every 50 ms, never got one (540 of 540 in a CI run)
            stop.wait(random.uniform(0, 0.06))

    def winners() -> Counter[str]:
        return Counter(a.get("auto_cancelled_by") for a in op.bootstrap()["appointments"]
                       if a["id"] in made and a["status"] == "auto_cancelled")

    with ThreadPoolExecutor(2) as pool:
        sweepers = [pool.submit(sweep, api) for api in (op, op2)]
        try:
            # Rounds until each kind of sweep has won some (the job wins ~1 in 3)
            # and the devices have swept a dozen times.
            for round_ in range(60):
                if round_ >= 6 and len(winners()) == 2 and len(sweeps) > 12:
                    break
                day = fresh_day()
                make_world(op, day, [t.username for t in therapists])
                batch = []
                for n in range(3):
                    for t in therapists:
                        aid = str(uuid.uuid4())
                        made.append(aid)
                        batch.append(op.body(
                            "appointment.create", aid, client_id=client, service_ids=[service],
                            therapist_ids=[t.id], date=day, start_time=f"1{n}:00",
                            end_time=f"1{n}:30", location="x"))
                r = loopback.post(srv.url + "/api/commands/batch", json={"commands": batch},
                               headers=op.headers, timeout=30)
                assert [x["status_code"] for x in r.json()["results"]] == [200] * len(batch)
        finally:
            stop.set()
            for f in sweepers:
                f.result()
    wait_for(lambda: all(a["status"] == "auto_cancelled" for a in op.bootstrap()["appointments"]
                         if a["id"] in made))

    rows = log_rows(srv)
    cause = "appointments.auto_cancel_overdue"
    cancels = Counter(r["id"] for r in rows if r["entity"] == "appointment"
                      and r["cause"] == cause)
    assert cancels == dict.fromkeys(made, 1)
    notes = Counter((n["appointment_id"], n["user_id"])
                    for r in rows if r["entity"] == "notification" and r["cause"] == cause
                    for n in [orjson.loads(r["data"])])
    assert set(notes.values()) == {1} and len(notes) == 2 * len(made)  # operator + therapist
    by = winners()
    assert set(by) <= {"system", op.id} and len(sweeps) > 12, (by, len(sweeps))
    assert by["system"] > 0 and by[op.id] > 0, by  # both sweeps were in the race
