"""Domain errors: every refusal carries a stable code, an HTTP status hint and
a friendly message a person can act on.

    DomainError
     ├── InvalidArgs          422 invalid_args         (missing or malformed arguments)
     ├── NotFound             404 not_found            (the record does not exist / is not visible)
     ├── Forbidden            403 forbidden            (role or ownership does not allow it)
     ├── UnknownCommand       400 unknown_command
     └── Conflict             409 (the state of the world refuses it)
          ├── InvalidTransition    invalid_transition  (wrong status for that action)
          ├── VersionConflict      version_conflict    (a field edit on a stale version)
          ├── DoubleBooked         double_booked       (therapist already booked then)
          ├── Unavailable          therapist_unavailable (no available slot covers it)
          ├── Overlap              availability_overlap (slots of one person overlap)
          └── DriverBusy           driver_busy         (driver on another trip / off duty)

An illegal command raises one of these and changes nothing.
"""

from __future__ import annotations


class DomainError(Exception):
    code: str = "domain_error"
    status: int = 400

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def to_wire(self) -> dict[str, str]:
        return {"status": "rejected", "code": self.code, "message": self.message}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class InvalidArgs(DomainError):
    code = "invalid_args"
    status = 422


class NotFound(DomainError):
    code = "not_found"
    status = 404


class Forbidden(DomainError):
    code = "forbidden"
    status = 403


class UnknownCommand(DomainError):
    code = "unknown_command"
    status = 400


class Conflict(DomainError):
    code = "conflict"
    status = 409


class InvalidTransition(Conflict):
    code = "invalid_transition"


class VersionConflict(Conflict):
    code = "version_conflict"


class DoubleBooked(Conflict):
    code = "double_booked"


class Unavailable(Conflict):
    code = "therapist_unavailable"


class Overlap(Conflict):
    code = "availability_overlap"


class DriverBusy(Conflict):
    code = "driver_busy"
