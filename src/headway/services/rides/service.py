"""What a passenger can do with a ride: ask for one, accept or decline the offer, cancel,
and follow it. The dispatch engine plans; the ride store remembers.

One lock serialises every call into the engine (it is a single-writer model), shared
with the dispatcher loop (``dispatcher.py``), which moves the plans on as vehicles do.
The service is the in-process ``RideDesk`` (``services/ports.py``); in the stack profile
the dispatcher process runs it and ``RedisRideDesk`` carries the API's calls to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from headway.domain.rides import Place, Ride, RideStatus, RideTransition, move
from headway.optimizer.dispatch import (
    DispatchEngine,
    Offer,
    RefusalReason,
    RideRequest,
    RideStateError,
    TravelTimes,
    UnknownRideError,
)
from headway.services.metrics import Metrics
from headway.services.ports import RideStore
from headway.services.rides.errors import BadRideRequest, RideConflict, RideNotFound
from headway.services.rides.places import StopFinder

MAX_AHEAD_S = 24 * 3600.0
"""How far ahead a ride may be booked."""


async def read_ride(store: RideStore, passenger: str | None, ride_id: str) -> Ride:
    """The stored ride, if it is ``passenger``'s (None: anyone's, for operators); a ride
    of someone else is not found, rather than forbidden, so ids reveal nothing."""
    ride = await store.get(ride_id)
    if ride is None or (passenger is not None and ride.passenger != passenger):
        raise RideNotFound(ride_id)
    return ride


def new_ride_id(ms: int) -> str:
    """Sorts by creation time (milliseconds), unique across processes (32 random bits)."""
    return f"r{ms:012x}{secrets.token_hex(4)}"


@dataclass(frozen=True, slots=True)
class Clocks:
    """The wall clock and the service clock the engine plans on.

    In a deployment they are the same. A simulation that runs ``scale`` times faster
    than real time plans on a clock that runs ``scale`` times faster too, so that the
    engine's travel times (real seconds) match what the vehicles do.
    """

    wall: Callable[[], float] = time.time
    scale: float = 1.0
    origin: float = 0.0

    def service(self) -> float:
        wall = self.wall()
        return wall if self.scale == 1.0 else self.origin + (wall - self.origin) * self.scale

    def to_wall(self, service_s: float) -> float:
        if self.scale == 1.0:
            return service_s
        return self.origin + (service_s - self.origin) / self.scale

    def to_service(self, wall_s: float) -> float:
        if self.scale == 1.0:
            return wall_s
        return self.origin + (wall_s - self.origin) * self.scale


class RideService:
    def __init__(
        self,
        engine: DispatchEngine,
        travel: TravelTimes,
        store: RideStore,
        places: StopFinder,
        metrics: Metrics,
        clocks: Clocks | None = None,
    ) -> None:
        self.engine = engine
        self.travel = travel
        self.store = store
        self.places = places
        self.metrics = metrics
        self.clocks = clocks or Clocks()
        self.lock = asyncio.Lock()
        self._last_ms = 0
        self.offers: dict[str, float] = {}
        """Ride id -> when its offer expires (wall clock), for the offers not yet answered."""
        self.stops: dict[str, tuple[str, str]] = {}
        """Ride id -> (pickup stop id, drop-off stop id): two stops facing each other
        across a street share a road node, and the rider waits at one of them."""

    async def request(
        self,
        passenger: str,
        origin: tuple[float, float],
        destination: tuple[float, float],
        seats: int,
        earliest_pickup: float | None = None,
        ride_id: str | None = None,
    ) -> Ride:
        """An offered ride, or a refused one with the reason (both stored). A caller
        that names the ride (``ride_id``) may ask again after losing the answer: the
        ride already stored under that id is the answer, and nothing is planned twice."""
        wall = self.clocks.wall()
        if seats < 1:
            raise BadRideRequest(f"seats must be at least 1, got {seats}")
        earliest = wall if earliest_pickup is None else earliest_pickup
        if earliest > wall + MAX_AHEAD_S:
            raise BadRideRequest("rides can be booked at most 24 hours ahead")
        if ride_id is None:
            # Ids of one process sort in request order even within a millisecond.
            self._last_ms = max(int(wall * 1000), self._last_ms + 1)
            ride_id = new_ride_id(self._last_ms)
        else:
            stored = await self.store.get(ride_id)
            if stored is not None:
                if stored.passenger != passenger:
                    raise BadRideRequest(f"ride id {ride_id!r} is taken; ask without it")
                return stored
        start = self.places.place(*origin)
        end = self.places.place(*destination)
        base = Ride(
            id=ride_id,
            passenger=passenger,
            seats=seats,
            origin=start or _nowhere(*origin),
            destination=end or _nowhere(*destination),
            earliest_pickup=earliest,
            status=RideStatus.OFFERED,
            created_at=wall,
            updated_at=wall,
        )
        if start is None or end is None:
            which = "pickup" if start is None else "drop-off"
            return await self._refused(
                base,
                RefusalReason.OUTSIDE_SERVICE_AREA.value,
                f"the {which} point is more than {self.places.max_walk_m:.0f} m from any stop "
                "of the service area",
            )
        if start.stop_id == end.stop_id or start.node == end.node:
            return await self._refused(
                base,
                RefusalReason.UNROUTABLE.value,
                f"pickup and drop-off are both served by stop {start.stop_name!r}; walk instead",
            )
        request = RideRequest(
            id=ride_id,
            origin=start.node,
            destination=end.node,
            earliest_pickup_s=self.clocks.to_service(earliest),
            seats=seats,
        )
        started = time.perf_counter()
        async with self.lock:
            now = self.clocks.service()
            answer = self.engine.offer(request, now)
        self.metrics.ride_insertion_seconds.observe(time.perf_counter() - started)
        if not isinstance(answer, Offer):
            return await self._refused(base, answer.reason.value, answer.message)
        to_wall = self.clocks.to_wall
        offered = replace(
            base,
            vehicle_id=answer.vehicle_id,
            pickup_window=(to_wall(answer.pickup_window[0]), to_wall(answer.pickup_window[1])),
            pickup_eta=to_wall(answer.pickup_eta_s),
            dropoff_eta=to_wall(answer.dropoff_eta_s),
            latest_dropoff=to_wall(answer.dropoff_latest_s),
            offer_expires_at=to_wall(answer.expires_s),
            direct_s=self.travel.time(start.node, end.node) / self.clocks.scale,
            history=(RideTransition(wall, RideStatus.OFFERED),),
        )
        self.metrics.rides.labels("offered").inc()
        self.stops[ride_id] = (start.stop_id, end.stop_id)
        self.offers[ride_id] = offered.offer_expires_at
        return await self.store.create(offered)

    async def accept(self, passenger: str, ride_id: str) -> Ride:
        ride = await self.get(passenger, ride_id)
        if ride.status is not RideStatus.OFFERED:
            raise RideConflict(f"ride {ride_id} is {ride.status}; only an offer can be accepted")
        wall = self.clocks.wall()
        if ride.offer_expires_at and wall > ride.offer_expires_at:
            await self.expire(ride)
            raise RideConflict(f"the offer for ride {ride_id} expired; ask again")
        async with self.lock:
            try:
                self.engine.accept(ride_id, self.clocks.service())
            except (RideStateError, UnknownRideError):
                await self.expire(ride)
                raise RideConflict(f"the offer for ride {ride_id} expired; ask again") from None
        self.metrics.rides.labels("accepted").inc()
        self.offers.pop(ride_id, None)
        return await self.store.save(move(ride, RideStatus.ACCEPTED, wall, offer_expires_at=0.0))

    async def decline(self, passenger: str, ride_id: str) -> Ride:
        ride = await self.get(passenger, ride_id)
        if ride.status is not RideStatus.OFFERED:
            raise RideConflict(f"ride {ride_id} is {ride.status}; only an offer can be declined")
        async with self.lock:
            # An offer the engine expired already has freed its seats either way.
            with contextlib.suppress(RideStateError, UnknownRideError):
                self.engine.decline(ride_id)
            self.forget(ride_id)
        self.metrics.rides.labels("declined").inc()
        return await self.store.save(move(ride, RideStatus.DECLINED, self.clocks.wall()))

    async def cancel(self, passenger: str, ride_id: str) -> Ride:
        ride = await self.get(passenger, ride_id)
        if ride.status not in (RideStatus.OFFERED, RideStatus.ACCEPTED, RideStatus.ASSIGNED):
            raise RideConflict(
                f"ride {ride_id} is {ride.status}; a ride can be cancelled until pickup"
            )
        async with self.lock:
            with contextlib.suppress(RideStateError, UnknownRideError):
                self.engine.cancel(ride_id, self.clocks.service())
            self.forget(ride_id)
        self.metrics.rides.labels("cancelled").inc()
        return await self.store.save(
            move(ride, RideStatus.CANCELLED, self.clocks.wall(), reason="cancelled_by_passenger")
        )

    async def get(self, passenger: str | None, ride_id: str) -> Ride:
        """The ride (``passenger`` None: anyone's, for operators)."""
        return await read_ride(self.store, passenger, ride_id)

    async def mine(self, passenger: str, before: str = "", limit: int = 50) -> list[Ride]:
        return await self.store.for_passenger(passenger, before, limit)

    async def current(self, ride: Ride) -> Ride:
        async with self.lock:  # the dispatcher may be re-planning on another thread
            return self.planned(ride)

    def wall(self) -> float:
        return self.clocks.wall()

    def planned(self, ride: Ride) -> Ride:
        """``ride`` with the engine's current vehicle and times (they move as plans do)."""
        if ride.final:
            return ride
        try:
            view = self.engine.ride(ride.id)
        except UnknownRideError:
            return ride
        to_wall = self.clocks.to_wall
        return replace(
            ride,
            vehicle_id=view.vehicle_id or "",
            pickup_eta=to_wall(view.pickup_eta_s) if view.pickup_eta_s else 0.0,
            dropoff_eta=to_wall(view.dropoff_eta_s) if view.dropoff_eta_s else 0.0,
        )

    def forget(self, ride_id: str) -> None:
        """Let the engine drop a ride that has ended (call with the lock held)."""
        self.stops.pop(ride_id, None)
        self.offers.pop(ride_id, None)
        with contextlib.suppress(RideStateError, UnknownRideError):
            self.engine.forget(ride_id)

    async def expire(self, ride: Ride) -> Ride:
        self.metrics.rides.labels("expired").inc()
        async with self.lock:
            self.forget(ride.id)
        return await self.store.save(
            move(ride, RideStatus.EXPIRED, self.clocks.wall(), reason="offer_expired")
        )

    async def _refused(self, base: Ride, reason: str, message: str) -> Ride:
        self.metrics.rides.labels("refused").inc()
        self.metrics.ride_refusals.labels(reason).inc()
        refused = replace(
            base,
            status=RideStatus.REFUSED,
            reason=reason,
            message=message,
            history=(RideTransition(base.created_at, RideStatus.REFUSED, reason),),
        )
        return await self.store.create(refused)


def _nowhere(lat: float, lon: float) -> Place:
    return Place(lat=lat, lon=lon, stop_id="", stop_name="", node=-1, walk_m=0.0)
