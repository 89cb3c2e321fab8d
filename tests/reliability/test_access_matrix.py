"""Every role x every command x own / someone else's record, over real HTTP.

The expected answer comes from tests/reliability/access.py (written down from
docs/architecture.md), never from the server. Appointment actions are tried in
the status where they are legal, so the only reason left to refuse is who is
asking: refusals must be 403 forbidden or 404 not_found (the record is hidden),
and must change nothing (the rightful party then succeeds from the same version).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from testkit.server import ServerProcess
from tests.reliability.access import ACTORS, CONTRACT_COMMANDS, PARTY, args_for, prefix
from tests.reliability.wire import Device, Reply, book, fresh_day

USERS = {"operator": "operator", "therapist_own": "therapist1",
         "therapist_other": "therapist2", "driver_own": "driver1", "driver_other": "driver2"}
REFUSED = {(403, "forbidden"), (404, "not_found")}


class World:
    def __init__(self, srv: ServerProcess) -> None:
        self.dev = {key: Device(srv, name) for key, name in USERS.items()}
        self.ids = {key: d.id for key, d in self.dev.items()}
        boot = self.dev["operator"].bootstrap()
        self.service = str(boot["services"][0]["id"])
        self.client = str(boot["clients"][0]["id"])

    @property
    def op(self) -> Device:
        return self.dev["operator"]

    def run(self, who: str, action: str, appt: dict[str, Any]) -> Reply:
        name = "appointment." + action
        base = appt["version"] if action == "update" else None
        return self.dev[who].cmd(name, appt["id"], base, **args_for(action, self.ids))

    def set_drivers_on_duty(self, on: bool) -> None:
        for key in ("driver_own", "driver_other"):
            self.op.ok("staff.set_duty", self.ids[key], on_duty=on)

    def walk_to(self, action: str) -> dict[str, Any]:
        """A fresh booking (therapist_own, driver_own) where `action` is legal."""
        appt = book(self.op, therapist=self.ids["therapist_own"],
                    driver=self.ids["driver_own"], client_id=self.client,
                    service_id=self.service)
        for step, who in prefix(action):
            if step == "request_pickup":  # nobody free: it waits for the operator
                self.set_drivers_on_duty(False)
            reply = self.run(who, step, appt)
            if step == "request_pickup":
                self.set_drivers_on_duty(True)
            assert reply.applied, (action, step, reply.body)
            appt = reply.record
        return appt

    def tidy(self, appt: dict[str, Any]) -> None:
        """Cancel what is left open so no driver stays busy for the next cell."""
        self.op.cmd("appointment.cancel", appt["id"], reason="tidy")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    env = {"TANDEM_PICKUP_INTERVAL": "0", "TANDEM_AUTO_CANCEL_INTERVAL": "0"}
    with ServerProcess(tmp_path_factory.mktemp("access"), seed="staff", env=env) as srv:
        w = World(srv)
        yield w
        for d in w.dev.values():
            d.close()


def assert_refused(reply: Reply, context: object) -> None:
    assert (reply.status, reply.body.get("code")) in REFUSED, (context, reply.body)
    assert reply.body["status"] == "rejected" and reply.body["message"], (context, reply.body)


@pytest.mark.parametrize("action", sorted(PARTY))
def test_appointment_actions(world: World, action: str) -> None:
    allowed = PARTY[action]
    appt = world.walk_to(action)
    for who in ACTORS:
        if who not in allowed:
            assert_refused(world.run(who, action, appt), (action, who))
    for i, who in enumerate(sorted(allowed)):
        target = appt if i == 0 else world.walk_to(action)
        reply = world.run(who, action, target)
        assert reply.applied, (action, who, reply.body)
        # Nothing the refused attempts did: the rightful one moved it by one version.
        assert reply.record["version"] == target["version"] + 1, (action, reply.record)
        world.tidy(reply.record)


def test_only_the_operator_books_and_manages_clients(world: World) -> None:
    for who in ACTORS:
        dev = world.dev[who]
        day = fresh_day()
        world.op.ok("availability.create", str(uuid.uuid4()), user_id=world.ids["therapist_own"],
                    date=day, start_time="07:00", end_time="23:00", available=True)
        create = dev.cmd("appointment.create", str(uuid.uuid4()), client_id=world.client,
                         service_ids=[world.service], therapist_ids=[world.ids["therapist_own"]],
                         date=day, start_time="10:00", end_time="11:00", location="2 Test St")
        new_client = dev.cmd("client.create", str(uuid.uuid4()), first_name="Ana",
                             last_name="Cruz", phone="+63 900 111 2222", address="3 Test St")
        edit_client = dev.cmd("client.update", world.client, notes=f"by {who}")
        overdue = dev.cmd("appointments.auto_cancel_overdue")
        for reply in (create, new_client, edit_client, overdue):
            if who == "operator":
                assert reply.applied, (who, reply.body)
            else:
                assert_refused(reply, who)


@pytest.mark.parametrize("owner", ["therapist_own", "driver_own"])
def test_availability_and_duty_are_own_or_operator(world: World, owner: str) -> None:
    """Records owned by `owner`: only the owner and the operator may touch them."""
    allowed = {"operator", owner}
    for who in ACTORS:
        dev, ok = world.dev[who], who in allowed
        slot = world.op.ok("availability.create", str(uuid.uuid4()), user_id=world.ids[owner],
                           date=fresh_day(), start_time="08:00", end_time="12:00",
                           available=True)
        replies = [
            dev.cmd("availability.create", str(uuid.uuid4()), user_id=world.ids[owner],
                    date=fresh_day(), start_time="08:00", end_time="12:00", available=True),
            dev.cmd("availability.bulk_create", None, user_id=world.ids[owner],
                    date=fresh_day(), slots=[{"start_time": "08:00", "end_time": "09:00"}]),
            dev.cmd("availability.update", slot["id"], slot["version"], available=False),
            dev.cmd("staff.set_duty", world.ids[owner], on_duty=True),
            dev.cmd("availability.delete", slot["id"]),
        ]
        for i, reply in enumerate(replies):
            if ok:
                assert reply.applied, (owner, who, i, reply.body)
            else:
                assert_refused(reply, (owner, who, i))


def test_notifications_are_their_owners_only(world: World) -> None:
    appt = book(world.op, therapist=world.ids["therapist_own"], driver=world.ids["driver_own"],
                client_id=world.client, service_id=world.service)
    world.tidy(appt)
    mine = [n for n in world.dev["therapist_own"].bootstrap()["notifications"]
            if not n.get("read")]
    assert mine, "booking a therapist notifies them"
    note = mine[0]
    for who in ACTORS:
        if who != "therapist_own":
            assert_refused(world.dev[who].cmd("notification.mark_read", note["id"]), who)
            assert world.dev[who].cmd("notification.mark_all_read").applied, who
    still = {n["id"]: n for n in world.dev["therapist_own"].bootstrap()["notifications"]}
    assert not still[note["id"]].get("read"), "someone else's mark_all_read touched it"
    assert world.dev["therapist_own"].cmd("notification.mark_read", note["id"]).applied


def send(dev: Device, command: str, target: str, args: dict[str, Any]) -> Reply:
    """Device.cmd, for args that include `name`."""
    dev.seq += 1
    body = {"client_id": dev.client_id, "seq": dev.seq, "name": command, "target": target,
            "args": args}
    r = dev.http.post("/api/commands", json=body)
    return Reply(r.status_code, r.json())


def test_only_the_operator_runs_services_and_stock(world: World) -> None:
    """The operator's alone; every refusal changes nothing (the operator's
    update then moves each record by exactly one version)."""
    material = send(world.op, "material.create", str(uuid.uuid4()), {
        "name": f"Oil {uuid.uuid4().hex[:6]}", "unit": "ml", "on_hand": 100,
        "reorder_level": 10}).record
    service = send(world.op, "service.create", str(uuid.uuid4()), {
        "name": f"Stone {uuid.uuid4().hex[:6]}", "minutes": 60, "price": 900}).record
    for who in ACTORS:
        dev = world.dev[who]
        tag = uuid.uuid4().hex[:6]
        replies = [
            send(dev, "service.create", str(uuid.uuid4()),
                 {"name": f"Svc {tag}", "minutes": 30, "price": 500}),
            dev.cmd("service.update", service["id"], price=950),
            send(dev, "material.create", str(uuid.uuid4()),
                 {"name": f"Mat {tag}", "unit": "ml", "on_hand": 1, "reorder_level": 0}),
            dev.cmd("material.update", material["id"], reorder_level=20),
            dev.cmd("material.restock", material["id"], quantity=5),
        ]
        for i, reply in enumerate(replies):
            if who == "operator":
                assert reply.applied, (who, i, reply.body)
            else:
                assert_refused(reply, (who, i))
    stock = {m["id"]: m for m in world.op.bootstrap()["materials"]}[material["id"]]
    assert (stock["on_hand"], stock["version"]) == (105, 3)  # the operator's two changes


def test_only_the_operator_manages_staff_and_passwords_are_your_own(world: World) -> None:
    """staff.* are the operator's; account.change_password is each person's
    for their own account only. Refusals change nothing: the target's
    version moves only by the operator's one change."""
    target = world.ids["driver_other"]
    spare = send(world.op, "staff.create", str(uuid.uuid4()), {
        "username": f"spare.{uuid.uuid4().hex[:6]}", "role": "therapist", "name": "Spare",
        "phone": "0917"}).record["id"]  # whose password is reset (the devices stay signed in)
    before = {s["id"]: s for s in world.op.bootstrap()["staff"]}[target]["version"]
    for who in ACTORS:
        dev = world.dev[who]
        tag = uuid.uuid4().hex[:6]
        replies = [
            send(dev, "staff.create", str(uuid.uuid4()), {
                "username": f"new.{tag}", "role": "driver", "name": f"New {tag}",
                "phone": "0917", "plate": "ABC 1"}),
            dev.cmd("staff.reset_password", spare),
        ]
        if who != "driver_other":
            replies.append(dev.cmd("staff.update", target, phone=f"0917 {tag}"))
        for other in ACTORS:
            if other != who:
                replies.append(dev.cmd("account.change_password", world.ids[other],
                                       current_password="demo1234", new_password="x" * 12))
        for i, reply in enumerate(replies):
            if who == "operator" and i < 3:
                assert reply.applied, (who, i, reply.body)
            else:
                assert_refused(reply, (who, i))
    after = {s["id"]: s for s in world.op.bootstrap()["staff"]}[target]["version"]
    assert after == before + 1


