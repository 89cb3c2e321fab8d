"""The shell: connection indicator, waiting marks, snackbars, navigation."""

from __future__ import annotations

from domain.status import Status
from tests.views.conftest import Mount
from tests.views.data import DRIVER, appointment, world
from tests.views.fake_client import FakeClient
from views.port import Changed, Link, Notice


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


async def test_signed_out_goes_back_to_the_sign_in_screen(mount: Mount) -> None:
    client = FakeClient(DRIVER, world())
    h = await mount(client, width=390, height=844)
    await client._emit(
        Changed(notices=(Notice("Please sign in again.", ok=False),), signed_out=True)
    )
    await h.settle()
    assert client.stopped
    assert h.field("Username") is not None and not h.has_semantics("connection")
