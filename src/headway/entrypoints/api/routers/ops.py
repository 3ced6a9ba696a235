"""Operations: liveness, readiness, Prometheus metrics, the road network and its traffic."""

from __future__ import annotations

import time

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from headway.entrypoints.api.context import Ctx, Operator

router = APIRouter(tags=["ops"])


@router.get("/healthz", operation_id="health")
def health() -> dict[str, str]:
    """The process is up (liveness)."""
    return {"status": "ok"}


@router.get("/readyz", operation_id="ready")
def ready(ctx: Ctx) -> Response:
    """Every part this process depends on is running (readiness)."""
    checks = ctx.ready()
    ok = all(checks.values())
    body = {"status": "ready" if ok else "not ready", "checks": checks}
    return JSONResponse(body, status_code=200 if ok else 503)


@router.get("/metrics", operation_id="metrics")
def metrics(ctx: Ctx) -> Response:
    return Response(ctx.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")


@router.get("/api/v1/network", operation_id="getNetwork", tags=["network"])
def network(ctx: Ctx) -> Response:
    """The road network, stops, depots and chargers as GeoJSON (WGS84); public map data."""
    return Response(
        ctx.network_geojson,
        media_type="application/geo+json",
        headers={"Cache-Control": "public, max-age=300"},
    )


class SlowEdge(BaseModel):
    edge: int
    factor: float


class TrafficOut(BaseModel):
    """The travel-time factors routing uses now (1.0 is free flow)."""

    version: int
    at: float | None
    observations: int
    sources: int
    edges_slowed: int
    slowest: list[SlowEdge]


@router.get(
    "/api/v1/network/traffic",
    operation_id="getTraffic",
    tags=["network"],
    response_model=TrafficOut,
)
async def traffic(ctx: Ctx, _: Operator, limit: int = 20) -> TrafficOut:
    """Live traffic from the fleet: how many speed observations it rests on and the
    most slowed road segments (edge ids of the network)."""
    empty = TrafficOut(version=0, at=None, observations=0, sources=0, edges_slowed=0, slowest=[])
    if ctx.traffic is None:
        return empty
    snap = await ctx.traffic.latest(ctx.traffic_map_id, time.time())
    if snap is None:
        return empty
    slowed = [int(e) for e in (snap.factors > 1.1).nonzero()[0]]
    slowed.sort(key=lambda e: -float(snap.factors[e]))
    return TrafficOut(
        version=snap.version,
        at=snap.at,
        observations=snap.observations,
        sources=snap.sources,
        edges_slowed=len(slowed),
        slowest=[SlowEdge(edge=e, factor=float(snap.factors[e])) for e in slowed[: max(0, limit)]],
    )
