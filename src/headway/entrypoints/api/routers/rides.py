"""On-demand rides: ask for one (an offer or a refusal with the reason), accept, decline,
cancel, and follow it with the vehicle's live position and ETA.

Passengers see their own rides; operators see everyone's. The router speaks to a
``RideDesk``: the ride service itself in the embedded profile, the dispatcher process
over Redis in the stack profile; the answers are the same.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response, status

from headway.domain.rides import Ride, RideStatus
from headway.domain.users import Role, allows
from headway.entrypoints.api.context import ApiContext, Ctx, Passenger
from headway.entrypoints.api.ride_schemas import RideIn, RideOut, RidePage, VehicleOut, ride_out
from headway.services.identity import Principal
from headway.services.ports import RideDesk
from headway.services.rides.errors import BadRideRequest, RideConflict, RideNotFound

router = APIRouter(prefix="/api/v1", tags=["rides"])


def _service(ctx: ApiContext) -> RideDesk:
    if ctx.rides is None:
        raise HTTPException(503, "this process does not take ride requests")
    return ctx.rides


def _owner(principal: Principal) -> str | None:
    """Whose rides the caller may see: their own, or (operators) anyone's."""
    return None if allows(principal.role, Role.OPERATOR) else principal.subject


async def _out(ctx: ApiContext, service: RideDesk, ride: Ride) -> RideOut:
    ride = await service.current(ride)
    vehicle = None
    if ride.vehicle_id and ride.status in (
        RideStatus.ACCEPTED,
        RideStatus.ASSIGNED,
        RideStatus.PICKED_UP,
    ):
        state = await ctx.live.get(ride.vehicle_id)
        wall = service.wall()
        target = ride.dropoff_eta if ride.status is RideStatus.PICKED_UP else ride.pickup_eta
        eta = max(0.0, target - wall) if target > 0 else None
        if state is None:
            vehicle = VehicleOut(id=ride.vehicle_id, eta_s=eta)
        else:
            vehicle = VehicleOut(
                id=ride.vehicle_id,
                lat=state.lat,
                lon=state.lon,
                heading_deg=round(90.0 - state.heading_rad * 57.29577951308232, 1) % 360.0,
                eta_s=None if eta is None else round(eta, 1),
            )
    return ride_out(ride, vehicle)


@router.post("/rides", status_code=status.HTTP_201_CREATED, operation_id="requestRide")
async def request_ride(ctx: Ctx, principal: Passenger, body: RideIn, response: Response) -> RideOut:
    """Ask for a ride: 201 with an offer (``status`` offered: accept it before
    ``offer_expires_at``) or a refusal (``status`` refused, with ``reason``)."""
    service = _service(ctx)
    earliest = None if body.earliest_pickup is None else body.earliest_pickup.timestamp()
    if body.earliest_pickup is not None and body.earliest_pickup.tzinfo is None:
        raise HTTPException(422, "earliest_pickup needs a time zone (e.g. 2026-11-28T08:00:00Z)")
    try:
        ride = await service.request(
            principal.subject,
            (body.origin.lat, body.origin.lon),
            (body.destination.lat, body.destination.lon),
            body.seats,
            earliest,
        )
    except BadRideRequest as exc:
        raise HTTPException(422, str(exc)) from None
    response.headers["Location"] = f"/api/v1/rides/{ride.id}"
    return await _out(ctx, service, ride)


@router.get("/rides", operation_id="listRides")
async def list_rides(
    ctx: Ctx,
    principal: Passenger,
    before: Annotated[str, Query(max_length=64)] = "",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> RidePage:
    """The caller's rides, newest first; page with ``before`` = the last id seen."""
    service = _service(ctx)
    rides = await service.mine(principal.subject, before, limit)
    items = [await _out(ctx, service, r) for r in rides]
    return RidePage(items=items, next_before=rides[-1].id if len(rides) == limit else None)


@router.get("/rides/{ride_id}", operation_id="getRide")
async def get_ride(ctx: Ctx, principal: Passenger, ride_id: str) -> RideOut:
    """The ride now: status, promised window, ETAs, and its vehicle's live position."""
    service = _service(ctx)
    try:
        ride = await service.get(_owner(principal), ride_id)
    except RideNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    return await _out(ctx, service, ride)


async def _act(ctx: ApiContext, principal: Principal, ride_id: str, action: str) -> RideOut:
    service = _service(ctx)
    owner = _owner(principal)
    try:
        if owner is None:  # an operator acts for the ride's passenger
            owner = (await service.get(None, ride_id)).passenger
        if action == "accept":
            ride = await service.accept(owner, ride_id)
        elif action == "decline":
            ride = await service.decline(owner, ride_id)
        else:
            ride = await service.cancel(owner, ride_id)
    except RideNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except RideConflict as exc:
        raise HTTPException(409, str(exc)) from None
    return await _out(ctx, service, ride)


@router.post("/rides/{ride_id}/accept", operation_id="acceptRide")
async def accept_ride(ctx: Ctx, principal: Passenger, ride_id: str) -> RideOut:
    """Book the offer: its pickup window and latest drop-off become promises."""
    return await _act(ctx, principal, ride_id, "accept")


@router.post("/rides/{ride_id}/decline", operation_id="declineRide")
async def decline_ride(ctx: Ctx, principal: Passenger, ride_id: str) -> RideOut:
    return await _act(ctx, principal, ride_id, "decline")


@router.post("/rides/{ride_id}/cancel", operation_id="cancelRide")
async def cancel_ride(ctx: Ctx, principal: Passenger, ride_id: str) -> RideOut:
    """Cancel an offered or booked ride, until the passenger is picked up."""
    return await _act(ctx, principal, ride_id, "cancel")
