"""The embedded traffic store passes the contract the Redis one does."""

from __future__ import annotations

from headway.adapters.memory.traffic import MemoryTrafficStore
from tests.contract.traffic_store import TrafficStoreContract


class TestMemoryTrafficStore(TrafficStoreContract):
    async def make_stores(self) -> tuple[MemoryTrafficStore, MemoryTrafficStore]:
        store = MemoryTrafficStore()
        return store, store
