"""Choosing a driver for the return trip: the longest-idle free driver."""

from __future__ import annotations

from collections.abc import Iterable

from domain.records import Record
from domain.status import Status

# A driver is busy while carrying a therapist out or back.
OUTBOUND_BUSY = frozenset({Status.IN_PROGRESS, Status.JOURNEY, Status.ARRIVED})
RETURN_BUSY = frozenset({Status.DRIVER_ASSIGNED_PICKUP, Status.RETURN_JOURNEY})
DRIVER_BUSY = OUTBOUND_BUSY | RETURN_BUSY
# Ties up a driver or waits for one: the pickup commands read every appointment
# in one of these, whatever its date.
DRIVING = DRIVER_BUSY | {Status.PICKUP_REQUESTED}


def busy_drivers(appointments: Iterable[Record]) -> set[str]:
    busy: set[str] = set()
    for appt in appointments:
        status = Status(appt["status"])
        if status in OUTBOUND_BUSY and appt.get("driver_id"):
            busy.add(appt["driver_id"])
        if status in RETURN_BUSY and appt.get("pickup_driver_id"):
            busy.add(appt["pickup_driver_id"])
    return busy


def is_free(driver: Record, busy: set[str]) -> bool:
    return (
        driver.get("role") == "driver"
        and bool(driver.get("active", True))
        and bool(driver.get("on_duty", True))
        and driver["id"] not in busy
    )


def free_drivers(staff: Iterable[Record], appointments: Iterable[Record]) -> list[Record]:
    """Free drivers, longest idle first (never idle-stamped counts as longest)."""
    busy = busy_drivers(appointments)
    free = [d for d in staff if is_free(d, busy)]
    return sorted(free, key=lambda d: (d.get("last_available_at") or "", d["id"]))


def longest_idle(staff: Iterable[Record], appointments: Iterable[Record]) -> Record | None:
    free = free_drivers(staff, appointments)
    return free[0] if free else None
