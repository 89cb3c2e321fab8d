"""The phone and tablet bundle can be built: every distribution the base
dependencies pull in has an Android and an iOS wheel that `flet build` can
install (pure Python, or allow-listed: built by Flet's mobile index), and the
bundle's packages stay small. Resolved with pip against the configured index
(tests/packaging/closure.py says how, and what `flet build` does)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.packaging.allowlist import ALLOWED_BINARY
from tests.packaging.closure import Closure, base_requirements, check, describe, megabytes

# a handful of pip calls against the registry
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

# The goal for the bundle's Python packages (the Flet runtime itself, Flutter and
# the Python interpreter, comes on top): a phone on a mobile connection.
LIMIT = 15_000_000


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], list[Closure]]:
    return check(base_requirements(), tmp_path_factory.mktemp("bundle"))


def test_the_base_dependencies_are_the_client_s_alone() -> None:
    names = " ".join(base_requirements())
    for web in ("[web]", "flet-web", "fastapi", "uvicorn", "sqlalchemy", "orjson"):
        assert web not in names, f"{web} is in the phone bundle's dependencies"


def test_every_distribution_is_pure_python_or_allowed(
    checked: tuple[dict[str, str], list[Closure]], capsys: pytest.CaptureFixture[str]
) -> None:
    members, closures = checked
    with capsys.disabled():
        print("\n" + describe(members, closures))
    for c in closures:
        assert not c.missing, (
            f"no pure-Python wheel for {c.target} and not in tests/packaging/allowlist.py: "
            f"{', '.join(c.missing)}")
        assert not c.binary, (
            f"binary wheels for {c.target} not in tests/packaging/allowlist.py: "
            f"{', '.join(w.file for w in c.binary)}")


def test_every_allowed_binary_is_still_in_the_bundle(
    checked: tuple[dict[str, str], list[Closure]]
) -> None:
    members, _ = checked
    stale = sorted(set(ALLOWED_BINARY) - set(members))
    assert not stale, f"allow-listed but no longer pulled in (drop them): {stale}"


def test_the_bundle_s_packages_stay_small(checked: tuple[dict[str, str], list[Closure]]) -> None:
    _, closures = checked
    for c in closures:
        assert c.size < LIMIT, f"{c.target}: {megabytes(c.size)} of wheels"


def test_the_flet_build_exclusions_keep_the_server_out() -> None:
    import tomllib

    root = Path(__file__).resolve().parents[2]
    excluded = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["flet"]["app"]
    assert {"server", "tests", "bench"} <= set(excluded["exclude"])
