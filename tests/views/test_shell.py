"""The shell: connection indicator, waiting marks, snackbars, navigation."""

from __future__ import annotations

from domain.status import Status
from tests.views.conftest import Mount
from tests.views.data import DRIVER, appointment, world
from tests.views.fake_client import FakeClient
from views.port import Link


async def test_indicator_follows_the_link_and_counts_waiting_changes(mount: Mount) -> None:
    client = FakeClient(DRIVER, world(appointment("a1", Status.IN_PROGRESS)))
    h = await mount(client, width=390, height=844)
    indicator = h.semantics("connection")
    assert indicator.label == "Connection: Online"

    await client.set_link(Link.OFFLINE)
    await h.settle()
    assert indicator.label == "Connection: Offline"

    await h.click(h.button("Start journey", within=h.semantics("appt-a1")))
    await h.settle()
    assert indicator.label == "Connection: Offline — 1 change waiting"
    card = h.semantics("appt-a1")
    assert "Waiting to sync" in h.texts(card)
    assert "En route — tap Arrive when you get there" in h.texts(card)

    await client.set_link(Link.ONLINE)
    await client.ack()
    await h.settle()
    assert indicator.label == "Connection: Online"
    assert "Waiting to sync" not in h.texts(h.semantics("appt-a1"))
