"""Reliability suites run the real server (tests.support.server) on loopback."""

from tests.support.server import server_factory

__all__ = ["server_factory"]
