"""What every RideStore adapter must do; run against each adapter by subclassing."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from headway.domain.rides import Place, Ride, RideStatus, RideTransition, move
from headway.services.ports import RideStore, StaleRide

NOW = 1_800_000_000.0


def ride(passenger: str, **kw: object) -> Ride:
    created = float(kw.pop("now", NOW))  # type: ignore[arg-type]
    base = Ride(
        id=f"r{int(created * 1000):013d}{uuid.uuid4().hex[:8]}",
        passenger=passenger,
        seats=2,
        origin=Place(49.41, 8.69, "s1", "Main St", 17, 42.5),
        destination=Place(49.40, 8.70, "s9", "Park Ave", 99, 10.0),
        earliest_pickup=created + 60,
        status=RideStatus.OFFERED,
        created_at=created,
        updated_at=created,
        history=(RideTransition(created, RideStatus.OFFERED),),
    )
    return replace(base, **kw)  # type: ignore[arg-type]


class RideStoreContract:
    async def make_store(self) -> RideStore:
        raise NotImplementedError

    @staticmethod
    def passenger() -> str:
        return f"p-{uuid.uuid4().hex[:8]}"

    async def test_a_record_round_trips_whole(self) -> None:
        store = await self.make_store()
        original = ride(
            self.passenger(),
            vehicle_id="v7",
            pickup_window=(NOW + 60, NOW + 600),
            pickup_eta=NOW + 200,
            dropoff_eta=NOW + 900,
            latest_dropoff=NOW + 1500,
            direct_s=420.5,
            offer_expires_at=NOW + 30,
            message="seat reserved",
        )
        created = await store.create(original)
        assert created == replace(original, version=1)
        assert await store.get(original.id) == created

    async def test_the_same_id_twice_is_refused(self) -> None:
        store = await self.make_store()
        r = ride(self.passenger())
        await store.create(r)
        with pytest.raises(KeyError):
            await store.create(r)

    async def test_saves_are_compare_and_set(self) -> None:
        store = await self.make_store()
        created = await store.create(ride(self.passenger()))
        accepted = await store.save(move(created, RideStatus.ACCEPTED, NOW + 5))
        assert accepted.version == 2
        assert [t.status for t in accepted.history] == [RideStatus.OFFERED, RideStatus.ACCEPTED]
        with pytest.raises(StaleRide):
            await store.save(move(created, RideStatus.DECLINED, NOW + 6))
        assert (await store.get(created.id)) == accepted

    async def test_saving_an_unknown_ride_is_refused(self) -> None:
        store = await self.make_store()
        with pytest.raises(KeyError):
            await store.save(ride(self.passenger(), version=1))

    async def test_open_rides_leave_out_the_ended(self) -> None:
        store, p = await self.make_store(), self.passenger()
        a = await store.create(ride(p, now=NOW + 1))
        b = await store.create(ride(p, now=NOW + 2))
        c = await store.create(ride(p, now=NOW + 3))
        await store.save(move(b, RideStatus.DECLINED, NOW + 4))
        booked = await store.save(move(c, RideStatus.ACCEPTED, NOW + 4))
        mine = [r.id for r in await store.open_rides() if r.passenger == p]
        assert mine == [a.id, booked.id]

    async def test_a_passengers_rides_newest_first_and_paged(self) -> None:
        store, p, other = await self.make_store(), self.passenger(), self.passenger()
        ids = [(await store.create(ride(p, now=NOW + i))).id for i in range(5)]
        await store.create(ride(other, now=NOW + 10))
        first = await store.for_passenger(p, limit=3)
        assert [r.id for r in first] == ids[::-1][:3]
        rest = await store.for_passenger(p, before=first[-1].id, limit=3)
        assert [r.id for r in rest] == ids[::-1][3:]
