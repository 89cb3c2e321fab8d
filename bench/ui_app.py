"""`python -m bench.ui_app <main.py arguments>`: the embedded app (main.py)
with stage stamps, for `bench ui`.

With TANDEM_TRACE=<file> set, it wraps a few functions at import time and
appends one JSON line per call, `[time.time(), stage, who, extra]`, to the
file: the Flet event reaching Python, the store dispatch, each message Flet
queues for a browser, the command at the server, the server's publish, the
event at each session's client and the shell's render of it. Product code
stays as it is: the wrapping lives here, and only this launcher installs it.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import sys
import time
from collections.abc import Callable
from typing import IO, Any


def install(path: str) -> None:
    out: IO[str] = open(path, "a", buffering=1)  # noqa: SIM115 - open for the process's life

    def stamp(stage: str, who: str | None, **extra: Any) -> None:
        out.write(json.dumps([time.time(), stage, who, extra], default=str) + "\n")

    from flet.messaging.session import Session as FletSession
    from flet_web.fastapi.flet_app import FletApp

    from server.commands import CommandService
    from server.hub import Hub
    from services.client import Client
    from services.listener import Listener
    from services.sender import Sender
    from store.outbox import Outbox
    from store.store import Store
    from views.shell import Shell

    def around(cls: Any, name: str, before: Callable[..., None],
               after: Callable[..., None] | None = None) -> None:
        original = getattr(cls, name)
        if _is_async(original):
            @functools.wraps(original)
            async def wrapped_async(self: Any, *a: Any, **k: Any) -> Any:
                before(self, *a, **k)
                try:
                    return await original(self, *a, **k)
                finally:
                    if after is not None:
                        after(self, *a, **k)
            setattr(cls, name, wrapped_async)
        else:
            @functools.wraps(original)
            def wrapped(self: Any, *a: Any, **k: Any) -> Any:
                before(self, *a, **k)
                try:
                    return original(self, *a, **k)
                finally:
                    if after is not None:
                        after(self, *a, **k)
            setattr(cls, name, wrapped)

    # The browser's event reaches Python (a task per event, as flet_app makes it).
    # The page's size at the tap: the controls the browser holds (Flet's index,
    # O(1)) now, and which of them are shown 0.5 s later, once the tap's change
    # is on screen and before the bench's next tap (a walk of the tree, kept
    # off the tap's path).
    def event(s: Any, control_id: int, name: str, data: Any) -> None:
        stamp("event", s.id, name=name, controls=len(s.index))
        if name == "click":
            asyncio.get_running_loop().call_later(
                0.5, lambda: stamp("census", s.id, **census(s.page)))

    around(FletSession, "dispatch_event", event)

    # A message for a browser: where the app writes it itself
    # (server/flet_send.py replaces FletApp.send_message when main.py makes
    # the web UI; its own check reads that method's code, so it is left as
    # it is), else where Flet queues it (an older tree, in A/B runs).
    try:
        from server import flet_send
    except ImportError:
        flet_send = None  # type: ignore[assignment]
    if flet_send is not None:
        original_write = flet_send.send

        def write(app: Any, data: bytes) -> None:
            original_write(app, data)
            session = getattr(app, "_FletApp__session", None)
            # [0x00][msgpack [action, body]]: a 2-array's marker, then the action
            action = str(data[2]) if len(data) > 2 and data[1] == 0x92 else "?"
            queue = getattr(app, "_FletApp__send_queue", None)
            stamp("send", session.id if session is not None else None, action=action,
                  bytes=len(data), queued=queue.qsize() if queue is not None else None)

        flet_send.send = write
    else:
        original_send = FletApp.send_message

        def send_message(self: Any, message: Any) -> None:
            original_send(self, message)
            queue = getattr(self, "_FletApp__send_queue", None)
            size = len(queue._queue[-1]) if queue is not None and queue._queue else 0
            session = getattr(self, "_FletApp__session", None)
            stamp("send", session.id if session is not None else None,
                  action=str(getattr(message.action, "value", message.action)),
                  bytes=size)

        FletApp.send_message = send_message

    # The view dispatches an intent into the client's store.
    around(Client, "dispatch", lambda s, name, *a, **k: stamp("dispatch", s.username, name=name),
           lambda s, name, *a, **k: stamp("dispatched", s.username, name=name))

    def named(s: Any, *_: Any, **__: Any) -> None:
        s.listener._bench_user = s.username
        s.sender._bench_user = s.username

    around(Client, "_begin", named)
    # The outbox's durable append (the write; its fsync runs in a thread on
    # a loop, store/outbox.py) and the cache's flush preparation (a copy, on
    # the loop; the write is in a thread).
    around(Outbox, "enqueue", lambda s, name, *a, **k: stamp("enqueue", None, name=name),
           lambda s, name, *a, **k: stamp("enqueued", None, name=name))
    around(Store, "prepare_flush", lambda s: stamp("flush", None),
           lambda s: stamp("flushed", None))
    around(Sender, "wake", lambda s: stamp("wake", getattr(s, "_bench_user", None)))
    around(Sender, "_send", lambda s, wires: stamp(
        "post", getattr(s, "_bench_user", None), n=len(wires)))
    around(Listener, "_handle", lambda s, batch: stamp(
        "client_event", getattr(s, "_bench_user", None), n=len(batch)))

    # The server: a command enters the writer's queue, its batch commits, events go out.
    around(CommandService, "_enqueue", lambda s, jobs: stamp(
        "server_in", None, names=[j.command.name for j in jobs]))
    around(CommandService, "_committed", lambda s, batch: stamp("server_commit", None))
    around(Hub, "publish", lambda s, events: stamp("publish", None, n=len(events)))

    # The shell hands a change to its sections (and they patch the page).
    def applying(stage: str) -> Callable[..., None]:
        def note(s: Any, changed: Any) -> None:
            try:
                sid = s.page.session.id
            except Exception:  # noqa: BLE001 - a session on its way out
                sid = None
            stamp(stage, sid, user=str(s.client.user.get("username") or ""),
                  keys=len(changed.keys), events=len(changed.events))
        return note

    around(Shell, "apply", applying("apply"), applying("applied"))


def census(root: Any) -> dict[str, Any]:
    """The controls under `root` that are shown (a control with visible=False
    is left out with everything under it: Flutter builds none of it), and how
    many of each type."""
    from dataclasses import fields

    from flet.controls.base_control import BaseControl

    types: dict[str, int] = {}
    seen: set[int] = set()
    todo = [root]
    while todo:
        c = todo.pop()
        if id(c) in seen or getattr(c, "visible", True) is False:
            continue
        seen.add(id(c))
        types[type(c).__name__] = types.get(type(c).__name__, 0) + 1
        for f in fields(c):
            if f.metadata.get("skip"):
                continue
            v = getattr(c, f.name, None)
            for x in (v if isinstance(v, list) else [v]):
                if isinstance(x, BaseControl):
                    todo.append(x)
    return {"shown": len(seen), "types": types}


def profile(path: str) -> None:
    """TANDEM_PROFILE=<prefix>: cProfile (CPU time) the shell's render of a
    change (Shell.apply) and a card's tap (the runners' send), each into
    <prefix>.<name>; written every 20 calls (the app stops by a signal)."""
    import cProfile

    from views.components.runner import ActionRunner
    from views.operator.runner import OperatorRunner
    from views.shell import Shell

    def profiled(cls: Any, name: str, label: str) -> None:
        original = getattr(cls, name)
        prof = cProfile.Profile(time.process_time)  # CPU, not the busy machine's wall time
        calls = [0]

        @functools.wraps(original)
        async def wrapped(self: Any, *a: Any, **k: Any) -> Any:
            prof.enable()
            try:
                return await original(self, *a, **k)
            finally:
                prof.disable()
                calls[0] += 1
                if calls[0] % 20 == 0:
                    prof.dump_stats(f"{path}.{label}")
        setattr(cls, name, wrapped)

    profiled(Shell, "apply", "apply")
    profiled(ActionRunner, "send", "tap")
    profiled(OperatorRunner, "send", "optap")


def profile_on_signal(path: str) -> None:
    """TANDEM_PROFILE_ALL=<file>: cProfile (CPU time) the whole loop thread
    between a SIGUSR1 (start) and a SIGUSR2 (stop and write <file>); the
    bench sends them around a fleet's changes (bench/ui_sessions.py), so
    the sign-ins before stay out of it. Beside it, <file>.gc: the garbage
    collector's passes in that window, per generation, and their CPU time
    (cProfile puts a pass on whatever function allocated when it began)."""
    import cProfile
    import gc
    import signal

    prof = [cProfile.Profile(time.process_time)]  # a fresh one each window
    passes: dict[int, list[float]] = {}
    began = [0.0]

    def timed(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            began[0] = time.process_time()
        else:
            passes.setdefault(info["generation"], []).append(time.process_time() - began[0])

    def start(*_: Any) -> None:
        passes.clear()
        gc.callbacks.append(timed)
        prof[0] = cProfile.Profile(time.process_time)
        prof[0].enable()

    def stop(*_: Any) -> None:
        prof[0].disable()
        gc.callbacks.remove(timed)
        prof[0].dump_stats(path)
        with open(path + ".gc", "w") as out:
            json.dump({str(g): {"passes": len(t), "cpu_s": sum(t)}
                       for g, t in sorted(passes.items())}, out)

    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, stop)


def _is_async(fn: Any) -> bool:
    import inspect

    return inspect.iscoroutinefunction(fn)


def main(argv: list[str]) -> int:
    path = os.environ.get("TANDEM_TRACE")
    if path:
        install(path)
    if os.environ.get("TANDEM_PROFILE"):
        profile(os.environ["TANDEM_PROFILE"])
    if os.environ.get("TANDEM_PROFILE_ALL"):
        profile_on_signal(os.environ["TANDEM_PROFILE_ALL"])
    import main as tandem

    return tandem.main(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
