"""GET /api/v1/routes, /routes/{id} and /stops/{id}/arrivals over a running service."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from headway.domain.users import Role
from headway.entrypoints.api.app import create_app
from headway.services.fixed_routes import FixedRouteService
from tests.unit.api.conftest import Api, Clock, build_context
from tests.unit.transit.service_fixtures import DAY, FakeLive, at, line_feed


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[tuple[Api, FixedRouteService, FakeLive]]:
    clock = Clock(at("08:58"))
    ctx = build_context(tmp_path, clock)
    live = FakeLive()
    service = FixedRouteService(line_feed(tmp_path), live, None, clock=clock)
    service.start_day(DAY, ["v1", "v2", "v3", "v4", "v5"])
    ctx.transit = service
    app = create_app(ctx, web_dir=tmp_path / "no-web")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        yield Api(ctx, clock, client, app), service, live
    await ctx.records.close()


async def test_routes_and_one_route(api: tuple[Api, FixedRouteService, FakeLive]) -> None:
    client, auth = api[0].client, api[0].auth(Role.PASSENGER)
    response = await client.get("/api/v1/routes", headers=auth)
    assert response.status_code == 200
    assert [r["id"] for r in response.json()] == ["F", "L1"]
    response = await client.get("/api/v1/routes/L1", headers=auth)
    assert response.status_code == 200
    body = response.json()
    assert body["long_name"] == "Alpha - Gamma"
    assert [[s["id"] for s in d["stops"]] for d in body["directions"]] == [
        ["A", "B", "C"],
        ["C2", "B", "A"],
    ]
    assert body["shape"] == [[49.41, 8.69], [49.41, 8.71]]


async def test_arrivals_at_a_stop(api: tuple[Api, FixedRouteService, FakeLive]) -> None:
    client, auth = api[0].client, api[0].auth(Role.PASSENGER)
    service, live = api[1], api[2]
    clock = api[0].clock
    vehicle = next(
        v
        for v in ("v1", "v2", "v3", "v4", "v5")
        if service.progress(v).trip.id == "f@09:00:00"  # type: ignore[union-attr]
    )
    clock.now = at("09:02")
    live.put(vehicle, "A", clock.now)
    await service.step()
    clock.now += 10
    live.put(vehicle, "between", clock.now)
    await service.step()
    response = await client.get("/api/v1/stops/B/arrivals", params={"limit": 3}, headers=auth)
    assert response.status_code == 200
    body = response.json()
    assert body["stop"]["id"] == "B"
    arrivals = body["arrivals"]
    assert len(arrivals) == 3
    first = arrivals[0]
    assert first["trip_id"] == "f@09:00:00"
    assert first["route_name"] == "F"
    assert first["vehicle_id"] == vehicle
    assert dt.datetime.fromisoformat(first["scheduled"]).timestamp() == at("09:05")
    assert first["delay_s"] == pytest.approx(130.0)
    expected = [a["predicted"] or a["scheduled"] for a in arrivals]
    assert expected == sorted(expected)
    assert all(a["predicted"] is None for a in arrivals[1:])


async def test_unknown_stop_and_route_are_problems(
    api: tuple[Api, FixedRouteService, FakeLive],
) -> None:
    client, auth = api[0].client, api[0].auth(Role.PASSENGER)
    response = await client.get("/api/v1/stops/nowhere/arrivals", headers=auth)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "no stop 'nowhere'"
    response = await client.get("/api/v1/routes/nowhere", headers=auth)
    assert response.status_code == 404
    no_limit = await client.get("/api/v1/stops/B/arrivals", params={"limit": 0}, headers=auth)
    assert no_limit.status_code == 422
    assert (await client.get("/api/v1/routes")).status_code == 401


async def test_without_a_service_the_endpoints_say_so(tmp_path: Path) -> None:
    ctx = build_context(tmp_path, Clock())
    app = create_app(ctx, web_dir=tmp_path / "no-web")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://a") as c:
        token = ctx.identity.issue("p", Role.PASSENGER)
        response = await c.get("/api/v1/routes", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 503
    await ctx.records.close()
