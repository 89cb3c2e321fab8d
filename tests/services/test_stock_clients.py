"""Stock through real clients (issue 16): the therapist's completion takes the
oil at once on her device (optimistic, the same domain rules), the operator's
stock list and history follow, and each device ends exactly where the server
says it may: the therapist's holds the stock list but no history."""

from __future__ import annotations

import pytest

from testkit.server import ServerProcess
from tests.services.helpers import (
    appt,
    booking,
    new_id,
    server_state,
    sign_in,
    until,
    view_state,
)


@pytest.fixture
def srv(staff_server: ServerProcess) -> ServerProcess:
    return staff_server


async def test_completion_takes_stock_on_the_device_then_everywhere(srv: ServerProcess) -> None:
    op = await sign_in(srv, "operator")
    t1 = await sign_in(srv, "therapist1")
    d1 = await sign_in(srv, "driver1")
    try:
        await until(lambda: "online" == op.status == t1.status == d1.status)
        mid = new_id()
        args = {"name": f"Oil {mid[:6]}", "unit": "ml", "on_hand": 40, "reorder_level": 10}
        assert op.dispatch_now("material.create", mid, args).ok
        await until(lambda: t1.view().get("material", mid) is not None, what="t1 sees the stock")

        aid = new_id()
        assert (await op.dispatch("appointment.create", aid, booking(op, "therapist1"))).ok
        await until(lambda: t1.view().get("appointment", aid) is not None)
        steps = [(t1, "accept", {}), (d1, "confirm", {}), (op, "start", {}),
                 (d1, "start_journey", {}), (d1, "arrive", {}), (d1, "drop_off", {}),
                 (t1, "start_session", {}), (t1, "request_payment", {}),
                 (op, "verify_payment", {"method": "cash", "amount": 800})]
        for who, action, extra in steps:
            await until(lambda who=who: who.view().get("appointment", aid) is not None)
            result = await who.dispatch(f"appointment.{action}", aid, extra)
            assert result.ok, (action, result.message)
            await who.wait_idle()
        await until(lambda: appt(t1, aid)["status"] == "payment_verified")

        used = {"materials": [{"material_id": mid, "quantity": 50}]}
        assert t1.dispatch_now("appointment.complete", aid, used).ok
        # at once, on her device: the oil is gone (below zero) and the session done
        assert t1.view().get("material", mid)["on_hand"] == -10  # type: ignore[index]
        assert appt(t1, aid)["status"] == "completed"

        await until(lambda: (op.view().get("material", mid) or {}).get("on_hand") == -10,
                    what="the operator's stock list follows")
        await until(lambda: any(m.get("material_id") == mid for m in op.view().all("stock_move")),
                    what="the operator's history follows")
        for client, name in ((op, "operator"), (t1, "therapist1")):
            await client.wait_idle()
            await until(lambda c=client, n=name: view_state(c) == server_state(srv, n),
                        what=f"{name} converges")
        assert not list(t1.view().all("stock_move"))  # never on her device once confirmed
    finally:
        await op.stop()
        await t1.stop()
        await d1.stop()
