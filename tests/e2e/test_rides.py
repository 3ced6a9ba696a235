"""A ride's whole life through the HTTP API, served by simulated shuttles over real MQTT:
sign up, ask, accept, watch the vehicle come, ride, arrive. Refusals and bad requests
get their reasons; passengers see only their own rides."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from headway.adapters.amqtt_broker import free_port
from headway.config import Settings
from headway.entrypoints.demo import Demo, DemoOptions

pytestmark = pytest.mark.e2e

ADMIN_PASSWORD = "a-long-test-password"


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[Demo]:
    options = DemoOptions(
        vehicles=25, speedup=10.0, port=free_port(), seed=5, ride_requests_per_hour=0
    )
    running = Demo(options, Settings(data_dir=tmp_path, admin_password=ADMIN_PASSWORD))
    async with running:
        await running.wait_until_all_visible(timeout_s=30)
        yield running


async def passenger(http: httpx.AsyncClient, name: str) -> dict[str, str]:
    signed = await http.post(
        "/api/v1/auth/passengers", json={"username": name, "password": "a-fine-password"}
    )
    assert signed.status_code == 201, signed.text
    assert signed.json()["role"] == "passenger"
    return {"Authorization": f"Bearer {signed.json()['access_token']}"}


def point(demo: Demo, index: int) -> dict[str, float]:
    stop = demo.network.stops[index]
    lat, lon = demo.network.frame.to_wgs84(stop.x + 3.0, stop.y)
    return {"lat": lat, "lon": lon}


async def test_a_ride_from_request_to_drop_off(demo: Demo) -> None:
    async with httpx.AsyncClient(base_url=demo.url, timeout=10) as http:
        ann = await passenger(http, "ann")
        asked = await http.post(
            "/api/v1/rides",
            json={"origin": point(demo, 3), "destination": point(demo, 150), "seats": 2},
            headers=ann,
        )
        assert asked.status_code == 201, asked.text
        offer = asked.json()
        assert asked.headers["Location"] == f"/api/v1/rides/{offer['id']}"
        assert offer["status"] == "offered", (offer.get("reason"), offer.get("message"))
        assert offer["pickup"]["stop_id"] == demo.network.stops[3].id
        assert 0 < offer["pickup"]["walk_m"] < 30
        window = [datetime.fromisoformat(offer["pickup_window"][k]) for k in ("start", "end")]
        assert window[0] <= window[1]
        assert datetime.fromisoformat(offer["dropoff_eta"]) <= datetime.fromisoformat(
            offer["latest_dropoff"]
        )

        accepted = await http.post(f"/api/v1/rides/{offer['id']}/accept", headers=ann)
        assert accepted.status_code == 200
        assert accepted.json()["status"] == "accepted"
        again = await http.post(f"/api/v1/rides/{offer['id']}/accept", headers=ann)
        assert again.status_code == 409

        seen: list[str] = []
        views: dict[str, dict[str, Any]] = {}
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline:
            view = (await http.get(f"/api/v1/rides/{offer['id']}", headers=ann)).json()
            if not seen or seen[-1] != view["status"]:
                seen.append(view["status"])
                views[view["status"]] = view
            if view["status"] == "completed":
                break
            await asyncio.sleep(0.25)
        assert seen[-1] == "completed", seen
        order = ["accepted", "assigned", "picked_up", "completed"]
        assert [s for s in order if s in seen] == [s for s in seen if s in order]
        assert "picked_up" in seen
        riding = views["picked_up"]
        assert riding["vehicle"]["id"]
        assert riding["vehicle"]["lat"] is not None
        assert riding["vehicle"]["eta_s"] is None or riding["vehicle"]["eta_s"] >= 0
        done = views["completed"]
        picked = datetime.fromisoformat(done["picked_up_at"])
        completed = datetime.fromisoformat(done["completed_at"])
        assert picked < completed
        assert picked >= datetime.fromisoformat(done["pickup_window"]["start"])

        # The vehicle was really sent there: its commands through the stop are done.
        admin = await http.post(
            "/api/v1/auth/token", data={"username": "admin", "password": ADMIN_PASSWORD}
        )
        ops = {"Authorization": f"Bearer {admin.json()['access_token']}"}
        vehicle = riding["vehicle"]["id"]
        commands = (
            await http.get("/api/v1/commands", params={"vehicle_id": vehicle}, headers=ops)
        ).json()["items"]
        stops = {
            c["params"]["stops"][0]["stop_id"]
            for c in commands
            if c["status"] == "done" and c["params"].get("stops")
        }
        assert {offer["pickup"]["stop_id"], offer["dropoff"]["stop_id"]} <= stops


async def test_refusals_bad_requests_cancelling_and_privacy(demo: Demo) -> None:
    async with httpx.AsyncClient(base_url=demo.url, timeout=10) as http:
        bob = await passenger(http, "bob")
        eve = await passenger(http, "eve")
        taken = await http.post(
            "/api/v1/auth/passengers", json={"username": "bob", "password": "another-password"}
        )
        assert taken.status_code == 409

        far = {"lat": 0.0, "lon": 0.0}
        refused = await http.post(
            "/api/v1/rides", json={"origin": far, "destination": point(demo, 9)}, headers=bob
        )
        assert refused.status_code == 201
        assert refused.json()["status"] == "refused"
        assert refused.json()["reason"] == "outside_service_area"
        assert "stop" in refused.json()["message"]

        same = await http.post(
            "/api/v1/rides",
            json={"origin": point(demo, 9), "destination": point(demo, 9)},
            headers=bob,
        )
        assert same.json()["status"] == "refused"
        assert same.json()["reason"] == "unroutable"

        for body in (
            {"origin": {"lat": 91, "lon": 0}, "destination": point(demo, 9)},
            {"origin": point(demo, 1), "destination": point(demo, 9), "seats": 0},
            {"origin": point(demo, 1)},
            {"origin": point(demo, 1), "destination": point(demo, 9), "earliest_pickup": "soon"},
        ):
            bad = await http.post("/api/v1/rides", json=body, headers=bob)
            assert bad.status_code == 422, body
            assert bad.headers["content-type"] == "application/problem+json"
        anonymous = await http.post(
            "/api/v1/rides", json={"origin": point(demo, 1), "destination": point(demo, 9)}
        )
        assert anonymous.status_code == 401

        offer = (
            await http.post(
                "/api/v1/rides",
                json={"origin": point(demo, 20), "destination": point(demo, 300)},
                headers=bob,
            )
        ).json()
        assert offer["status"] == "offered"
        assert (await http.get(f"/api/v1/rides/{offer['id']}", headers=eve)).status_code == 404
        assert (
            await http.post(f"/api/v1/rides/{offer['id']}/cancel", headers=eve)
        ).status_code == 404
        await http.post(f"/api/v1/rides/{offer['id']}/accept", headers=bob)
        cancelled = await http.post(f"/api/v1/rides/{offer['id']}/cancel", headers=bob)
        assert cancelled.status_code == 200
        assert cancelled.json()["status"] == "cancelled"
        assert cancelled.json()["reason"] == "cancelled_by_passenger"
        twice = await http.post(f"/api/v1/rides/{offer['id']}/cancel", headers=bob)
        assert twice.status_code == 409

        mine = (await http.get("/api/v1/rides", headers=bob)).json()["items"]
        assert [r["status"] for r in mine] == ["cancelled", "refused", "refused"]
        assert (await http.get("/api/v1/rides", headers=eve)).json()["items"] == []

        metrics = (await http.get("/metrics")).text
        assert 'headway_ride_refusals_total{reason="outside_service_area"} 1.0' in metrics
