"""Operations: liveness, readiness, Prometheus metrics, the road network."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from headway.entrypoints.api.context import Ctx

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
