from __future__ import annotations

from tests.support.server import demo_server, empty_server, server_factory  # noqa: F401
