"""The client's JSON: bytes in, bytes out, the standard library's `json`.

One place decides the JSON library of everything that runs on a phone or a
tablet (the cache and outbox files, the session file, the wire). It is the
standard library because a phone bundle may hold only pure-Python packages or
ones Flet's mobile index builds, and orjson is neither (no Android or iOS wheel
on PyPI; the mobile index builds an older release). The client benchmark
measured the cost (BENCHMARKS.md, "Client JSON"). The server keeps orjson.

It writes what orjson wrote (compact UTF-8), so files written by
an earlier version read the same, and every kind of bad input is one
`DecodeError`.
"""

from __future__ import annotations

import json
from typing import Any

_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
_decoder = json.JSONDecoder(parse_constant=lambda name: _refuse(name))


class DecodeError(ValueError):
    """Not JSON (or not UTF-8, or NaN/Infinity, which JSON doesn't have)."""


def _refuse(name: str) -> Any:
    raise DecodeError(f"{name} is not JSON")


def dumps(value: Any) -> bytes:
    """`value` as compact UTF-8 JSON. ValueError for NaN, infinities and lone
    surrogates (not JSON either); TypeError for what isn't a JSON type."""
    return _encoder.encode(value).encode()


def loads(data: bytes | bytearray | memoryview | str) -> Any:
    """The value `data` holds; DecodeError when it isn't UTF-8 JSON."""
    try:
        text = data if isinstance(data, str) else bytes(data).decode()
        return _decoder.decode(text)
    except DecodeError:
        raise
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DecodeError(str(exc)) from None
