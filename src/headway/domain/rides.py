"""On-demand rides: a passenger's request, the offer made for it, and its life until it ends.

A ride's status only moves forward along

    offered → accepted → assigned → picked_up → completed
        ↘ declined | expired   ↘ cancelled ↙
    (refused: no offer could be made; the ride is stored with the reason)

``assigned`` means the pickup has been sent to the vehicle as part of an order;
before that the dispatcher may still move the ride to another vehicle. Every move is
appended to the history with its time. Planning (which vehicle, which windows) is the
dispatcher's business (``services/rides``, ``optimizer/dispatch``); this module holds
only the rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

from headway.domain.errors import HeadwayError


class RideStatus(StrEnum):
    OFFERED = "offered"
    """An offer stands; the passenger may accept it before it expires."""
    REFUSED = "refused"
    """No offer could be made; ``reason`` says why."""
    DECLINED = "declined"
    EXPIRED = "expired"
    """The offer was not accepted in time."""
    ACCEPTED = "accepted"
    """Booked: the pickup window and the drop-off promise hold from now on."""
    ASSIGNED = "assigned"
    """The vehicle has been sent the pickup."""
    PICKED_UP = "picked_up"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


FINAL = frozenset(
    {
        RideStatus.REFUSED,
        RideStatus.DECLINED,
        RideStatus.EXPIRED,
        RideStatus.COMPLETED,
        RideStatus.CANCELLED,
    }
)
BOOKED = frozenset({RideStatus.ACCEPTED, RideStatus.ASSIGNED, RideStatus.PICKED_UP})
"""Rides the dispatcher has promised to serve."""

_NEXT: dict[RideStatus, frozenset[RideStatus]] = {
    RideStatus.OFFERED: frozenset(
        {RideStatus.ACCEPTED, RideStatus.DECLINED, RideStatus.EXPIRED, RideStatus.CANCELLED}
    ),
    RideStatus.ACCEPTED: frozenset(
        {RideStatus.ASSIGNED, RideStatus.PICKED_UP, RideStatus.CANCELLED}
    ),
    RideStatus.ASSIGNED: frozenset(
        {RideStatus.ACCEPTED, RideStatus.PICKED_UP, RideStatus.CANCELLED}
    ),
    RideStatus.PICKED_UP: frozenset({RideStatus.COMPLETED}),
}


class RideError(HeadwayError):
    """Base of the ride errors; the message tells the passenger what to do."""


class IllegalRideTransition(RideError):
    def __init__(self, ride_id: str, current: RideStatus, wanted: RideStatus) -> None:
        super().__init__(f"ride {ride_id}: cannot go from {current} to {wanted}")
        self.current = current
        self.wanted = wanted


@dataclass(frozen=True, slots=True)
class Place:
    """Where a passenger wants to be picked up or set down, and the stop that serves it."""

    lat: float
    lon: float
    stop_id: str
    stop_name: str
    node: int
    walk_m: float
    """Straight-line distance from the requested point to the stop."""
    stop_lat: float = 0.0
    stop_lon: float = 0.0


@dataclass(frozen=True, slots=True)
class RideTransition:
    at: float
    status: RideStatus
    note: str = ""


@dataclass(frozen=True, slots=True)
class Ride:
    id: str
    passenger: str
    seats: int
    origin: Place
    destination: Place
    earliest_pickup: float
    status: RideStatus
    created_at: float
    updated_at: float
    vehicle_id: str = ""
    pickup_window: tuple[float, float] = (0.0, 0.0)
    pickup_eta: float = 0.0
    dropoff_eta: float = 0.0
    latest_dropoff: float = 0.0
    direct_s: float = 0.0
    """Travel time from stop to stop without detours."""
    offer_expires_at: float = 0.0
    reason: str = ""
    """Why a ride was refused, cancelled or expired (machine-readable)."""
    message: str = ""
    picked_up_at: float = 0.0
    completed_at: float = 0.0
    version: int = 0
    history: tuple[RideTransition, ...] = field(default_factory=tuple)

    @property
    def final(self) -> bool:
        return self.status in FINAL

    @property
    def booked(self) -> bool:
        return self.status in BOOKED


def can_move(current: RideStatus, wanted: RideStatus) -> bool:
    return wanted in _NEXT.get(current, frozenset())


def move(ride: Ride, status: RideStatus, at: float, note: str = "", **changes: object) -> Ride:
    """``ride`` in ``status`` (with ``changes`` applied), or IllegalRideTransition."""
    if not can_move(ride.status, status):
        raise IllegalRideTransition(ride.id, ride.status, status)
    step = RideTransition(at=at, status=status, note=note)
    return replace(
        ride,
        status=status,
        updated_at=at,
        history=(*ride.history, step),
        **changes,  # type: ignore[arg-type]
    )
