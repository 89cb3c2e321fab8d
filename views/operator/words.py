"""The console's shared words: money, payment methods, clock times, days and
status labels, written once for every page that shows them."""

from __future__ import annotations

from datetime import date, timedelta

from domain.status import LABEL, Status
from domain.times import parse_time
from views.components.receipt import METHOD_LABELS

__all__ = ["CURRENCY", "METHOD_LABELS"]  # the methods' words live with the receipt field

CURRENCY = "₱"  # the business's money (services are priced in PHP)



def money(amount: float) -> str:
    """₱1,250 (centavos only when there are some: ₱99.50)."""
    if amount == int(amount):
        return f"{CURRENCY}{int(amount):,}"
    return f"{CURRENCY}{amount:,.2f}"


def capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


def status_label(status: Status) -> str:
    """The domain's short words for a status, as a legend entry."""
    return capitalized(LABEL[status])


def clock_text(hhmm: object) -> str:
    """'14:00' -> '2 pm', '09:30' -> '9:30 am', '00:00' -> '12 am'."""
    try:
        minutes = parse_time(str(hhmm))
    except ValueError:
        return str(hhmm or "")
    h, m = divmod(minutes, 60)
    suffix = "am" if h < 12 else "pm"
    h12 = h % 12 or 12
    return f"{h12} {suffix}" if not m else f"{h12}:{m:02d} {suffix}"


def day_text(day: object, today: date | None) -> str:
    """'' for today, ' tomorrow', ' yesterday' or ' on Sat 22 Nov'."""
    try:
        d = date.fromisoformat(str(day))
    except ValueError:
        return ""
    if today is None or d == today:
        return ""
    if d == today + timedelta(days=1):
        return " tomorrow"
    if d == today - timedelta(days=1):
        return " yesterday"
    return f" on {d.strftime('%a %d %b')}"
