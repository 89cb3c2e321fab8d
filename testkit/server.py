"""The real Tandem server as a subprocess on a free loopback port.

    with ServerProcess(tmp_path, seed="demo") as srv:
        loopback.post(srv.url + "/api/auth/login", json=...)
        websockets.connect(srv.ws_url)
        srv.kill(); srv.start()       # kill -9, then restart on the same port + db

Shared by the tests (whose fixtures wrap it) and the benchmarks.
`login(srv, username)` returns a bearer token ("demo1234" by default).
"""

from __future__ import annotations

import atexit
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from testkit import loopback
from testkit.prefork import ForkedProcess, Zygote

ROOT = Path(__file__).resolve().parents[1]
DEMO_PASSWORD = "demo1234"

# Off by default (the benchmarks time real starts); the test suite turns it on.
_prefork: dict[str, Any] = {"on": False}
_zygotes: dict[str, Zygote] = {}  # by kind: "server", "main"


def use_prefork(on: bool = True) -> None:
    """Start `python -m server` servers (and `python main.py` UIs, main_process)
    by forking a zygote that has already imported them (testkit.prefork): the
    same process to the tests, a fraction of the start time. The zygotes go
    when this process does."""
    _prefork["on"] = on


def _zygote(kind: str = "server") -> Zygote:
    zygote = _zygotes.get(kind)
    if zygote is None or not zygote.alive():
        zygote = _zygotes[kind] = Zygote.start(project_python(), ROOT, kind=kind)
        atexit.register(zygote.close)
    return zygote


def main_process(args: list[str], env: Mapping[str, str], log: Path
                 ) -> subprocess.Popen[bytes] | ForkedProcess:
    """`python main.py <args>` in the project's folder, its output appended to `log`."""
    if _prefork["on"]:
        return _zygote("main").spawn(args, dict(env), ROOT, log)
    with log.open("ab") as out:
        return subprocess.Popen([project_python(), "main.py", *args], cwd=ROOT, env=dict(env),
                                stdout=out, stderr=subprocess.STDOUT)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def project_python() -> str:
    """The project's .venv Python, else the one running this process (a git
    worktree has no .venv of its own: its tests run on the shared one)."""
    venv = ROOT / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


class ServerProcess:
    """`python -m server` on 127.0.0.1:<port> with a SQLite file in `data_dir`."""

    def __init__(
        self,
        data_dir: str | Path | None = None,
        *,
        seed: str | None = None,
        port: int | None = None,
        database_url: str | None = None,
        env: Mapping[str, str] | None = None,
        args: tuple[str, ...] = (),
        startup_timeout: float = 90.0,
        secret_key: bool = True,
    ) -> None:
        """`secret_key=False`: start without TANDEM_SECRET_KEY (even one in our
        environment), so the server keeps a generated one beside its SQLite file."""
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if data_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="tandem-srv-")
            data_dir = self._tmp.name
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.database_url = database_url or f"sqlite:///{self.data_dir / 'tandem.db'}"
        self.seed = seed
        self.env = dict(env or {})
        self.args = args
        self.startup_timeout = startup_timeout
        self.secret_key = secret_key
        self.proc: subprocess.Popen[bytes] | ForkedProcess | None = None
        self.log_path = self.data_dir / f"server-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/api/ws"

    def command(self) -> list[str]:
        cmd = [project_python(), "-m", "server", "--host", "127.0.0.1", "--port", str(self.port),
               "--database-url", self.database_url, "--log-level", "warning"]
        if self.seed:
            cmd += ["--seed", self.seed]
        return cmd + list(self.args)

    def start(self) -> ServerProcess:
        """Start (or restart, same port and database) and wait until it answers."""
        if self.proc is not None and self.proc.poll() is None:
            return self
        env = {**os.environ, **self.env}
        if self.secret_key:
            env.setdefault("TANDEM_SECRET_KEY", f"tandem-test-secret-{self.port}-0123456789abcdef")
        else:
            env.pop("TANDEM_SECRET_KEY", None)
        cmd = self.command()
        if _prefork["on"] and cmd[1:3] == ["-m", "server"]:
            self.proc = _zygote().spawn(cmd[3:], env, ROOT, self.log_path)
        else:
            log = self.log_path.open("ab")
            self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log,
                                         stderr=subprocess.STDOUT)
            log.close()
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"server exited with {self.proc.returncode}:\n{self.output()[-4000:]}"
                )
            try:
                if loopback.get(self.url + "/api/health", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"server did not answer in {self.startup_timeout}s:\n"
                           f"{self.output()[-4000:]}")

    def output(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self, timeout: float = 10.0) -> int | None:
        """Graceful stop (SIGTERM), then wait; kill -9 if it hangs."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def kill(self) -> None:
        """kill -9: no shutdown code runs."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def close(self) -> None:
        self.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # --- conveniences ----------------------------------------------------------------

    def login(self, username: str, password: str = DEMO_PASSWORD) -> str:
        r = loopback.post(self.url + "/api/auth/login",
                       json={"username": username, "password": password}, timeout=10)
        r.raise_for_status()
        return str(r.json()["token"])

    def client(self, username: str | None = None, password: str = DEMO_PASSWORD) -> httpx.Client:
        """A sync httpx client on this server (signed in as `username` if given)."""
        headers = {}
        if username:
            headers["Authorization"] = f"Bearer {self.login(username, password)}"
        return loopback.Client(base_url=self.url, headers=headers, timeout=15)


def login(srv: ServerProcess, username: str, password: str = DEMO_PASSWORD) -> str:
    return srv.login(username, password)


@contextmanager
def server_maker(root: Path, adjust: Callable[[dict[str, Any]], None] | None = None
                 ) -> Iterator[Callable[..., ServerProcess]]:
    """Make servers under `root` while the block runs (`make(seed="demo", args=(...))`
    starts one; `adjust` may change its keyword arguments first); all are closed after."""
    made: list[ServerProcess] = []

    def make(**kwargs: Any) -> ServerProcess:
        if adjust is not None:
            adjust(kwargs)
        srv = ServerProcess(root / f"srv{len(made)}", **kwargs)
        made.append(srv)
        return srv.start()

    try:
        yield make
    finally:
        for srv in made:
            srv.close()
