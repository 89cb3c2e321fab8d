"""A small world for view tests: one therapist, one driver, an operator."""

from __future__ import annotations

from domain.records import Entity, Record
from domain.status import Status
from views.components import clock

TODAY = clock.today().isoformat()

THERAPIST: Record = {"id": "t1", "username": "therapist1", "role": "therapist", "name": "Ana"}
DRIVER: Record = {"id": "d1", "username": "driver1", "role": "driver", "name": "Ben"}
OPERATOR: Record = {"id": "o1", "username": "operator", "role": "operator", "name": "Olga"}


def staff(user: Record, **extra: object) -> Record:
    return {**user, "version": 1, "active": True, "on_duty": True, **extra}


def appointment(id: str, status: Status | str, start: str = "10:00", **extra: object) -> Record:
    return {
        "id": id,
        "version": 1,
        "status": str(status),
        "client_id": "c1",
        "client_name": f"Client {id}",
        "service_ids": ["s1"],
        "therapist_ids": ["t1"],
        "accepted_by": [],
        "driver_id": "d1",
        "pickup_driver_id": "d1",
        "date": TODAY,
        "start_time": start,
        "end_time": "11:00",
        "location": "12 Palm Street",
        "response_deadline": "2999-01-01T00:00:00Z",
        **extra,
    }


def world(*appointments: Record) -> dict[Entity, list[Record]]:
    return {
        "appointment": list(appointments),
        "staff": [staff(THERAPIST), staff(DRIVER), staff(OPERATOR)],
        "service": [
            {"id": "s1", "version": 1, "name": "Swedish massage", "minutes": 60, "price": 900}
        ],
        "availability": [],
        "notification": [],
        "client": [],
    }
