"""Fixed routes: the routes with their stops and shape, and the coming arrivals at a
stop (scheduled and predicted). Readable by every signed-in role from passenger up.

Arrivals come from the fixed-route service's latest board, replaced whole once a tick,
so one response never mixes two ticks.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel

from headway.domain.transit import TransitFeed, TransitStop
from headway.domain.users import Role
from headway.entrypoints.api.context import ApiContext, Ctx, require
from headway.services.fixed_routes import FixedRouteService, route_shape, route_stops
from headway.services.identity import Principal

router = APIRouter(prefix="/api/v1", tags=["fixed routes"])

Rider = Annotated[Principal, Depends(require(Role.PASSENGER))]


class StopOut(BaseModel):
    id: str
    name: str
    lat: float
    lon: float
    on_road: bool
    """Placed on the road network (ETAs from travel times), or only by coordinates."""


class RouteOut(BaseModel):
    id: str
    agency_id: str
    short_name: str
    long_name: str
    type: int
    color: str


class RouteDirection(BaseModel):
    direction_id: int
    stops: list[StopOut]


class RouteDetail(RouteOut):
    directions: list[RouteDirection]
    shape: list[tuple[float, float]]
    """(lat, lon) points: the feed's shape, or the stops in order when it has none."""


class ArrivalOut(BaseModel):
    route_id: str
    route_name: str
    trip_id: str
    headsign: str
    vehicle_id: str | None
    scheduled: dt.datetime
    predicted: dt.datetime | None
    delay_s: float | None


class StopArrivals(BaseModel):
    stop: StopOut
    at: dt.datetime
    arrivals: list[ArrivalOut]


def _service(ctx: ApiContext) -> FixedRouteService:
    if ctx.transit is None:
        raise HTTPException(503, "this process runs no fixed-route service")
    return ctx.transit


def _stop_out(stop: TransitStop) -> StopOut:
    return StopOut(
        id=stop.id, name=stop.name, lat=stop.lat, lon=stop.lon, on_road=stop.place is not None
    )


def _route_out(feed: TransitFeed, route_id: str) -> RouteOut:
    r = feed.routes[route_id]
    return RouteOut(
        id=r.id,
        agency_id=r.agency_id,
        short_name=r.short_name,
        long_name=r.long_name,
        type=r.type,
        color=r.color,
    )


def _time(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, dt.UTC)


@router.get("/routes", operation_id="listRoutes")
async def list_routes(ctx: Ctx, _: Rider) -> list[RouteOut]:
    feed = _service(ctx).feed
    return [_route_out(feed, route_id) for route_id in sorted(feed.routes)]


@router.get("/routes/{route_id}", operation_id="getRoute")
async def get_route(ctx: Ctx, _: Rider, route_id: str) -> RouteDetail:
    feed = _service(ctx).feed
    if route_id not in feed.routes:
        raise HTTPException(404, f"no route {route_id!r}")
    directions = [
        RouteDirection(direction_id=d, stops=[_stop_out(feed.stops[s]) for s in stops])
        for d, stops in route_stops(feed, route_id).items()
    ]
    return RouteDetail(
        **_route_out(feed, route_id).model_dump(),
        directions=directions,
        shape=route_shape(feed, route_id),
    )


@router.get("/stops/{stop_id}/arrivals", operation_id="listStopArrivals")
async def stop_arrivals(
    ctx: Ctx,
    _: Rider,
    stop_id: str,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> StopArrivals:
    """The next arrivals at a stop, soonest (predicted, else scheduled) first."""
    service = _service(ctx)
    feed = service.feed
    stop = feed.stops.get(stop_id)
    if stop is None:
        raise HTTPException(404, f"no stop {stop_id!r}")
    board = service.board
    arrivals = [
        ArrivalOut(
            route_id=a.route_id,
            route_name=feed.routes[a.route_id].name,
            trip_id=a.trip_id,
            headsign=a.headsign,
            vehicle_id=a.vehicle_id,
            scheduled=_time(a.scheduled),
            predicted=None if a.predicted is None else _time(a.predicted),
            delay_s=None if a.predicted is None else round(a.predicted - a.scheduled, 1),
        )
        for a in board.arrivals(stop_id, limit)
    ]
    return StopArrivals(stop=_stop_out(stop), at=_time(board.at), arrivals=arrivals)
