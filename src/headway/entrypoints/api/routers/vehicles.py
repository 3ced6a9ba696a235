"""Vehicles: the live fleet, one vehicle, its recent track; alerts; dead letters."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response, status

from headway.domain.vehicles import VehicleStatus
from headway.entrypoints.api.context import Admin, Ctx, Operator
from headway.entrypoints.api.schemas import (
    AlertOut,
    AlertPage,
    DeadLetterPage,
    NearbyPage,
    NearbyVehicle,
    TrackOut,
    TrackPoint,
    VehicleOut,
    VehiclePage,
    VehicleRegistration,
    alert_dict,
    dead_letter_out,
    vehicle_dict,
)
from headway.services.ports import BBox

router = APIRouter(prefix="/api/v1", tags=["fleet"])

BBoxText = Annotated[
    str | None,
    Query(
        description="min_lon,min_lat,max_lon,max_lat (WGS84)",
        pattern=r"^-?\d+(\.\d+)?(,-?\d+(\.\d+)?){3}$",
    ),
]


def _bbox(text: str | None) -> BBox | None:
    if text is None:
        return None
    a, b, c, d = (float(v) for v in text.split(","))
    if a > c or b > d:
        raise HTTPException(422, "bbox must be min_lon,min_lat,max_lon,max_lat with min <= max")
    return BBox(a, b, c, d)


@router.get("/vehicles", operation_id="listVehicles")
async def list_vehicles(
    ctx: Ctx,
    _: Operator,
    status_: Annotated[VehicleStatus | None, Query(alias="status")] = None,
    bbox: BBoxText = None,
    cursor: Annotated[str, Query(max_length=128)] = "",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> VehiclePage:
    found = await ctx.live.query(status_, _bbox(bbox), after=cursor, limit=limit + 1)
    page = found[:limit]
    more = len(found) > limit
    return VehiclePage(
        items=[VehicleOut.model_validate(vehicle_dict(s)) for s in page],
        next_cursor=page[-1].id if more else None,
    )


@router.get("/vehicles/nearby", operation_id="listNearbyVehicles")
async def nearby_vehicles(
    ctx: Ctx,
    _: Operator,
    lat: Annotated[float, Query(ge=-90, le=90)],
    lon: Annotated[float, Query(ge=-180, le=180)],
    radius_m: Annotated[float, Query(gt=0, le=50_000)] = 1000.0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 10,
) -> NearbyPage:
    """The vehicles nearest a point, within a radius, nearest first (GEO index)."""
    found = await ctx.live.nearest(lat, lon, radius_m, limit)
    return NearbyPage(
        items=[
            NearbyVehicle(
                vehicle=VehicleOut.model_validate(vehicle_dict(s)), distance_m=round(d, 1)
            )
            for s, d in found
        ]
    )


@router.get("/vehicles/{vehicle_id}", operation_id="getVehicle")
async def get_vehicle(ctx: Ctx, _: Operator, vehicle_id: str) -> VehicleOut:
    state = await ctx.live.get(vehicle_id)
    if state is None:
        raise HTTPException(404, f"no live state for vehicle {vehicle_id!r}")
    return VehicleOut.model_validate(vehicle_dict(state))


@router.get("/vehicles/{vehicle_id}/track", operation_id="getVehicleTrack")
async def get_track(
    ctx: Ctx,
    _: Operator,
    vehicle_id: str,
    minutes: Annotated[float, Query(gt=0, le=1440)] = 15,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> TrackOut:
    state = await ctx.live.get(vehicle_id)
    if state is None:
        raise HTTPException(404, f"no live state for vehicle {vehicle_id!r}")
    points = await ctx.records.track(vehicle_id, state.ts - minutes * 60, limit)
    return TrackOut(
        vehicle_id=vehicle_id,
        points=[
            TrackPoint(
                ts=p.ts,
                lat=p.lat,
                lon=p.lon,
                speed_mps=p.speed_mps,
                battery_pct=p.battery_pct,
                status=p.status.value,
            )
            for p in points
        ],
    )


@router.post("/vehicles", status_code=status.HTTP_201_CREATED, operation_id="registerVehicle")
async def register_vehicle(ctx: Ctx, _: Admin, body: VehicleRegistration) -> Response:
    """Provision a vehicle: until then its MQTT messages are dead letters (unknown_vehicle)."""
    ctx.registry.register(body.manufacturer, body.serial_number)
    return Response(status_code=201, headers={"Location": f"/api/v1/vehicles/{body.serial_number}"})


@router.get("/alerts", operation_id="listAlerts")
async def list_alerts(
    ctx: Ctx,
    _: Operator,
    active: bool = True,
    vehicle_id: Annotated[str | None, Query(max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> AlertPage:
    if active:
        alerts = [
            a
            for a in await ctx.live.active_alerts()
            if vehicle_id is None or a.vehicle_id == vehicle_id
        ][:limit]
    else:
        alerts = await ctx.records.alerts(vehicle_id, active_only=False, limit=limit)
    return AlertPage(items=[AlertOut.model_validate(alert_dict(a)) for a in alerts])


@router.get("/dead-letters", operation_id="listDeadLetters")
async def list_dead_letters(
    ctx: Ctx, _: Operator, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> DeadLetterPage:
    return DeadLetterPage(
        counts=await ctx.dead_letters.counts(),
        items=[dead_letter_out(d) for d in await ctx.dead_letters.recent(limit)],
    )
