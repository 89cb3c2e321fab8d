"""Sales reports: the verified payments summed by day, week or month, by
therapist and by service, each with its payment-method split.

Pure functions over records, shared by the operator's Reports page (the
client's cache) and the server's CSV export (the database), so both say
the same numbers. Money is counted in centavos (ints) so sums are exact; a
sale with several therapists or services is split among them, the
remainder centavo by centavo to the first ones, so every split adds up to
the sale.

A sale is an appointment whose payment was verified: its `payment.amount`
plus the `extension_amount` (extra time paid for at the door), on the
appointment's date (the business's day of the session).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal, get_args

from domain.appointments import PAYMENT_METHODS
from domain.records import Record, staff_name

Grain = Literal["day", "week", "month"]
GRAINS: tuple[Grain, ...] = get_args(Grain)
By = Literal["day", "week", "month", "therapist", "service"]
BYS: tuple[By, ...] = get_args(By)

CANCELLED = frozenset({"cancelled", "auto_cancelled", "rejected"})


@dataclass(frozen=True)
class Sale:
    appointment_id: str
    date: str  # YYYY-MM-DD
    method: str
    total: int  # centavos
    therapist_ids: tuple[str, ...]
    service_ids: tuple[str, ...]


@dataclass(frozen=True)
class Row:
    """One line of a report: a period, a therapist or a service."""

    key: str
    label: str
    count: int  # sessions (a shared one counts for each of its people or services)
    total: int  # centavos
    by_method: Mapping[str, int] = field(default_factory=dict)  # centavos per method


def centavos(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return round(value * 100)


def takings(appointment: Record) -> int:
    """What its verified payment brought in, in centavos: the amount plus any
    service extension (entered on top of the amount); nothing while unpaid,
    nor when it was called off."""
    pay = appointment.get("payment")
    if not isinstance(pay, Mapping) or appointment.get("status") in CANCELLED:
        return 0
    return centavos(pay.get("amount")) + centavos(pay.get("extension_amount"))


def sales(appointments: Iterable[Record], start: str | None = None,
          end: str | None = None) -> list[Sale]:
    """The verified payments among `appointments` dated `start`..`end`
    (inclusive, either open), oldest first."""
    out = []
    for a in appointments:
        pay = a.get("payment")
        day = str(a.get("date") or "")
        if not isinstance(pay, Mapping) or a.get("status") in CANCELLED or not day:
            continue
        if (start and day < start) or (end and day > end):
            continue
        out.append(Sale(str(a["id"]), day, str(pay.get("method") or "cash"), takings(a),
                        tuple(a.get("therapist_ids") or ()), tuple(a.get("service_ids") or ())))
    out.sort(key=lambda s: (s.date, s.appointment_id))
    return out


def split(total: int, weights: Sequence[int]) -> list[int]:
    """`total` shared in proportion to `weights` (evenly when they are all
    zero), exact: the parts add up to `total`."""
    if not weights:
        return []
    if not any(w > 0 for w in weights):
        weights = [1] * len(weights)
    weights = [max(0, w) for w in weights]
    whole = sum(weights)
    parts = [total * w // whole for w in weights]
    for i in range(total - sum(parts)):
        parts[i % len(parts)] += 1
    return parts


def period(day: str, grain: Grain) -> str:
    """The period a date falls in: the date, its week's Monday, or YYYY-MM."""
    if grain == "day":
        return day
    if grain == "month":
        return day[:7]
    d = date.fromisoformat(day)
    return (d - timedelta(days=d.weekday())).isoformat()


def period_label(key: str, grain: Grain) -> str:
    if grain == "day":
        return date.fromisoformat(key).strftime("%a %d %b %Y")
    if grain == "month":
        return date.fromisoformat(key + "-01").strftime("%B %Y")
    monday = date.fromisoformat(key)
    sunday = monday + timedelta(days=6)
    return f"Week of {monday.strftime('%d %b')} – {sunday.strftime('%d %b %Y')}"


