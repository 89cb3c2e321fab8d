"""A tab whose browser went away (closed, or its link dropped) while its
client still runs: changes for it raise nothing (the terminal showed
"'NoneType' object has no attribute 'loop'" and "coroutine 'Shell.apply'
was never awaited"), and a tab that comes back shows what it missed."""

from __future__ import annotations

import gc
import warnings

import flet as ft

from domain.status import Status
from testkit.flet_harness import RecordingConnection
from tests.views.conftest import Mount
from tests.views.data import DRIVER, appointment, world
from tests.views.fake_client import FakeClient


async def test_changes_while_away_raise_nothing_and_show_on_return(mount: Mount) -> None:
    appt = appointment("a1", Status.IN_PROGRESS)
    client = FakeClient(DRIVER, world(appt))
    h = await mount(client, width=390, height=844)
    await client.dispatch("appointment.start_journey", "a1", {})
    await h.settle()

    await h.session.disconnect(120)  # what Flet does when the tab's socket closes
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "coroutine ... was never awaited" fails the test
        await client.remote("appointment", {**appt, "version": 2, "location": "7 Acacia Lane"})
        await client.refuse("Can't start the journey: the operator cancelled it.")
        gc.collect()

    conn = RecordingConnection(h.loop)
    await h.session.connect(conn)  # the same tab is back (Flet re-attaches the session)
    await h.settle()

    assert "7 Acacia Lane" in h.texts(h.semantics("appt-a1"))
    bars = [d for d in h.page._dialogs.controls if isinstance(d, ft.SnackBar) and d.open]
    assert any(
        "the operator cancelled it" in str(b.content.label)  # type: ignore[union-attr]
        for b in bars
    )
    assert conn.patches(), "what it missed reaches the browser"
