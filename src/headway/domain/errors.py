"""Domain errors.

HeadwayError
 ├── UnknownVehicle      a vehicle id no one registered
 ├── InvalidMessage      a wire message that cannot be accepted (the reason says why)
 └── StoreUnavailable    a backing service (Redis, PostgreSQL, Kafka) cannot be reached
"""


class HeadwayError(Exception):
    """Base of every error Headway raises on purpose."""


class UnknownVehicle(HeadwayError):
    def __init__(self, vehicle_id: str) -> None:
        super().__init__(f"unknown vehicle {vehicle_id!r}: register it before it connects")
        self.vehicle_id = vehicle_id


class InvalidMessage(HeadwayError):
    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class StoreUnavailable(HeadwayError):
    """Retry later: the store is down or restarting; nothing was changed."""
