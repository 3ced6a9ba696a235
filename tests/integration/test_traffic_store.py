"""The Redis traffic store against the real Redis, held to the in-memory one's contract,
and traffic going from one process's feed to another's router through it."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import numpy as np
import pytest

from headway.adapters.redis_traffic import RedisTrafficStore
from headway.domain.errors import StoreUnavailable
from headway.network.cch_router import CCHRouter
from headway.network.city import CityParams, generate_city
from headway.services.traffic import TrafficFollower
from headway.streaming.traffic_feed import TrafficFeed, VisitRules
from tests.contract.traffic_store import TrafficStoreContract
from tests.integration.conftest import Stack

pytestmark = pytest.mark.integration


class TestRedisTrafficStore(TrafficStoreContract):
    @pytest.fixture(autouse=True)
    async def _stack(self, stack: Stack, unique: str) -> AsyncIterator[None]:
        self.url = stack.redis_url
        self.prefix = f"{unique}:"
        self.made: list[RedisTrafficStore] = []
        yield
        for store in self.made:
            await store.close()

    async def make_stores(self) -> tuple[RedisTrafficStore, RedisTrafficStore]:
        self.made += [RedisTrafficStore(self.url, self.prefix) for _ in range(2)]
        return self.made[-2], self.made[-1]


async def test_a_processor_s_traffic_reaches_another_process_s_router(
    stack: Stack, unique: str
) -> None:
    network = generate_city(CityParams(seed=3, size_km=3.0))
    writer = RedisTrafficStore(stack.redis_url, f"{unique}:")
    reader = RedisTrafficStore(stack.redis_url, f"{unique}:")
    now = time.time()
    feed = TrafficFeed(
        network, writer, "processor-1", rules=VisitRules(near_stop_s=0.0), clock=lambda: now
    )
    edge = int(np.argmax(network.edge_length_m))
    xy = [network.position_at(edge, 1.0)[:2]] * 3
    assert feed.add(["v"] * 3, [edge, edge, edge + 1], [now - 2, now - 1, now], xy, [1.0] * 3)
    router = CCHRouter(network)
    follower = TrafficFollower(reader, network.frame.map_id, [router], clock=lambda: now)
    assert not await follower.refresh()  # nothing published yet
    await feed.publish()
    assert await follower.refresh()
    assert router.traffic[edge] > 3.0
    assert follower.current is not None
    assert follower.current.observations == 1
    await writer.close()
    await reader.close()


async def test_redis_out_of_reach_is_store_unavailable() -> None:
    store = RedisTrafficStore("redis://127.0.0.1:1/0", timeout_s=0.5)
    with pytest.raises(StoreUnavailable, match="traffic store unavailable"):
        await store.version("m")
    await store.close()
