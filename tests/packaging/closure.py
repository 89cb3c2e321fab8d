"""What a phone or tablet bundle's pip step installs, resolved here with pip
against the configured index: the closure of the base dependencies, each one's
wheel for an Android and an iOS target, and their sizes.

How `flet build` (flet-cli 1.0.5 and serious_python) installs them: pip, binary
wheels only (`--only-binary :all:`), the pyproject's `project.dependencies` as
written, once per target, with the target's platform tag (Android
`android-24-arm64_v8a`, `-armeabi_v7a`, `-x86_64`; iOS `ios-13.0-arm64-iphoneos`
and the simulators) and the Python the bundle carries. That Python is the
newest stable release of python-build's manifest that `requires-python`
(">=3.11") allows: 3.14 (the manifest lists 3.12, 3.13 and 3.14).

Two steps, because the allowed binary packages (allowlist.py) have their
Android and iOS wheels on Flet's mobile index only, which is not the configured
index: (1) the closure, resolved for this machine (`pip install --dry-run
--report`: names and versions; no marker in it depends on the platform); (2)
every other member downloaded for each target with `--no-deps --only-binary
:all:`, which finds it only as a pure-Python wheel (or as a binary wheel built
for that target, which is then reported as binary).

    python -m tests.packaging.closure      # the base dependencies' closure, printed
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name, parse_wheel_filename

from tests.packaging.allowlist import ALLOWED_BINARY

ROOT = Path(__file__).resolve().parents[2]
BUNDLED_PYTHON = "3.14"
TARGETS = {"Android": "android_24_arm64_v8a", "iOS": "ios_13_0_arm64_iphoneos"}
# Where an allowed binary package's size comes from: its wheel for this machine,
# a stand-in for the mobile one (same code, another CPU).
STAND_IN = "manylinux_2_17_x86_64"
PIP_TIMEOUT = 600


class PipFailed(Exception):
    pass


@dataclass
class Wheel:
    name: str
    version: str
    file: str
    size: int

    @property
    def pure(self) -> bool:
        _, _, _, tags = parse_wheel_filename(self.file)
        return all(t.abi == "none" and t.platform == "any" for t in tags)


@dataclass
class Closure:
    """One target's view of the closure."""

    target: str
    wheels: list[Wheel] = field(default_factory=list)  # pure or built for the target
    allowed: list[Wheel] = field(default_factory=list)  # allow-listed, stand-in sizes
    missing: list[str] = field(default_factory=list)  # no pure wheel, not allowed: "name==v"

    @property
    def binary(self) -> list[Wheel]:
        """Binary wheels that are not allow-listed (built for the target)."""
        return [w for w in self.wheels if not w.pure]

    @property
    def size(self) -> int:
        return sum(w.size for w in self.wheels + self.allowed)


def base_requirements(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """`project.dependencies`, as `flet build` reads them."""
    return list(tomllib.loads(pyproject.read_text())["project"]["dependencies"])


def pip(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "pip", "--disable-pip-version-check", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=PIP_TIMEOUT)
    if done.returncode != 0:
        raise PipFailed(f"{' '.join(cmd[3:6])} … failed:\n{done.stderr[-3000:]}")
    return done


def resolve(requirements: list[str]) -> dict[str, str]:
    """The closure of `requirements`: normalized name -> version."""
    with tempfile.TemporaryDirectory(prefix="tandem-closure-") as tmp:
        report = Path(tmp) / "report.json"
        pip("install", "--dry-run", "--ignore-installed", "--quiet", "--only-binary=:all:",
            "--report", str(report), *requirements)
        items = json.loads(report.read_text())["install"]
    return {canonicalize_name(i["metadata"]["name"]): i["metadata"]["version"] for i in items}


_NOT_FOUND = re.compile(r"No matching distribution found for (\S+)")


def download(pins: list[str], platform: str, into: Path) -> tuple[list[Wheel], list[str]]:
    """Each pin's wheel for `platform` (`--no-deps`, binary only): the wheels,
    and the pins that have none. One pip call for all; when one has no wheel,
    pip stops at it, so it is set aside and the rest go again."""
    pending, missing = list(pins), []
    while pending:
        try:
            pip("download", "--no-deps", "--only-binary=:all:", "--platform", platform,
                "--python-version", BUNDLED_PYTHON, "--implementation", "cp",
                "--abi", "cp" + BUNDLED_PYTHON.replace(".", ""), "--dest", str(into), *pending)
            break
        except PipFailed as exc:
            found = _NOT_FOUND.search(str(exc))
            if found is None or found.group(1) not in pending:
                raise
            missing.append(found.group(1))
            pending.remove(found.group(1))
    wheels = []
    for path in sorted(into.glob("*.whl")):
        name, version, _, _ = parse_wheel_filename(path.name)
        wheels.append(Wheel(canonicalize_name(name), str(version), path.name,
                            path.stat().st_size))
    return wheels, missing


def closure_for(target: str, members: dict[str, str], work: Path) -> Closure:
    out = Closure(target)
    others = [f"{n}=={v}" for n, v in sorted(members.items()) if n not in ALLOWED_BINARY]
    allowed = [f"{n}=={v}" for n, v in sorted(members.items()) if n in ALLOWED_BINARY]
    (work / target).mkdir(parents=True, exist_ok=True)
    out.wheels, out.missing = download(others, TARGETS[target], work / target)
    if allowed:
        (work / "stand-in").mkdir(exist_ok=True)
        out.allowed, _ = download(allowed, STAND_IN, work / "stand-in")
    return out


def check(requirements: list[str], work: Path) -> tuple[dict[str, str], list[Closure]]:
    members = resolve(requirements)
    return members, [closure_for(t, members, work) for t in TARGETS]


def megabytes(n: int) -> str:
    return f"{n / 1e6:.2f} MB"


def describe(members: dict[str, str], closures: list[Closure]) -> str:
    lines = [f"{len(members)} distributions for Python {BUNDLED_PYTHON}"]
    for c in closures:
        lines.append(f"{c.target} ({TARGETS[c.target]}): {megabytes(c.size)} of wheels")
        for w in sorted(c.wheels + c.allowed, key=lambda w: -w.size):
            kind = "pure" if w.pure and w not in c.allowed else \
                "allowed binary (size of its Linux wheel)" if w in c.allowed else "BINARY"
            lines.append(f"  {w.file:70} {megabytes(w.size):>10}  {kind}")
        lines += [f"  {pin:70} {'-':>10}  NO WHEEL for {c.target}" for pin in c.missing]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    requirements = argv or base_requirements()
    with tempfile.TemporaryDirectory(prefix="tandem-bundle-") as tmp:
        members, closures = check(requirements, Path(tmp))
    print(describe(members, closures))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
