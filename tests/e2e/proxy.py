"""A loopback TCP relay between the UI process and the API server that a test
can cut and restore: one client's "lost signal" while everyone else (the
operator's API calls) still reaches the server."""

from __future__ import annotations

import contextlib
import socket
import threading

from testkit.server import free_port


class Relay:
    def __init__(self, upstream_port: int) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        self.port = free_port()
        self.cut_off = False
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._frozen: set[socket.socket] = set()  # see `freeze`
        self.swallowed: list[bytes] = []  # what went into frozen connections
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._running = True
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cut(self) -> None:
        """Drop every connection and refuse new ones until `restore`."""
        with self._lock:
            self.cut_off = True
            for s in self._open:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
            self._open.clear()

    def freeze(self) -> None:
        """Black-hole the connections open now (both ways, nothing closed:
        a phone frozen in the background whose sockets died without TCP
        knowing); new connections work."""
        with self._lock:
            self._frozen.update(self._open)

    def restore(self) -> None:
        with self._lock:
            self.cut_off = False

    def close(self) -> None:
        self._running = False
        self.cut()
        self._listener.close()

    def _accept(self) -> None:
        while self._running:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                refuse = self.cut_off
            if refuse:
                client.close()
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._open.update((client, server))
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while chunk := src.recv(65536):
                if src not in self._frozen:
                    dst.sendall(chunk)
                else:
                    self.swallowed.append(chunk)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
