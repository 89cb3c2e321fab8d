"""A booking's end before its start is named as such; a short booking past
midnight is still fine."""

from __future__ import annotations

import pytest

from domain.booking import check_span
from domain.errors import InvalidArgs


@pytest.mark.parametrize(
    ("start", "end"),
    [("10:00", "11:00"), ("23:00", "01:00"), ("21:00", "09:00"), ("00:00", "23:59")],
)
def test_spans_that_make_sense(start: str, end: str) -> None:
    check_span(start, end)


@pytest.mark.parametrize(
    ("start", "end"), [("15:00", "14:00"), ("11:00", "10:59"), ("20:00", "08:01")]
)
def test_an_end_before_the_start(start: str, end: str) -> None:
    with pytest.raises(InvalidArgs) as exc:
        check_span(start, end)
    assert str(exc.value) == f"The end time {end} is before the start time {start}."