class _Sums:
    def __init__(self) -> None:
        self.count: dict[str, int] = {}
        self.total: dict[str, int] = {}
        self.methods: dict[str, dict[str, int]] = {}

    def add(self, key: str, amount: int, method: str) -> None:
        self.count[key] = self.count.get(key, 0) + 1
        self.total[key] = self.total.get(key, 0) + amount
        per = self.methods.setdefault(key, {})
        per[method] = per.get(method, 0) + amount

    def rows(self, label: Mapping[str, str]) -> list[Row]:
        return [Row(k, label.get(k, k), self.count[k], self.total[k],
                    {m: self.methods[k].get(m, 0) for m in _methods(self.methods[k])})
                for k in self.total]


def _methods(seen: Iterable[str]) -> list[str]:
    known = [m for m in PAYMENT_METHODS]
    return known + sorted(set(seen) - set(known))


def by_period(found: Iterable[Sale], grain: Grain) -> list[Row]:
    """Sales per day, week or month, oldest first (periods without a sale
    are left out)."""
    sums = _Sums()
    for s in found:
        sums.add(period(s.date, grain), s.total, s.method)
    rows = sums.rows({})
    rows = [Row(r.key, period_label(r.key, grain), r.count, r.total, r.by_method) for r in rows]
    return sorted(rows, key=lambda r: r.key)


def by_therapist(found: Iterable[Sale], staff: Iterable[Record]) -> list[Row]:
    """Sales per therapist, largest first; a session of several therapists
    shared evenly among them."""
    sums = _Sums()
    for s in found:
        people = s.therapist_ids or ("",)
        for who, part in zip(people, split(s.total, [1] * len(people)), strict=True):
            sums.add(who, part, s.method)
    names = {r["id"]: staff_name(r) for r in staff}
    names[""] = "No therapist"
    return sorted(sums.rows(names), key=lambda r: (-r.total, r.label))


def by_service(found: Iterable[Sale], services: Iterable[Record]) -> list[Row]:
    """Sales per service, largest first; a session of several services shared
    in proportion to their list prices."""
    listed = {r["id"]: r for r in services}
    sums = _Sums()
    for s in found:
        ids = s.service_ids or ("",)
        weights = [centavos((listed.get(i) or {}).get("price")) for i in ids]
        for sid, part in zip(ids, split(s.total, weights), strict=True):
            sums.add(sid, part, s.method)
    names = {k: str(r.get("name") or k) for k, r in listed.items()}
    names[""] = "No service"
    return sorted(sums.rows(names), key=lambda r: (-r.total, r.label))


def report(by: By, found: Sequence[Sale], staff: Iterable[Record],
           services: Iterable[Record]) -> list[Row]:
    if by == "therapist":
        return by_therapist(found, staff)
    if by == "service":
        return by_service(found, services)
    return by_period(found, by)


def totals(found: Iterable[Sale]) -> Row:
    """Every sale together: the report's bottom line."""
    sums = _Sums()
    for s in found:
        sums.add("total", s.total, s.method)
    rows = sums.rows({"total": "Total"})
    return rows[0] if rows else Row("total", "Total", 0, 0, {m: 0 for m in PAYMENT_METHODS})


def pesos(amount: int) -> str:
    """Centavos as a plain decimal number (for CSV: no symbol, no separators)."""
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(amount) // 100}.{abs(amount) % 100:02d}"


def to_csv(by: By, rows: Sequence[Row], total: Row) -> str:
    """A report as CSV: one line per row, the method columns in pesos, and
    the `total` line."""
    methods = _methods(m for r in [*rows, total] for m in r.by_method)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow([by, "label", "sessions", "total", *methods])
    for r in [*rows, total]:
        w.writerow([r.key, r.label, r.count, pesos(r.total),
                    *(pesos(r.by_method.get(m, 0)) for m in methods)])
    return out.getvalue()
