from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(params=["memory", "file"])
def place(request: pytest.FixtureRequest, tmp_path: Path) -> Path | None:
    """Where a store keeps its data: nowhere (memory) or a temp directory.
    Every storage test runs on both, like TinyDB's own storage fixtures."""
    return None if request.param == "memory" else tmp_path / "data"
