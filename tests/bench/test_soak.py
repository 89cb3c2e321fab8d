"""The soak benchmark at a tiny size (one team of six clients, 12 s, one
worker process) against a real server on loopback. No timing asserts: what
must hold is the report's shape, that the workload is valid (nothing refused),
and that every client converged and every witness is in the log once."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from bench import soak
from bench.report import Result, Row, table


def _row(res: Result, start: str) -> Row:
    return next(r for r in res.rows if r.metric.startswith(start))


@pytest.mark.slow  # a soak, however tiny
def test_tiny_soak_converges(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    res, run = soak.run(6, 0.2, think=0.5, sample_s=1.0, out_dir=tmp_path)
    print(table([res]))
    print(soak.minutes_table(run))
    out = capsys.readouterr().out
    assert not run.failure, run.failure
    assert res.rows and all(r.metric in out for r in res.rows)

    assert run.online_at_start == 6 and run.procs == 1
    assert len(run.samples) >= 10 and all(s.rss > 0 and s.probe for s in run.samples)
    assert len(run.bins()) >= 3  # warm-up, first and last windows
    assert _row(res, "commands applied").measured > 0
    for name in ("server RSS: last", "server RSS: highest", "command p50", "propagation p50"):
        assert not math.isnan(_row(res, name).measured), name
    assert run.refused == {} and run.failed == 0  # a valid workload: nothing refused
    assert _row(res, "clients whose store").measured == 0, run.not_converged
    assert run.idle == 6
    assert run.witnesses > 0 and run.witness_problems == []
    assert sum(run.statuses.values()) > 0  # the team booked and moved appointments
    assert (tmp_path / "soak.png").stat().st_size > 0

    text = soak.section(res, run, tmp_path / "soak.png")
    assert text.startswith(soak.BEGIN) and text.endswith(soak.END)
    assert "| window |" in text and "warm-up" in text


def test_section_is_replaced_not_repeated(tmp_path: Path) -> None:
    doc = tmp_path / "BENCHMARKS.md"
    doc.write_text("# Tandem benchmarks\n\n## Results\n\nx\n\n## Findings\n\ny\n")
    first = f"{soak.BEGIN}\n## Soak\n\nold\n{soak.END}"
    soak.save_section(first, doc)
    text = doc.read_text()
    assert text.index("## Results") < text.index("old") < text.index("## Findings")
    soak.save_section(first.replace("old", "new"), doc)
    text = doc.read_text()
    assert "new" in text and "old" not in text and text.count(soak.BEGIN) == 1
    assert text.endswith("## Findings\n\ny\n")
