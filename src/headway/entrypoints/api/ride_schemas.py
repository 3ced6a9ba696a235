"""API models of rides: the passenger's request and the ride as the passenger sees it."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field

from headway.domain.rides import Place, Ride


class PointIn(BaseModel):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class RideIn(BaseModel):
    origin: PointIn
    destination: PointIn
    seats: int = Field(default=1, ge=1, le=8)
    earliest_pickup: datetime | None = Field(
        default=None, description="no earlier than this (ISO 8601 with zone); now if left out"
    )


class PlaceOut(BaseModel):
    lat: float
    lon: float
    stop_id: str
    stop_name: str
    stop_lat: float | None = Field(default=None, description="where the stop itself is")
    stop_lon: float | None = None
    walk_m: float


class WindowOut(BaseModel):
    start: datetime
    end: datetime


class VehicleOut(BaseModel):
    id: str
    lat: float | None = None
    lon: float | None = None
    heading_deg: float | None = None
    eta_s: float | None = Field(
        default=None, description="seconds until the vehicle reaches the next stop of this ride"
    )


class RideOut(BaseModel):
    id: str
    status: str
    seats: int
    pickup: PlaceOut
    dropoff: PlaceOut
    earliest_pickup: datetime
    pickup_window: WindowOut | None = None
    pickup_eta: datetime | None = None
    dropoff_eta: datetime | None = None
    latest_dropoff: datetime | None = None
    offer_expires_at: datetime | None = None
    picked_up_at: datetime | None = None
    completed_at: datetime | None = None
    vehicle: VehicleOut | None = None
    reason: str | None = None
    message: str | None = None
    created_at: datetime
    updated_at: datetime


class RidePage(BaseModel):
    items: list[RideOut]
    next_before: str | None = None


def _time(t: float) -> datetime | None:
    return datetime.fromtimestamp(t, UTC) if t > 0 else None


def _place(p: Place) -> PlaceOut:
    return PlaceOut(
        lat=p.lat,
        lon=p.lon,
        stop_id=p.stop_id,
        stop_name=p.stop_name,
        stop_lat=p.stop_lat if p.stop_id else None,
        stop_lon=p.stop_lon if p.stop_id else None,
        walk_m=p.walk_m,
    )


def ride_out(ride: Ride, vehicle: VehicleOut | None = None) -> RideOut:
    start, end = ride.pickup_window
    return RideOut(
        id=ride.id,
        status=ride.status.value,
        seats=ride.seats,
        pickup=_place(ride.origin),
        dropoff=_place(ride.destination),
        earliest_pickup=datetime.fromtimestamp(ride.earliest_pickup, UTC),
        pickup_window=WindowOut(
            start=datetime.fromtimestamp(start, UTC), end=datetime.fromtimestamp(end, UTC)
        )
        if end > 0
        else None,
        pickup_eta=_time(ride.pickup_eta),
        dropoff_eta=_time(ride.dropoff_eta),
        latest_dropoff=_time(ride.latest_dropoff),
        offer_expires_at=_time(ride.offer_expires_at),
        picked_up_at=_time(ride.picked_up_at),
        completed_at=_time(ride.completed_at),
        vehicle=vehicle,
        reason=ride.reason or None,
        message=ride.message or None,
        created_at=datetime.fromtimestamp(ride.created_at, UTC),
        updated_at=datetime.fromtimestamp(ride.updated_at, UTC),
    )