def test_everyone_clocks_in_and_out_of_their_own_shift_only(world: World) -> None:
    """Every role clocks in; nobody else (not even the operator) clocks them
    out; they do, once."""
    for who in ACTORS:
        dev = world.dev[who]
        shift = dev.cmd("attendance.clock_in", str(uuid.uuid4()))
        assert shift.applied, (who, shift.body)
        for other in ACTORS:
            if other != who:
                assert_refused(world.dev[other].cmd("attendance.clock_out", shift.record["id"]),
                               (other, who))
        assert dev.cmd("attendance.clock_out", shift.record["id"]).applied, who


# Commands the non-appointment tests above run for every actor.
OTHER_TESTED = {"appointment.create", "client.create", "client.update",
                "appointments.auto_cancel_overdue", "availability.create",
                "availability.bulk_create", "availability.update", "staff.set_duty",
                "availability.delete", "notification.mark_read", "notification.mark_all_read",
                "service.create", "service.update", "material.create", "material.update",
                "material.restock", "staff.create", "staff.update", "staff.reset_password",
                "account.change_password",
                "attendance.clock_in", "attendance.clock_out"}


def test_matrix_covers_every_command_of_the_contract() -> None:
    tested = {"appointment." + a for a in PARTY} | OTHER_TESTED
    assert tested >= CONTRACT_COMMANDS, CONTRACT_COMMANDS - tested


def test_the_copy_matches_the_architecture_docs_table() -> None:
    design = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"
    kinds = ("appointment.", "appointments.", "availability.", "client.", "staff.",
             "notification.", "service.", "material.", "account.", "attendance.")
    names: set[str] = set()
    for line in design.read_text(encoding="utf-8").splitlines():
        cell = line.split("|")[1].strip() if line.startswith("|") else ""
        if cell.startswith(kinds):  # "appointment.accept / confirm / …" rows too
            kind, _, rest = cell.partition(".")
            names.update(f"{kind}.{part.strip()}" for part in rest.split("/"))
    assert names == CONTRACT_COMMANDS, names ^ CONTRACT_COMMANDS


def test_the_copy_names_every_command_the_domain_knows() -> None:
    from domain.apply import COMMANDS

    # the pickup job's sweep is the server's own, outside the contract's table
    outside = COMMANDS - CONTRACT_COMMANDS
    assert outside == {"appointments.auto_assign_pickups"}
