"""GET /api/v1/network/traffic: what live traffic routing uses now."""

from __future__ import annotations

import time

import numpy as np

from headway.adapters.memory.traffic import MemoryTrafficStore
from headway.services.traffic import TrafficPart
from tests.unit.api.conftest import Api


async def test_traffic_is_for_operators_and_empty_before_any_estimate(api: Api) -> None:
    assert (await api.client.get("/api/v1/network/traffic")).status_code == 401
    r = await api.client.get("/api/v1/network/traffic", headers=api.auth())
    assert r.status_code == 200
    assert r.json() == {
        "version": 0,
        "at": None,
        "observations": 0,
        "sources": 0,
        "edges_slowed": 0,
        "slowest": [],
    }


async def test_traffic_lists_the_most_slowed_segments(api: Api) -> None:
    store = MemoryTrafficStore()
    api.ctx.traffic, api.ctx.traffic_map_id = store, "city"
    factors = np.ones(10)
    factors[[2, 5, 7]] = [1.5, 4.0, 1.05]
    now = time.time()
    seen = np.where(factors != 1.0, now, -np.inf)
    await store.publish("city", TrafficPart("p1", now, 12, factors, seen))
    r = await api.client.get("/api/v1/network/traffic?limit=1", headers=api.auth())
    body = r.json()
    assert (body["version"], body["observations"], body["sources"]) == (1, 12, 1)
    assert body["edges_slowed"] == 2  # 1.05 is within the noise
    assert body["slowest"] == [{"edge": 5, "factor": 4.0}]
