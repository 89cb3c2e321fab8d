"""Results: one table row per measured figure, printed and written to BENCHMARKS.md."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

OK, MISS, INFO = "pass", "MISS", "-"


@dataclass
class Row:
    bench: str
    metric: str
    measured: float
    unit: str
    target: float | None = None  # None: reported, no target
    higher_is_better: bool = False
    note: str = ""

    @property
    def verdict(self) -> str:
        if self.target is None:
            return INFO
        if math.isnan(self.measured):
            return MISS
        ok = self.measured >= self.target if self.higher_is_better else self.measured <= self.target
        return OK if ok else MISS

    def target_text(self) -> str:
        if self.target is None:
            return ""
        op = ">=" if self.higher_is_better else "<="
        return f"{op} {_num(self.target)} {self.unit}"

    def measured_text(self) -> str:
        return f"{_num(self.measured)} {self.unit}"


@dataclass
class Result:
    name: str
    rows: list[Row] = field(default_factory=list)
    plots: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, metric: str, measured: float, unit: str, target: float | None = None, *,
            higher_is_better: bool = False, note: str = "") -> Row:
        row = Row(self.name, metric, measured, unit, target, higher_is_better, note)
        self.rows.append(row)
        return row


@contextmanager
def figure(path: Path, *grid: int, dpi: int = 100, **options: Any) -> Iterator[tuple[Any, Any]]:
    """A headless matplotlib figure and its axes (`plt.subplots(*grid, **options)`),
    laid out and saved to `path` when the block ends, closed either way."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(*grid, **options)
    try:
        yield fig, axes
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=dpi)
    finally:
        plt.close(fig)


def _num(x: float) -> str:
    if isinstance(x, float) and math.isnan(x):
        return "n/a"
    if x == int(x) and abs(x) >= 100:
        return f"{int(x):,}"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}" if abs(x) >= 0.1 else f"{x:.3f}"


def table(results: list[Result]) -> str:
    """A GitHub-markdown table (also readable in a terminal)."""
    head = ["benchmark", "metric", "target", "measured", "verdict", "note"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for res in results:
        for r in res.rows:
            lines.append(f"| {r.bench} | {r.metric} | {r.target_text()} | {r.measured_text()} "
                         f"| {r.verdict} | {r.note} |")
    return "\n".join(lines)
