"""Argument checks that raise InvalidArgs with a message a person can act on."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from domain.errors import InvalidArgs
from domain.times import FIRST_DAY, LAST_DAY, is_date, is_time

MAX_TEXT = 2000


def text(args: Mapping[str, Any], key: str, what: str, *, required: bool = True) -> str | None:
    """A stripped non-empty string (or None when optional and absent)."""
    value = args.get(key)
    if value is None or (isinstance(value, str) and not value.strip() and not required):
        if required:
            raise InvalidArgs(f"Please give {what}.")
        return None
    if not isinstance(value, str):
        raise InvalidArgs(f"{what.capitalize()} must be text.")
    value = value.strip()
    if not value:
        raise InvalidArgs(f"Please give {what}.")
    if len(value) > MAX_TEXT:
        raise InvalidArgs(f"{what.capitalize()} is too long (at most {MAX_TEXT} characters).")
    return value


def required_text(args: Mapping[str, Any], key: str, what: str) -> str:
    value = text(args, key, what)
    assert value is not None
    return value


def day(args: Mapping[str, Any], key: str = "date") -> str:
    value = args.get(key)
    if not is_date(value):
        raise InvalidArgs(
            f"Please give a date as YYYY-MM-DD, between {FIRST_DAY.year} and {LAST_DAY.year}."
        )
    return str(value)


def clock(args: Mapping[str, Any], key: str, what: str) -> str:
    value = args.get(key)
    if not is_time(value):
        raise InvalidArgs(f"Please give {what} as HH:MM (24-hour).")
    return str(value)


def ids(args: Mapping[str, Any], key: str, what: str, *, at_least: int = 1) -> list[str]:
    value = args.get(key)
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise InvalidArgs(f"Please choose {what}.")
    unique = list(dict.fromkeys(value))
    if len(unique) < at_least:
        raise InvalidArgs(f"Please choose {what}.")
    return unique


def ident(args: Mapping[str, Any], key: str, what: str, *, required: bool = True) -> str | None:
    value = args.get(key)
    if value is None or value == "":
        if required:
            raise InvalidArgs(f"Please choose {what}.")
        return None
    if not isinstance(value, str):
        raise InvalidArgs(f"Please choose {what}.")
    return value


def choice(args: Mapping[str, Any], key: str, options: tuple[str, ...], what: str) -> str:
    value = args.get(key)
    if value not in options:
        raise InvalidArgs(f"Please choose {what}: {', '.join(options)}.")
    return str(value)


def amount(args: Mapping[str, Any], key: str, what: str, *, required: bool = True) -> float | None:
    value = args.get(key)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidArgs(f"Please give {what} as a number.")
    if value <= 0:
        raise InvalidArgs(f"{what.capitalize()} must be more than zero.")
    if value > 10_000_000:
        raise InvalidArgs(f"{what.capitalize()} is too large.")
    return float(value)


def flag(args: Mapping[str, Any], key: str, what: str) -> bool:
    value = args.get(key)
    if not isinstance(value, bool):
        raise InvalidArgs(f"Please say whether {what} (true or false).")
    return value


def only(args: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    """Refuse arguments the command does not know, so typos don't pass silently."""
    unknown = sorted(set(args) - set(allowed))
    if unknown:
        raise InvalidArgs(f"Unknown field(s): {', '.join(unknown)}.")
