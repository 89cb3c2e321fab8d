"""The phone app's code path, run by a venv that has only the base install.

    <base venv>/bin/python device_client.py <repo root> <server url> <work dir>

Run by tests/packaging/test_base_install.py. It starts the app the way a Flet
build does (`FLET_PLATFORM=android`, `FLET_APP_STORAGE_DATA` set, main.py
started with no arguments), but `flet.run`, which would wait for the Flutter
client, hands the app's `main(page)` to the pure-Python harness instead
(testkit/flet_harness.py: a real flet Session over a recording connection). On
it, as a driver would: sign in on the real server, see a trip the operator
booked (an event over the websocket), and go on duty (a command through the
outbox). The operator's side is plain HTTP from here.

The packages come from the base venv's site-packages: the repo root is put at
the END of sys.path, for testkit/flet_harness.py alone. Prints one JSON line:
what it saw, and which modules got imported.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import sys
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT, SERVER, WORK = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
PASSWORD = "demo1234"
LOCATION = f"7 Device Test St ({uuid.uuid4().hex[:6]})"  # the trip the driver must see
FORBIDDEN = ("server", "fastapi", "uvicorn", "starlette", "sqlalchemy", "alembic", "flet_web",
             "orjson", "pydantic")


def start_the_app() -> Callable[..., Any]:
    """main.py's device entry, up to `flet.run(main)`: that `main`."""
    import flet

    started: list[Callable[..., Any]] = []
    flet.run = lambda main, *args, **kwargs: started.append(main)
    spec = importlib.util.spec_from_file_location("tandem_main", ROOT / "main.py")
    assert spec is not None and spec.loader is not None
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)
    sys.argv[1:] = []  # as a Flet build starts it
    code = app.main()
    assert code == 0 and len(started) == 1, (code, started)
    return started[0]


def operator() -> Any:
    """The operator, over plain HTTP (another device)."""
    import httpx

    http = httpx.Client(base_url=SERVER, timeout=30)
    token = http.post("/api/auth/login",
                      json={"username": "operator", "password": PASSWORD}).json()["token"]
    http.headers["Authorization"] = f"Bearer {token}"
    return http


def book_a_trip_for_driver1(http: Any) -> None:
    data = http.get("/api/sync/bootstrap").json()
    staff = {s["username"]: s["id"] for s in data["staff"]}
    # tomorrow in the business's time zone: the staff seed made everyone available
    day = (datetime.now(ZoneInfo("Asia/Manila")).date() + timedelta(days=1)).isoformat()
    args = {"client_id": data["clients"][0]["id"], "service_ids": [data["services"][0]["id"]],
            "therapist_ids": [staff["therapist3"]], "driver_id": staff["driver1"],
            "date": day, "start_time": "21:00", "end_time": "21:50", "location": LOCATION}
    r = http.post("/api/commands", json={
        "client_id": f"device-test-{uuid.uuid4().hex}", "seq": 1, "name": "appointment.create",
        "target": str(uuid.uuid4()), "args": args, "base_version": None})
    assert r.status_code == 200 and r.json().get("status") != "rejected", r.text


def driver1_on_duty(http: Any) -> bool:
    staff = http.get("/api/sync/bootstrap").json()["staff"]
    return bool(next(s for s in staff if s["username"] == "driver1").get("on_duty"))


async def until(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    try:
        async with asyncio.timeout(timeout):
            while not check():
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"no {what} after {timeout:.0f} s") from None


async def drive(main: Callable[..., Any]) -> dict[str, Any]:
    import flet as ft

    from testkit.flet_harness import Harness

    h = Harness(width=390, height=844)
    h.session.apply_page_patch({"web": False, "platform": "android"})
    await h.run(main)
    await until(lambda: any(f.label == "Password" for f in h.by_type(ft.TextField)),
                "the sign-in screen")
    servers = [f for f in h.by_type(ft.TextField) if f.label == "Server"]
    if servers:
        await h.type_text(servers[0], SERVER)
    await h.type_text(h.field("Username"), "driver1")
    await h.type_text(h.field("Password"), PASSWORD)
    await h.click(h.button("Sign in"))
    await until(lambda: h.has_semantics("duty"), "the driver's screen after signing in")

    http = operator()
    book_a_trip_for_driver1(http)  # an event for driver1, over the websocket
    await until(lambda: LOCATION in h.texts(), "the operator's booking on the driver's screen")

    switch = h.semantics("duty").content  # the driver's on/off duty switch
    assert isinstance(switch, ft.Switch)
    wanted = not driver1_on_duty(http)
    assert switch.value is not wanted
    await h.toggle(switch, wanted)  # a command: outbox -> HTTP
    deadline = asyncio.get_running_loop().time() + 30
    while driver1_on_duty(http) is not wanted:
        assert asyncio.get_running_loop().time() < deadline, "the duty change never arrived"
        await asyncio.sleep(0.2)
    http.close()
    return {"trip_seen": True, "duty_sent": True}


def main() -> int:
    os.environ["FLET_PLATFORM"] = "android"
    os.environ["FLET_APP_STORAGE_DATA"] = str(WORK / "app-storage")
    os.environ["TANDEM_SERVER"] = SERVER
    sys.path.append(str(ROOT))  # last: for testkit.flet_harness only
    app_main = start_the_app()
    seen = asyncio.run(drive(app_main))
    import views

    seen["views_from"] = views.__file__
    seen["imported"] = sorted({m.split(".")[0] for m in sys.modules} & set(FORBIDDEN))
    print(json.dumps(seen), flush=True)
    # Flet's session, the client's tasks and the harness's executor may keep threads
    # alive; everything the test needed is printed.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
