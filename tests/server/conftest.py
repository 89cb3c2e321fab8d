"""The server suites run the real server (tests.support.server) on loopback."""

from tests.support.server import demo_server, empty_server, server_factory, staff_server

__all__ = ["demo_server", "empty_server", "server_factory", "staff_server"]
