"""What every RideDesk must answer, wherever the ride service runs: in process
(``RideService``) or behind the stack's Redis (``RedisRideDesk`` to a ``RideInbox``).
Run against each by subclassing; ``make_desk`` returns the desk and the world whose
engine and fleet the service plans on (``tests/unit/rides/test_dispatcher.World``)."""

from __future__ import annotations

import uuid

import pytest

from headway.domain.rides import RideStatus
from headway.services.ports import RideDesk
from headway.services.rides.errors import BadRideRequest, RideConflict, RideNotFound
from tests.unit.rides.test_dispatcher import World


class RideDeskContract:
    async def make_desk(self) -> tuple[RideDesk, World]:
        raise NotImplementedError

    @staticmethod
    def passenger() -> str:
        return f"p-{uuid.uuid4().hex[:8]}"

    async def test_an_offer_is_stored_and_followed(self) -> None:
        desk, world = await self.make_desk()
        ann = self.passenger()
        ride = await desk.request(ann, world.point(12), world.point(60), seats=2)
        assert ride.status is RideStatus.OFFERED
        assert ride.passenger == ann
        assert ride.vehicle_id == "v1"
        assert ride.pickup_window[0] < ride.pickup_window[1]
        assert ride.offer_expires_at > 0
        assert (await desk.get(ann, ride.id)).status is RideStatus.OFFERED
        assert (await desk.get(None, ride.id)).id == ride.id  # operators see any ride
        with pytest.raises(RideNotFound):
            await desk.get(self.passenger(), ride.id)  # another passenger's: not found
        assert [r.id for r in await desk.mine(ann)] == [ride.id]
        now = await desk.current(ride)
        assert now.vehicle_id == "v1"
        assert now.pickup_eta > 0

    async def test_accept_then_cancel_once(self) -> None:
        desk, world = await self.make_desk()
        ann = self.passenger()
        ride = await desk.request(ann, world.point(12), world.point(60), seats=1)
        accepted = await desk.accept(ann, ride.id)
        assert accepted.status is RideStatus.ACCEPTED
        assert accepted.offer_expires_at == 0.0
        with pytest.raises(RideConflict, match="only an offer can be accepted"):
            await desk.accept(ann, ride.id)
        with pytest.raises(RideNotFound):
            await desk.cancel(self.passenger(), ride.id)
        cancelled = await desk.cancel(ann, ride.id)
        assert cancelled.status is RideStatus.CANCELLED
        assert cancelled.reason == "cancelled_by_passenger"
        with pytest.raises(RideConflict, match="cancelled until pickup"):
            await desk.cancel(ann, ride.id)
        stored = await desk.get(ann, ride.id)
        assert [t.status for t in stored.history] == [
            RideStatus.OFFERED,
            RideStatus.ACCEPTED,
            RideStatus.CANCELLED,
        ]

    async def test_decline_frees_the_offer(self) -> None:
        desk, world = await self.make_desk()
        ann = self.passenger()
        ride = await desk.request(ann, world.point(12), world.point(60), seats=1)
        declined = await desk.decline(ann, ride.id)
        assert declined.status is RideStatus.DECLINED
        assert world.rides.engine.plan("v1") == ()
        with pytest.raises(RideConflict):
            await desk.accept(ann, ride.id)

    async def test_refusals_and_bad_requests(self) -> None:
        desk, world = await self.make_desk()
        ann = self.passenger()
        far = await desk.request(ann, (0.0, 0.0), world.point(60), seats=1)
        assert (far.status, far.reason) == (RideStatus.REFUSED, "outside_service_area")
        assert far.message
        big = await desk.request(ann, world.point(12), world.point(60), seats=9)
        assert (big.status, big.reason) == (RideStatus.REFUSED, "capacity")
        with pytest.raises(BadRideRequest, match="seats must be at least 1"):
            await desk.request(ann, world.point(12), world.point(60), seats=0)
        with pytest.raises(BadRideRequest, match="24 hours ahead"):
            await desk.request(
                ann, world.point(12), world.point(60), 1, earliest_pickup=world.clock() + 90_000
            )
        with pytest.raises(RideNotFound):
            await desk.accept(ann, "r-nonesuch")
        assert [r.id for r in await desk.mine(ann)] == [big.id, far.id]

    async def test_asking_again_with_the_same_ride_id_plans_nothing_twice(self) -> None:
        desk, world = await self.make_desk()
        ann = self.passenger()
        ride_id = f"r{uuid.uuid4().hex}"
        first = await desk.request(ann, world.point(12), world.point(60), 1, ride_id=ride_id)
        again = await desk.request(ann, world.point(12), world.point(60), 1, ride_id=ride_id)
        assert first.id == again.id == ride_id
        assert again.status is RideStatus.OFFERED
        assert [r.id for r in await desk.mine(ann)] == [ride_id]
        assert len([s for s in world.rides.engine.plan("v1") if ride_id in s.ride_ids]) == 2
        with pytest.raises(BadRideRequest, match="taken"):
            await desk.request(
                self.passenger(), world.point(12), world.point(60), 1, ride_id=ride_id
            )
