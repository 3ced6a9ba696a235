"""The Redis traffic store against the real Redis, held to the in-memory one's contract."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from headway.adapters.redis_traffic import RedisTrafficStore
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
