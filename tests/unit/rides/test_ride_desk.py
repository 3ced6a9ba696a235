"""The ride service is the in-process RideDesk: held to the contract the stack's
Redis desk is held to (``tests/integration/test_stack_rides.py``)."""

from __future__ import annotations

from headway.services.ports import RideDesk
from tests.contract.ride_desk import RideDeskContract
from tests.unit.rides.test_dispatcher import World


class TestRideServiceDesk(RideDeskContract):
    async def make_desk(self) -> tuple[RideDesk, World]:
        world = World()
        await world.park("v1", 10)
        await world.park("v2", 400)
        await world.dispatcher.tick()
        return world.rides, world
