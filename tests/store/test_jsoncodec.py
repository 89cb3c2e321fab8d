"""The client's JSON (store.jsoncodec, the standard library) reads what orjson
wrote (cache, outbox and session files of an earlier version) and writes the
same compact UTF-8 (byte for byte but for how a float's exponent is spelled);
every kind of bad input is one DecodeError."""

from __future__ import annotations

import math
from typing import Any

import orjson
import pytest

from store import jsoncodec

VALUES: list[Any] = [
    {},
    [],
    {"id": "a1", "version": 3, "price": 1250.5, "paid": True, "notes": None},
    {"note": "é \"quoted\" \\ back\nslash \u2028 tab\t 🙂 \x01", "ids": ["t1", "t2"]},
    {"nested": {"deep": [{"n": -7}, [1.0, 0.1, 1e22]]}},
    "just a string",
    12,
]


@pytest.mark.parametrize("value", VALUES)
def test_the_bytes_are_the_ones_orjson_wrote(value: Any) -> None:
    assert jsoncodec.dumps(value) == orjson.dumps(value)
    assert jsoncodec.loads(orjson.dumps(value)) == value
    assert jsoncodec.loads(jsoncodec.dumps(value)) == value


def test_floats_read_back_the_same_whoever_wrote_them() -> None:
    value = [2.5e-07, 1e-300, 123456789.125, -0.0, 1.7976931348623157e308]
    assert jsoncodec.loads(orjson.dumps(value)) == value
    assert orjson.loads(jsoncodec.dumps(value)) == value


def test_it_reads_bytes_memoryviews_and_text() -> None:
    raw = b'{"a":[1,2]}'
    assert jsoncodec.loads(raw) == jsoncodec.loads(memoryview(raw)) \
        == jsoncodec.loads(bytearray(raw)) == jsoncodec.loads(raw.decode()) == {"a": [1, 2]}


@pytest.mark.parametrize("raw", [
    b"{not json", b"", b'{"a":1} trailing', b"\xff\xfe{}", b'"\xc3"', b"NaN",
    b'{"x":Infinity}', b'[-Infinity]',
])
def test_bad_input_is_one_decode_error(raw: bytes) -> None:
    with pytest.raises(jsoncodec.DecodeError):
        jsoncodec.loads(raw)
    assert issubclass(jsoncodec.DecodeError, ValueError)  # the callers' `except ValueError`


@pytest.mark.parametrize("value", [math.nan, math.inf, {"x": -math.inf}])
def test_what_json_does_not_have_is_refused_not_written(value: Any) -> None:
    with pytest.raises(ValueError):
        jsoncodec.dumps(value)
