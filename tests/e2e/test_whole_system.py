"""The whole demo in process: a few hundred simulated vehicles over real MQTT, read back
through the HTTP API and the WebSocket feed; bad MQTT input on the side is dead-lettered
without losing a vehicle."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import gmqtt
import httpx
import pytest
import websockets
from gmqtt.mqtt.constants import MQTTv311

from headway.adapters.amqtt_broker import free_port
from headway.config import Settings
from headway.entrypoints.demo import Demo, DemoOptions

pytestmark = pytest.mark.e2e

FLEET = 300


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[Demo]:
    options = DemoOptions(vehicles=FLEET, speedup=10.0, port=free_port(), seed=11)
    running = Demo(options, Settings(data_dir=tmp_path, admin_password="a-long-test-password"))
    async with running:
        await running.wait_until_all_visible(timeout_s=30)
        yield running


async def wait_for(predicate: object, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await predicate():  # type: ignore[operator]
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"not true within {timeout_s} s")


async def test_every_vehicle_through_the_api_and_the_live_feed(demo: Demo) -> None:
    expected = set(demo.sim.vehicle_ids)

    async def all_visible() -> bool:
        return await demo.visible_vehicle_ids() == expected

    await wait_for(all_visible, 30)

    async with httpx.AsyncClient(base_url=demo.url) as http:
        login = await http.post(
            "/api/v1/auth/token", data={"username": "admin", "password": "a-long-test-password"}
        )
        assert login.status_code == 200
        token = login.json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        one = (await http.get("/api/v1/vehicles/v0001", headers=auth)).json()
        assert one["map_id"] == demo.network.frame.map_id
        assert one["capacity"] == 8
        assert one["status"] in {"driving", "idle", "charging", "offline", "fault"}
        assert 0 <= one["battery_pct"] <= 100
        network = (await http.get("/api/v1/network")).json()
        west, south, east, north = network["bbox"]
        assert west <= one["lon"] <= east
        assert south <= one["lat"] <= north
        assert (await http.get("/readyz")).status_code == 200
        metrics = (await http.get("/metrics")).text
        assert "headway_publish_to_visible_seconds_count" in metrics

    ws_url = demo.url.replace("http://", "ws://") + f"/api/v1/live?token={token}"
    async with websockets.connect(ws_url, max_size=2**24) as ws:
        snapshot = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert snapshot["type"] == "snapshot"
        assert {v["id"] for v in snapshot["vehicles"]} == expected
        moved: set[str] = set()
        for _ in range(20):
            frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert frame["type"] == "tick"
            moved |= {v["id"] for v in frame["vehicles"]}
            if len(moved) > FLEET // 2:
                break
        assert len(moved) > FLEET // 2, "the live feed should carry the fleet's movement"


async def test_bad_mqtt_input_is_dead_lettered_and_the_fleet_keeps_flowing(demo: Demo) -> None:
    rogue = gmqtt.Client("rogue-client")
    await rogue.connect(demo.platform.broker.host, demo.platform.mqtt_port, version=MQTTv311)
    maker = demo.sim.config.manufacturer
    bad = [
        (f"uagv/v2/{maker}/v0001/state", b"{not json"),
        (f"uagv/v2/{maker}/v0001/state", json.dumps({"headerId": "one"}).encode()),
        (f"uagv/v2/{maker}/ghost/state", b"{}"),
        (f"uagv/v2/{maker}/v0001/state", b"x" * 100_000),
    ]
    before = demo.platform.processor.stats.records
    for topic, payload in bad:
        rogue.publish(topic, payload, qos=1)

    async def all_rejected() -> bool:
        return sum((await demo.platform.dead_letters.counts()).values()) >= len(bad)

    await wait_for(all_rejected, 10)
    counts = await demo.platform.dead_letters.counts()
    assert counts.get("malformed_json") == 1
    assert counts.get("schema") == 1
    assert counts.get("unknown_vehicle") == 1
    assert counts.get("oversized") == 1
    await rogue.disconnect()

    async def still_flowing() -> bool:
        return demo.platform.processor.stats.records > before + FLEET

    await wait_for(still_flowing, 10)
    async with demo.api_client() as client:
        body = (await client.get("/api/v1/dead-letters")).json()
    assert body["counts"] == counts
    assert await demo.visible_vehicle_ids() == set(demo.sim.vehicle_ids)
