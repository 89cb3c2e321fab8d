"""`bench ui --quick`: three Chromium windows against the embedded app, one
measured round of taps, the minimal Flet app's windows (a two-control page
and pages the size of Tandem's), then a few
headless web sessions on Tandem and on the minimal many-sessions app
(bench/ui_floor.py). No timing asserts
(a shared machine's figures mean nothing here): what must hold is that every
tap showed on every window, every stage of the breakdown was seen, and every
headless session received each change."""

from __future__ import annotations

import math

import pytest

from bench import ui
from bench.report import table
from tests.support.requires import require_binary

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def test_bench_ui_quick(capsys: pytest.CaptureFixture[str]) -> None:
    require_binary("chromium", "apt-get install -y chromium")
    windows, floor, screens, floor_screens = ui.run(1, quick=True, sizes=(3,), events=1)
    print(table([windows, floor, screens, floor_screens]))
    out = capsys.readouterr().out
    assert all(r.metric in out
               for r in windows.rows + floor.rows + screens.rows + floor_screens.rows)
    # the minimal Flet app beside it measured its windows, for both of its
    # pages: two controls, and Tandem's size (as many controls as each of
    # Tandem's pages shows at its taps, counted in this run)
    assert all(not math.isnan(r.measured) for r in floor.rows), table([floor])
    floor_by = {r.metric: r for r in floor.rows}
    for kind in ui.QUICK_PAGES:
        assert f"{kind.label}: own screen p50" in floor_by
        assert f"{kind.label}: other screen p50" in floor_by
    for user in (ui.OPERATOR, ui.THERAPIST, ui.DRIVER):
        ours = next(r for r in windows.rows if r.metric == f"page size, {user}: controls shown")
        sized = floor_by[f"page our size: page size, {user}: controls shown"]
        assert ours.measured > 50 and "semantics nodes" in ours.note, table([windows])
        # cards are added until the page has at least as many (one card more at most)
        assert ours.measured <= sized.measured < ours.measured + 30, table([windows, floor])

    by = {r.metric: r for r in windows.rows}
    assert "3 taps" in by["own screen p50"].note and "6 screens" in by["other screen p50"].note
    stages = [r for r in windows.rows if r.metric.startswith("stage (")]
    assert len(stages) == len(ui.OWN_STAGES) + len(ui.OTHER_STAGES)
    # every stage was found in the stamps of both sides (a missing one is NaN)
    assert all(not math.isnan(r.measured) for r in stages), table([windows])
    assert any("dominant stage" in n for n in windows.notes)

    for n in (3,):
        last = next(r for r in screens.rows if r.metric == f"{n} sessions: last one shows "
                                                               "the change")
        assert "0 missed" in last.note and not math.isnan(last.measured)
        memory = next(r for r in screens.rows if r.metric == f"{n} sessions: memory per session")
        assert memory.measured > 0
        moved = next(r for r in screens.rows
                     if r.metric == f"{n} sessions: last one shows a booking's new address")
        assert "0 missed" in moved.note and not math.isnan(moved.measured)
        # the minimal app's sessions each received every kind of change
        for what in ("the new card", "a booking's new address", "a card a fifth the size",
                     "a one-Text change"):
            row = next(r for r in floor_screens.rows
                       if r.metric == f"{n} sessions: last one shows {what}")
            assert "0 missed" in row.note and not math.isnan(row.measured), table([floor_screens])
