"""Actions that ask for more (reject, complete, pickup), duty, and labels."""

from __future__ import annotations

import flet as ft

from domain.status import Status
from testkit.flet_harness import Harness, descendants
from tests.views.conftest import Mount
from tests.views.data import DRIVER, OPERATOR, THERAPIST, appointment, world
from tests.views.fake_client import FakeClient


def dialog(h: Harness) -> ft.AlertDialog:
    open_ = [d for d in h.page._dialogs.controls if isinstance(d, ft.AlertDialog) and d.open]
    assert len(open_) == 1, open_
    return open_[0]


async def test_reject_needs_a_reason(mount: Mount) -> None:
    client = FakeClient(THERAPIST, world(appointment("a1", Status.PENDING)))
    h = await mount(client)
    await h.click(h.button("Reject", within=h.semantics("appt-a1")))
    dlg = dialog(h)
    await h.click(h.button("Reject", within=dlg))
    assert not client.dispatched
    assert h.field("Reason").error == "Please say why."
    await h.type_text(h.field("Reason"), "I'm unwell today")
    await h.click(h.button("Reject", within=dialog(h)))
    assert [(c.name, dict(c.args)) for c in client.dispatched] == [
        ("appointment.reject", {"reason": "I'm unwell today"})
    ]
    assert "Rejected — operator to review" in h.texts(h.semantics("appt-a1"))


async def test_complete_with_materials(mount: Mount) -> None:
    client = FakeClient(THERAPIST, world(appointment("a1", Status.PAYMENT_VERIFIED)))
    h = await mount(client)
    await h.click(h.button("Complete", within=h.semantics("appt-a1")))
    await h.type_text(h.field("Materials used (optional)"), "Massage oil 2\nTowels")
    await h.click(h.button("Complete", within=dialog(h)))
    assert dict(client.dispatched[0].args) == {
        "materials": [{"name": "Massage oil", "quantity": 2}, {"name": "Towels", "quantity": 1}]
    }
    assert h.buttons_in(h.semantics("appt-a1")) == ["Request pickup"]


async def test_request_pickup_with_urgency_and_notes(mount: Mount) -> None:
    client = FakeClient(THERAPIST, world(appointment("a1", Status.COMPLETED)))
    h = await mount(client)
    await h.click(h.button("Request pickup", within=h.semantics("appt-a1")))
    group = next(c for c in descendants(dialog(h)) if isinstance(c, ft.RadioGroup))
    await h.toggle(group, "urgent")
    await h.type_text(h.field("Notes for the driver"), "Gate 2, by the pharmacy")
    await h.click(h.button("Request pickup", within=dialog(h)))
    cmd = client.dispatched[0]
    assert (cmd.name, dict(cmd.args)) == (
        "appointment.request_pickup",
        {"urgency": "urgent", "notes": "Gate 2, by the pharmacy"},
    )


async def test_driver_goes_off_and_on_duty(mount: Mount) -> None:
    client = FakeClient(DRIVER, world())
    h = await mount(client, width=390, height=844)
    switch = h.semantics("duty").content
    assert isinstance(switch, ft.Switch) and switch.value is True
    await h.toggle(switch, False)
    assert client.view().get("staff", "d1")["on_duty"] is False  # type: ignore[index]
    assert switch.label == "Off duty"


async def test_every_actionable_control_has_a_label(mount: Mount) -> None:
    appts = [appointment(f"a{i}", s, start=f"{8 + i:02d}:00") for i, s in enumerate(Status)]
    for user, width in ((THERAPIST, 820), (DRIVER, 390), (OPERATOR, 1440)):
        client = FakeClient(user, world(*appts))
        if user is not OPERATOR:  # a slot, so the availability rows are checked too
            slot = {"date": appts[0]["date"], "start_time": "09:00", "end_time": "10:00"}
            assert (await client.dispatch("availability.create", "s1", slot)).ok
        h = await mount(client, width=width, height=900)
        for c in h.all():
            if isinstance(c, ft.Button | ft.TextButton):
                assert isinstance(c.content, str) and c.content.strip(), c
            elif isinstance(c, ft.IconButton):
                parent = c.parent
                assert isinstance(parent, ft.Semantics) and parent.label, c
            elif isinstance(c, ft.Switch | ft.TextField):
                assert c.label, c
        cards = [s for s in h.by_type(ft.Semantics) if str(s.identifier or "").startswith("appt-")]
        assert {s.identifier for s in cards} >= {f"appt-{a['id']}" for a in appts[:5]}
