"""Start `python -m server` (or `python main.py`) without paying for its imports every time.

Most of a test server's start (seconds on a busy machine) is importing FastAPI,
pydantic, SQLAlchemy and Alembic; most of the web UI's (`main.py --server URL`) is
importing Flet, its web server and matplotlib. A zygote imports them once, then forks
a child per program; the child is `python -m server <args>` (or `python main.py
<args>`) in every way the tests can see: its own pid, environment, working directory
and log file, stopped by a signal, exiting with the program's own code.
`ForkedProcess` is the Popen-like handle (pid, poll, wait, send_signal, terminate,
kill, returncode).

    zygote = Zygote.start(python, cwd)        # once ("server"; or kind="main")
    proc = zygote.spawn(args, env, cwd, log)  # per program; args after `-m server`

The zygote is single-threaded and runs no event loop, so forking it is safe. It
exits when its parent goes (its stdin closes), stopping any server still running.
Run as `python -m testkit.prefork` it is the zygote itself.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import runpy
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

UVICORN = (
    "uvicorn", "uvicorn.lifespan.on", "uvicorn.loops.auto", "uvicorn.loops.asyncio",
    "uvicorn.protocols.http.auto", "uvicorn.protocols.http.h11_impl",
    "uvicorn.protocols.http.httptools_impl", "uvicorn.protocols.websockets.auto",
)
# What a start imports (python -X importtime -m server, or main.py --server URL):
# the rest is cheap. The web UI's zygote holds none of the server's packages, so a
# client UI forked from it imports exactly what `python main.py --server URL` does.
PRELOAD: dict[str, tuple[str, ...]] = {
    "server": (
        "server.__main__", "server.app", "server.database", *UVICORN, "alembic.command",
        "alembic.config", "alembic.script", "alembic.runtime.migration",
        "alembic.autogenerate", "aiosqlite", "asyncpg", "sqlalchemy.dialects.sqlite.aiosqlite",
        "sqlalchemy.dialects.postgresql.asyncpg", "argon2", "jwt", "orjson",
    ),
    "main": (
        *UVICORN, "fastapi", "flet", "flet_web.fastapi", "flet_charts", "matplotlib.figure",
        "httpx", "websockets", "views.app",
    ),
}


class ForkedProcess:
    """A server forked by the zygote, as much like subprocess.Popen as the tests use."""

    def __init__(self, pid: int, conn: socket.socket, args: list[str]) -> None:
        self.pid = pid
        self.args = args
        self.returncode: int | None = None
        self._conn: socket.socket | None = conn
        self._buf = b""

    def _read(self, timeout: float | None) -> None:
        if self.returncode is not None:
            return
        if self._conn is None:  # the zygote went first: watch the pid itself
            self._orphan(timeout)
            return
        self._conn.settimeout(timeout)
        try:
            while b"\n" not in self._buf:
                chunk = self._conn.recv(4096)
                if not chunk:
                    self._conn.close()
                    self._conn = None
                    self._orphan(timeout)
                    return
                self._buf += chunk
        except (TimeoutError, BlockingIOError):
            return
        self.returncode = int(json.loads(self._buf.split(b"\n", 1)[0])["returncode"])
        self._conn.close()
        self._conn = None

    def _orphan(self, timeout: float | None) -> None:
        """Its exit code went with the zygote; that it's gone is all we can learn."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if not _alive(self.pid):
                self.returncode = -signal.SIGKILL
                return
            if deadline is not None and time.monotonic() >= deadline:
                return
            time.sleep(0.05)

    def poll(self) -> int | None:
        self._read(0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        self._read(timeout)
        if self.returncode is None:
            raise subprocess.TimeoutExpired(self.args, timeout or 0)
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def _alive(pid: int) -> bool:
    """Running (a zombie nobody reaps — PID 1 in a container may not — is gone)."""
    try:
        os.kill(pid, 0)
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (ProcessLookupError, FileNotFoundError):
        return False
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


class Zygote:
    def __init__(self, proc: subprocess.Popen[bytes], path: Path, kind: str = "server") -> None:
        self.proc = proc
        self.path = path
        self.kind = kind

    @classmethod
    def start(cls, python: str, cwd: Path, timeout: float = 120, kind: str = "server") -> Zygote:
        """`kind`: "server" forks `python -m server`, "main" forks `python main.py`."""
        path = Path(tempfile.mkdtemp(prefix="tandem-zygote-")) / "sock"
        proc = subprocess.Popen([python, "-m", "testkit.prefork", str(path), kind], cwd=cwd,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert proc.stdout is not None
        ready = proc.stdout.readline()  # after the imports
        if ready.strip() != b"ready":
            proc.kill()
            raise RuntimeError(f"the {kind} zygote didn't start: {ready!r}")
        return cls(proc, path, kind)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def spawn(self, args: list[str], env: dict[str, str], cwd: Path,
              log: Path) -> ForkedProcess:
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.connect(str(self.path))
        conn.sendall(json.dumps({"args": args, "env": env, "cwd": str(cwd),
                                 "log": str(log)}).encode() + b"\n")
        line = b""
        while not line.endswith(b"\n"):
            chunk = conn.recv(1)
            if not chunk:
                raise RuntimeError(f"the {self.kind} zygote closed the connection")
            line += chunk
        program = ["-m", "server"] if self.kind == "server" else ["main.py"]
        return ForkedProcess(int(json.loads(line)["pid"]), conn, [*program, *args])

    def close(self) -> None:
        if self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# --- the zygote's side ------------------------------------------------------------------


def _child(request: dict[str, Any], keep: list[socket.socket], kind: str) -> None:
    """In the forked child: become `python -m server <args>` (or `python main.py
    <args>`); never returns."""
    code = 1
    try:
        for s in keep:
            s.close()
        for sig in (signal.SIGTERM, signal.SIGCHLD):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        fd = os.open(request["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        if kind == "main":
            sys.argv = ["main.py", *request["args"]]
            runpy.run_path(os.path.abspath("main.py"), run_name="__main__")  # sys.exit(main())
        else:
            sys.argv = ["server", *request["args"]]
            main = importlib.import_module("server.__main__").main
            code = int(main(request["args"]) or 0)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def serve(path: str, kind: str = "server") -> None:
    # A Ctrl+C on the test run reaches the servers (as with Popen); the zygote
    # outlives it to report their codes, and goes when the test run does.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in PRELOAD[kind]:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    sel = selectors.DefaultSelector()
    sel.register(listener, selectors.EVENT_READ, "accept")
    sel.register(sys.stdin, selectors.EVENT_READ, "parent")
    waiting: dict[int, socket.socket] = {}  # pid -> the connection its code goes to
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    running = True
    while running:
        for key, _ in sel.select(timeout=0.05):
            if key.data == "parent":
                running = False  # stdin closed: the test run is over
            elif key.data == "accept":
                conn, _ = listener.accept()
                with conn.makefile("rb") as f:
                    request = json.loads(f.readline())
                pid = os.fork()
                if pid == 0:
                    _child(request, [listener, conn, *waiting.values()], kind)
                conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")
                waiting[pid] = conn
        _reap(waiting)
    for pid in list(waiting):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while waiting and time.monotonic() < deadline:
        _reap(waiting)
        time.sleep(0.05)
    for pid in waiting:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _reap(waiting: dict[int, socket.socket]) -> None:
    while waiting:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        conn = waiting.pop(pid, None)
        if conn is not None:
            with contextlib.suppress(OSError):
                code = os.waitstatus_to_exitcode(status)
                conn.sendall(json.dumps({"returncode": code}).encode() + b"\n")
            conn.close()


if __name__ == "__main__":
    serve(sys.argv[1], *sys.argv[2:3])
