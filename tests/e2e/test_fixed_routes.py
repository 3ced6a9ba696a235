"""Fixed routes live in the whole demo: the synthetic city's lines driven by simulated
shuttles over real MQTT. Each block's vehicle gets its trips as orders through the
commander and drives them stop by stop (its done commands go through its route's
stops in order); the arrival board predicts it at the stops ahead
(``GET /api/v1/stops/{id}/arrivals``); vehicles that come too close behind the one
ahead are held; and the dispatcher never sends a fixed-route vehicle anywhere."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from headway.adapters.amqtt_broker import free_port
from headway.config import Settings
from headway.entrypoints.demo import Demo, DemoOptions
from headway.services.fixed_routes import FixedRouteService
from headway.services.rides.dispatcher import ISSUER as DISPATCHER

pytestmark = pytest.mark.e2e

ADMIN_PASSWORD = "a-long-test-password"
FIXED = 12


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[Demo]:
    options = DemoOptions(
        vehicles=30,
        speedup=10.0,
        port=free_port(),
        seed=5,
        ride_requests_per_hour=0,
        fixed_route_vehicles=FIXED,
    )
    running = Demo(options, Settings(data_dir=tmp_path, admin_password=ADMIN_PASSWORD))
    async with running:
        await running.wait_until_all_visible(timeout_s=30)
        yield running


async def _commands(http: httpx.AsyncClient, **query: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = ""
    while True:
        page = await http.get("/api/v1/commands", params={**query, "limit": 200, "cursor": cursor})
        assert page.status_code == 200, page.text
        body = page.json()
        items.extend(body["items"])
        if body["next_cursor"] is None:
            return items
        cursor = body["next_cursor"]


def _driven_through(service: FixedRouteService, commands: list[dict[str, Any]]) -> bool:
    """Some vehicle's done fixed-route orders (a drive and at least two releases) went
    through consecutive stops of the trip it is on, in order."""
    done: dict[str, list[dict[str, Any]]] = {}
    for c in sorted(commands, key=lambda c: c["seq"]):
        if c["issued_by"] == "fixed-routes" and c["status"] == "done" and c["kind"] != "hold":
            done.setdefault(c["vehicle_id"], []).append(c)
    for vehicle_id, mine in done.items():
        progress = service.progress(vehicle_id)
        if progress is None or progress.trip is None or len(mine) < 3:
            continue
        trip = progress.trip
        released: list[str] = []
        for c in mine:
            stops = [s["stop_id"] for s in c["params"]["stops"]]
            horizon = int(c["params"].get("horizon", 0))
            if c["kind"] == "drive":
                released = []
                if stops[0] != trip.stop_ids[0]:
                    released = ["other trip"]
            released.extend(stops[: len(stops) - horizon])
        if released[:1] == [trip.stop_ids[0]] and len(released) >= 4:
            assert released == list(trip.stop_ids[: len(released)]), (vehicle_id, released)
            return True
    return False


async def test_vehicles_drive_their_trips_are_predicted_and_held(demo: Demo) -> None:
    service = demo.platform.fixed_routes
    assert service is not None
    fixed = service.vehicle_ids
    assert 0 < len(fixed) <= FIXED
    assert sorted(service.feed.routes) == ["1", "2", "R"]
    async with httpx.AsyncClient(base_url=demo.url, timeout=10) as http:
        login = await http.post(
            "/api/v1/auth/token", data={"username": "admin", "password": ADMIN_PASSWORD}
        )
        auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
        http.headers.update(auth)

        routes = (await http.get("/api/v1/routes")).json()
        assert [r["id"] for r in routes] == ["1", "2", "R"]
        line = (await http.get("/api/v1/routes/2")).json()
        assert line["long_name"] == "Main Street"
        assert [d["direction_id"] for d in line["directions"]] == [0, 1]

        driven = predicted = held = False
        deadline = time.monotonic() + 110
        while time.monotonic() < deadline and not (driven and predicted and held):
            await asyncio.sleep(2.0)
            commands = await _commands(http)
            driven = driven or _driven_through(service, commands)
            holds = [c for c in commands if c["kind"] == "hold"]
            evened = service.stats.holds_by_reason.get("even_headways", 0)
            held = held or (evened > 0 and any(c["issued_by"] == "fixed-routes" for c in holds))
            if not predicted:
                predicted = await _predicted_somewhere(http, service)
        assert driven, "no vehicle drove its trip's stops in order"
        assert predicted, "no arrival was predicted for a vehicle on its way"
        assert held, f"no vehicle was held to even the headways: {service.stats}"

        # The dispatcher keeps its hands off the fixed-route share of the fleet.
        dispatched = {c["vehicle_id"] for c in commands if c["issued_by"] == DISPATCHER}
        assert not dispatched & fixed
        # Every fixed-route command was carried out or is under way, but for a roaming
        # vehicle's first order, refused when it had moved on from where it last
        # reported: that trip was sent again.
        ours = [c for c in commands if c["issued_by"] == "fixed-routes"]
        assert {c["vehicle_id"] for c in ours} <= fixed
        refused = [c for c in ours if c["status"] in ("rejected", "failed", "expired")]
        assert all(c["kind"] == "drive" for c in refused), refused
        assert service.stats.trips_resent >= len(refused)
        assert service.stats.order_failures == 0
        assert service.stats.stop_events > 0


async def _predicted_somewhere(http: httpx.AsyncClient, service: FixedRouteService) -> bool:
    """A stop ahead of a vehicle on its trip lists that vehicle's arrival with a
    predicted time, and the stop's arrivals come soonest first."""
    for vehicle_id in sorted(service.vehicle_ids):
        progress = service.progress(vehicle_id)
        if progress is None or progress.trip is None or not progress.arrivals:
            continue
        trip = progress.trip
        ahead = trip.stop_ids[min(progress.next_index + 1, len(trip.stop_ids) - 1)]
        reply = await http.get(f"/api/v1/stops/{ahead}/arrivals", params={"limit": 20})
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert body["stop"]["id"] == ahead
        expected = [a["predicted"] or a["scheduled"] for a in body["arrivals"]]
        assert expected == sorted(expected)
        for arrival in body["arrivals"]:
            if arrival["vehicle_id"] == vehicle_id and arrival["predicted"] is not None:
                assert arrival["trip_id"] == trip.id
                assert arrival["route_id"] == trip.route_id
                return True
    return False
