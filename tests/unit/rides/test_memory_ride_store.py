from __future__ import annotations

from headway.adapters.memory.ride_store import MemoryRideStore
from headway.services.ports import RideStore
from tests.contract.ride_store import RideStoreContract


class TestMemoryRideStore(RideStoreContract):
    async def make_store(self) -> RideStore:
        return MemoryRideStore()
