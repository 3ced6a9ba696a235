"""Ride service errors.

RideError (domain)
 ├── RideNotFound      no such ride, or not the caller's
 ├── RideConflict      the ride's status does not allow this (accept an expired offer, ...)
 └── BadRideRequest    the request cannot be planned as given (points, seats, times)
"""

from __future__ import annotations

from headway.domain.rides import RideError


class RideNotFound(RideError):
    def __init__(self, ride_id: str) -> None:
        super().__init__(f"no ride {ride_id!r}")
        self.ride_id = ride_id


class RideConflict(RideError):
    pass


class BadRideRequest(RideError):
    pass
