"""Errors raised by the dispatch engine.

    DispatchError
     ├── UnknownVehicleError   no vehicle with that id was set
     ├── UnknownRideError      no ride with that id was offered
     └── RideStateError        the call does not fit the ride's phase (accept an expired
                               offer, pick up a cancelled ride, ...)

Refusing a request is not an error: ``offer`` returns a ``Refusal``.
"""

from __future__ import annotations


class DispatchError(Exception):
    """Base class for every error of headway.optimizer.dispatch."""


class UnknownVehicleError(DispatchError, KeyError):
    def __init__(self, vehicle_id: str) -> None:
        super().__init__(f"no vehicle {vehicle_id!r}: call set_vehicle first")
        self.vehicle_id = vehicle_id


class UnknownRideError(DispatchError, KeyError):
    def __init__(self, ride_id: str) -> None:
        super().__init__(f"no ride {ride_id!r}: it was never offered")
        self.ride_id = ride_id


class RideStateError(DispatchError, ValueError):
    def __init__(self, ride_id: str, phase: str, action: str) -> None:
        super().__init__(f"ride {ride_id!r} is {phase}: cannot {action} it")
        self.ride_id = ride_id
        self.phase = phase
        self.action = action
