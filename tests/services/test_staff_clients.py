"""Staff through real clients (issue 16): a password command never waits in
the outbox (a password on disk), the one-time password comes back to the
operator's device, the new person reaches every device as an event, and her
first sign-in says she must change it; once changed, a restart doesn't ask
again."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.client import Client
from testkit.server import ServerProcess
from tests.services.helpers import new_id, sign_in, until


@pytest.fixture
def srv(staff_server: ServerProcess) -> ServerProcess:
    return staff_server


async def test_password_commands_skip_the_outbox(srv: ServerProcess, tmp_path: Path) -> None:
    op = await sign_in(srv, "operator")
    t1 = await sign_in(srv, "therapist1")
    lia: Client | None = None
    try:
        await until(lambda: "online" == op.status == t1.status)
        sid, username = new_id(), f"lia.{new_id()[:6]}"
        added = await op.account("staff.create", sid, {
            "username": username, "role": "therapist", "name": "Lia Ramos", "phone": "0917"})
        assert added.ok and added.one_time_password, added
        # asked through the ordinary dispatch: still straight to the server
        reset = await op.dispatch("staff.reset_password", sid, {})
        assert reset.ok, reset
        assert not op.queued() and not op.failed()
        again = await op.account("staff.reset_password", sid, {})
        assert again.ok and again.one_time_password, again
        outbox = (op.session.directory or tmp_path) / "outbox.jsonl"
        assert not outbox.exists() or again.one_time_password not in outbox.read_text()
        added = again  # her password now
        await until(lambda: t1.view().get("staff", sid) is not None, what="t1 sees her")
        await until(lambda: op.view().get("staff", sid) is not None, what="so does the operator")

        lia = await Client.start(srv.url, username, added.one_time_password,
                                 data_dir=tmp_path / "lia")
        assert lia.user["must_change_password"] is True
        wrong = await lia.dispatch("account.change_password", sid,
                                    {"current_password": "nope", "new_password": "lia-own-2026"})
        assert not wrong.ok and wrong.code == "wrong_password"
        done = await lia.account("account.change_password", sid, {
            "current_password": added.one_time_password, "new_password": "lia-own-2026"})
        assert done.ok and not lia.queued()
        assert lia.user["must_change_password"] is False
        await lia.stop()
        # the saved session resumes without asking again
        lia = await Client.start(srv.url, username, None, data_dir=tmp_path / "lia")
        assert lia.user["must_change_password"] is False
    finally:
        for client in (op, t1, lia):
            if client is not None:
                await client.stop()
