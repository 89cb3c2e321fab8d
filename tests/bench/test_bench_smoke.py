"""Each benchmark runs at a tiny size against real servers on loopback and
prints its table. No timing asserts: figures on a shared machine mean nothing
here; what must hold is that every benchmark completes, verifies what it
claims (deliveries, 0 lost / 0 duplicated) and reports a row per figure."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from bench import drain, fanout, local, propagation, throughput
from bench.report import Result, table


def _check(res: Result, capsys: pytest.CaptureFixture[str]) -> None:
    print(table([res]))
    out = capsys.readouterr().out
    assert res.rows and all(r.metric in out for r in res.rows)
    assert all(not math.isnan(r.measured) for r in res.rows), table([res])


@pytest.mark.slow  # these three start servers and client processes: the full suite only
def test_propagation_delivers_to_every_client(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    res = propagation.run((3,), {3: (3, 0.05)}, tmp_path)
    _check(res, capsys)
    delivered = next(r for r in res.rows if "last recipient" in r.metric)
    assert "0 missing" in delivered.note
    assert (tmp_path / "propagation.png").stat().st_size > 0


@pytest.mark.slow
def test_throughput(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    res = throughput.run((1, 3), 0.5, tmp_path, batched=(2,))
    _check(res, capsys)
    assert all(r.measured > 0 for r in res.rows)


@pytest.mark.slow
def test_fanout_and_memory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fan, mem = fanout.run((20, 40), 1, tmp_path)
    _check(fan, capsys)
    _check(mem, capsys)


def test_client_local(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _check(local.run((50, 100), 5, tmp_path), capsys)


def test_drain_loses_and_duplicates_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    res = drain.run(20)
    _check(res, capsys)
    lost, dup = res.rows[1], res.rows[2]
    assert lost.measured == 0 and dup.measured == 0


def test_device_cold_start_shows_the_cached_trips(capsys: pytest.CaptureFixture[str]) -> None:
    from bench import device

    _check(device.run((50,), 2), capsys)
