"""Errors of the command service.

CommandError
 ├── UnknownCommandVehicle   no vehicle of that id is provisioned
 ├── CommandRefused          the request cannot be carried out as given (says why)
 ├── IdempotencyConflict     an Idempotency-Key reused for a different request
 └── NotTranslatable         a command cannot be turned into a VDA 5050 message now
"""

from __future__ import annotations

from headway.domain.errors import HeadwayError


class CommandError(HeadwayError):
    """Base of the command service's errors."""


class UnknownCommandVehicle(CommandError):
    def __init__(self, vehicle_id: str) -> None:
        super().__init__(
            f"no vehicle {vehicle_id!r} is provisioned: register it (POST /api/v1/vehicles) first"
        )
        self.vehicle_id = vehicle_id


class CommandRefused(CommandError):
    pass


class IdempotencyConflict(CommandError):
    def __init__(self, key: str, command_id: str) -> None:
        super().__init__(
            f"Idempotency-Key {key!r} was already used for a different request "
            f"(command {command_id}); use a new key for a new request"
        )
        self.command_id = command_id


class NotTranslatable(CommandError):
    """Raised with a reason that ends the command as failed."""
