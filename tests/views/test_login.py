"""The sign-in screen on a phone: it fits 360 px, recovers from a failed try,
and (on a device) offers, checks and remembers the server address."""

from __future__ import annotations

from pathlib import Path

import flet as ft
import pytest
from flet.messaging.protocol import MessageAction

import main
from testkit.flet_harness import Harness
from testkit.server import free_port
from tests.views.data import DRIVER, world
from tests.views.fake_client import FakeClient
from views.app import Session
from views.binding import connect as real_connect
from views.login import BadAddress, server_address
from views.port import ClientPort, DeviceConfig, LoginFailed, UiConfig
from views.prefs import FilePrefs, MemoryPrefs


async def no_resume(*_: object) -> ClientPort | None:
    return None


def device(tmp: Path, server_url: str = "", connect: object = None) -> UiConfig:
    async def fake(server: str, *_: object) -> FakeClient:
        return FakeClient(DRIVER, world())

    return UiConfig(
        server_url=server_url,
        connect=connect or fake,  # type: ignore[arg-type]
        device=DeviceConfig(str(tmp), no_resume),
    )


def form(h: Harness) -> ft.Container:
    return next(c for c in h.by_type(ft.Container) if h.field("Password") in _under(c))


def _under(c: ft.Container) -> list[object]:
    from testkit.flet_harness import descendants

    return descendants(c)


def unsent_changes(h: Harness, mark: int) -> list[object]:
    """The changes an update after `mark` sent: what an earlier change to the
    page left for the next update (a patch is [path tree, *operations])."""
    return [
        op
        for m in h.conn.messages[mark:]
        if m.action == MessageAction.PATCH_CONTROL
        for op in m.body.patch[1:]
    ]


@pytest.mark.parametrize(("width", "expected"), [(360, 360), (390, 390), (1280, 420)])
async def test_the_form_fits_the_phone(width: int, expected: int) -> None:
    h = Harness(width=width, height=740)
    config = UiConfig(server_url="http://srv", connect=real_connect)
    await h.run(lambda page: Session(page, config, MemoryPrefs()).start())
    assert form(h).width == expected
    await h.resize(1000, 740)
    assert form(h).width == 420


async def test_a_failed_sign_in_gives_the_button_back(tmp_path: Path) -> None:
    attempts: list[str] = []

    async def unreachable(server: str, *_: object) -> FakeClient:
        attempts.append(server)
        raise LoginFailed(f"Can't reach {server} — check the address and your connection.")

    h = Harness(width=360, height=740)
    config = device(tmp_path, "https://tandem.example.com", unreachable)
    await h.run(lambda page: Session(page, config, MemoryPrefs()).start())
    await h.type_text(h.field("Username"), "driver1")
    await h.type_text(h.field("Password"), "demo1234")
    button = h.button("Sign in")
    await h.click(button)
    assert attempts == ["https://tandem.example.com"]
    assert not button.disabled and button.content == "Sign in"
    # ... and the phone was told: nothing was left unsent
    mark = h.mark()
    h.page.update()
    assert not unsent_changes(h, mark)
    await h.click(h.button("Sign in"))  # a second try goes out
    assert len(attempts) == 2


async def test_an_unreachable_server_says_which_address(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    h = Harness(width=360, height=740)
    await h.run(
        lambda page: Session(page, device(tmp_path, url, real_connect), MemoryPrefs()).start()
    )
    await h.type_text(h.field("Username"), "driver1")
    await h.type_text(h.field("Password"), "demo1234")
    await h.click(h.button("Sign in"))
    assert f"Can't reach {url} — check the address and your connection." in h.texts()
    assert h.button("Sign in").disabled is False


def test_the_address_is_checked() -> None:
    assert server_address(" tandem.example.com/ ") == "https://tandem.example.com"
    assert server_address("http://10.0.2.2:8000") == "http://10.0.2.2:8000"
    for bad in ("", "ftp://x", "https://", "tandem example"):
        with pytest.raises(BadAddress):
            server_address(bad)


async def test_the_server_is_offered_checked_and_remembered_per_device(tmp_path: Path) -> None:
    signed: list[str] = []

    async def fake(server: str, *_: object) -> FakeClient:
        signed.append(server)
        return FakeClient(DRIVER, world())

    config = device(tmp_path, "http://from-env:8000", fake)
    h = Harness(width=360, height=740)
    await h.run(lambda page: Session(page, config, FilePrefs(tmp_path / "prefs.json")).start())
    assert h.field("Server").visible and h.field("Server").value == "http://from-env:8000"
    await h.type_text(h.field("Server"), "not a server")
    await h.type_text(h.field("Username"), "driver1")
    await h.type_text(h.field("Password"), "demo1234")
    await h.click(h.button("Sign in"))
    assert any("isn't a server address" in t for t in h.texts()) and not signed
    await h.type_text(h.field("Server"), "tandem.example.com")
    await h.click(h.button("Sign in"))
    assert signed == ["https://tandem.example.com"]

    # the next start on this device (a new process: the file, not memory)
    again = Harness(width=360, height=740)
    await again.run(
        lambda page: Session(page, config, FilePrefs(tmp_path / "prefs.json")).start()
    )
    assert again.field("Server").value == "https://tandem.example.com"
    assert again.field("Username").value == "driver1"


async def test_a_web_tab_signs_in_to_its_own_server() -> None:
    signed: list[str] = []

    async def fake(server: str, *_: object) -> FakeClient:
        signed.append(server)
        return FakeClient(DRIVER, world())

    h = Harness(width=360, height=740)
    config = UiConfig(server_url="http://127.0.0.1:8000", connect=fake)
    await h.run(lambda page: Session(page, config, MemoryPrefs()).start())
    assert not h.field("Server").visible
    await h.type_text(h.field("Username"), "driver1")
    await h.type_text(h.field("Password"), "demo1234")
    await h.click(h.button("Sign in"))
    assert signed == ["http://127.0.0.1:8000"]


def test_the_device_entry_reads_its_storage_and_server_from_the_environment(
    tmp_path: Path,
) -> None:
    phone = main.device_config({"FLET_PLATFORM": "android", "FLET_APP_STORAGE_DATA": str(tmp_path)})
    assert phone.device is not None and phone.device.data_dir == str(tmp_path)
    assert phone.server_url == ""  # 127.0.0.1 would be the phone itself: the user types it
    env = {"FLET_PLATFORM": "ios", "FLET_APP_STORAGE_DATA": str(tmp_path),
           "TANDEM_SERVER": "https://tandem.example.com"}
    assert main.device_config(env).server_url == "https://tandem.example.com"
    desktop = main.device_config({"FLET_APP_STORAGE_DATA": str(tmp_path)})
    assert desktop.server_url == "http://127.0.0.1:8000"  # `flet run` beside `python main.py`
