"""A listening socket, bound with a clear message when it can't be: for the
server (`python -m server`) and for main.py's web UI. Standard library only, so
main.py's client paths bind without importing the server."""

from __future__ import annotations

import errno
import socket


class CannotListen(Exception):
    """One line a person can act on (the port is in use, the address is unknown)."""


class PortInUse(CannotListen):
    def __init__(self, host: str, port: int) -> None:
        super().__init__(
            f"Port {port} on {host} is already in use. Stop the other program or "
            f"choose another port with --port."
        )
        self.host, self.port = host, port


def free_port_after(host: str, port: int, tries: int = 20) -> int | None:
    """The first port above `port` that `host` can listen on now, if any."""
    for candidate in range(port + 1, min(port + 1 + tries, 65536)):
        try:
            bind(host, candidate).close()
        except CannotListen:
            continue
        return candidate
    return None


def bind(host: str, port: int, sndbuf: int = 0) -> socket.socket:
    """Bind the listening socket ourselves, so 'in use' is a clear message."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise CannotListen(f"Can't listen on {host!r}: unknown address.") from exc
    family, _, _, _, addr = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if sndbuf > 0:  # accepted connections inherit it (Linux)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
    try:
        sock.bind(addr)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUse(host, port) from exc
        raise CannotListen(f"Can't listen on {host}:{port}: {exc.strerror}.") from exc
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock
