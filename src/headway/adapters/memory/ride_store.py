"""The embedded profile's ride records, in process memory.

Keeps what a durable store keeps (one record per ride, compare-and-set on the version)
so one contract suite holds every adapter. Ended rides beyond ``keep_ended`` are
forgotten oldest first.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import replace

from headway.domain.rides import Ride
from headway.services.ports import StaleRide


class MemoryRideStore:
    def __init__(self, keep_ended: int = 200_000) -> None:
        self._keep_ended = keep_ended
        self._by_id: dict[str, Ride] = {}
        self._open: dict[str, Ride] = {}
        self._ended: OrderedDict[str, None] = OrderedDict()
        self._by_passenger: dict[str, dict[str, None]] = {}

    async def create(self, ride: Ride) -> Ride:
        if ride.id in self._by_id:
            raise KeyError(f"ride {ride.id!r} exists already")
        stored = replace(ride, version=1)
        self._put(stored)
        self._by_passenger.setdefault(ride.passenger, {})[ride.id] = None
        return stored

    async def get(self, ride_id: str) -> Ride | None:
        return self._by_id.get(ride_id)

    async def save(self, ride: Ride) -> Ride:
        stored = self._by_id.get(ride.id)
        if stored is None:
            raise KeyError(f"no ride {ride.id!r}: create it first")
        if stored.version != ride.version:
            raise StaleRide(
                f"ride {ride.id}: saving version {ride.version}, stored is {stored.version}"
            )
        saved = replace(ride, version=ride.version + 1)
        self._put(saved)
        return saved

    async def open_rides(self) -> list[Ride]:
        return sorted(self._open.values(), key=lambda r: (r.created_at, r.id))

    async def for_passenger(self, passenger: str, before: str = "", limit: int = 50) -> list[Ride]:
        ids = sorted(self._by_passenger.get(passenger, {}), reverse=True)
        found = [self._by_id[i] for i in ids if i in self._by_id and (not before or i < before)]
        return found[:limit]

    def _put(self, ride: Ride) -> None:
        self._by_id[ride.id] = ride
        if not ride.final:
            self._open[ride.id] = ride
            return
        self._open.pop(ride.id, None)
        self._ended[ride.id] = None
        while len(self._ended) > self._keep_ended:
            old, _ = self._ended.popitem(last=False)
            forgotten = self._by_id.pop(old, None)
            if forgotten is not None:
                self._by_passenger.get(forgotten.passenger, {}).pop(old, None)
