"""`python -m bench <what>`: run benchmarks, print the table, write plots and
BENCHMARKS.md.

    python -m bench all            every benchmark (about 3-5 minutes on 2 cores)
    python -m bench propagation | throughput | fanout | client | drain | memory | device
                   | reconnect | ui
    python -m bench all --quick    tiny sizes (a smoke run; figures mean nothing)
    python -m bench soak [--minutes M] [--clients N] [--quick]
                                   200 clients for 10 minutes (not part of `all`);
                                   --quick: 20 clients, 1 minute

Only `all` (full size) rewrites BENCHMARKS.md (a full `soak` rewrites its own
section, kept in bench/soak.md); every run prints its table and
writes its PNGs into --out (default bench/results/). Loopback only; every
server and helper process is started here and stopped at the end.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench.common import ROOT, machine
from bench.report import Result, table

NAMES = ("propagation", "throughput", "fanout", "client", "drain", "memory", "device",
         "reconnect", "ui")


def _runners(quick: bool, out: Path) -> dict[str, Callable[[], list[Result]]]:
    from bench import device, drain, fanout, local, propagation, reconnect, throughput, ui

    fan_sizes = (50, 200) if quick else (1000, 5000)
    return {
        "propagation": lambda: [propagation.run(
            (3, 5) if quick else (10, 100, 1000),
            {3: (3, 0.05), 5: (3, 0.05)} if quick else None, out)],
        "throughput": lambda: [throughput.run((1, 4) if quick else (1, 10, 100),
                                              1.0 if quick else 6.0, out)],
        "fanout": lambda: list(fanout.run(fan_sizes, 2 if quick else 5, out)),
        "client": lambda: [local.run((100, 300) if quick else (1000, 10_000, 50_000),
                                     10 if quick else 200, out)],
        "drain": lambda: [drain.run(20 if quick else 1000)],
        "device": lambda: [device.run((100, 300) if quick else (1000, 10_000),
                                      3 if quick else 15)],
        "reconnect": lambda: [reconnect.run(1 if quick else 5)],
        # Three Chromium windows (20 rounds of 3 taps), then 50 and 200 headless
        # web sessions; a full run also rewrites its section (bench/ui_run.md).
        "ui": lambda: ui.run(2 if quick else 20, quick, sizes=(3, 6) if quick else (50, 200),
                             events=1 if quick else 3),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=("all", *NAMES, "soak"))
    p.add_argument("--quick", action="store_true", help="tiny sizes, for smoke tests")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results",
                   help="where PNG plots go")
    p.add_argument("--markdown", type=Path, default=None,
                   help="write the report here (default: BENCHMARKS.md for a full `all`)")
    p.add_argument("--minutes", type=float, default=None, help="soak: how long (default 10)")
    p.add_argument("--clients", type=int, default=None, help="soak: how many (default 200)")
    ns = p.parse_args(argv)
    if ns.what == "soak":
        from bench import soak

        return soak.main(ns.clients, ns.minutes, ns.quick, ns.out, ns.markdown)
    info = machine()
    runners = _runners(ns.quick, ns.out)
    # Memory is measured with the fan-out's 5,000 sockets (one set of connections).
    wanted = list(runners) if ns.what == "all" else \
        ["fanout" if ns.what == "memory" else ns.what]
    results: list[Result] = []
    started = time.perf_counter()
    for name in wanted:
        print(f"== {name} ...", flush=True)
        t0 = time.perf_counter()
        try:
            got = runners[name]()
        except Exception as exc:  # one broken benchmark must not hide the others
            failed = Result(name)
            failed.notes.append(f"failed: {exc!r}")
            failed.add("run", float("nan"), "", note=f"FAILED: {exc!r}"[:200])
            got = [failed]
        for r in got:
            r.seconds = time.perf_counter() - t0
        if ns.what == "memory":
            got = [r for r in got if r.name == "memory"]
        results += got
        print(table(got), flush=True)
    total = time.perf_counter() - started
    info["load average at end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print()
    print(table(results))
    print(f"\n{total:.0f} s in all; plots in {ns.out}")
    markdown = ns.markdown or (ROOT / "BENCHMARKS.md" if ns.what == "all" and not ns.quick
                               else None)
    if markdown is not None:
        from bench.markdown import write

        write(markdown, results, info, total, ns.out)
        print(f"wrote {markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
