"""Putting rides back into an engine that starts afresh: the stack's dispatcher rebuilds
its plans from the ride records after a restart (``services/rides/recovery.py``).

A ride comes back with the promise it was given (pickup window, latest drop-off), not a
new offer: a rider on board goes back onto the vehicle carrying them, a pickup already
sent to a vehicle back onto that vehicle as its next stop, and any other booked ride or
standing offer wherever it fits best. A promise the vehicles can no longer keep (time
went by while no dispatcher ran) is relaxed to what they can still do, rather than the
ride dropped: the rider is served late, not forgotten.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from headway.optimizer.dispatch.engine import DispatchEngine
from headway.optimizer.dispatch.errors import UnknownVehicleError
from headway.optimizer.dispatch.model import RidePhase, RideRequest, StopKind
from headway.optimizer.dispatch.state import Ride, Stop


@dataclass(frozen=True, slots=True)
class BookedRide:
    """A ride as its record tells it, in the engine's clock."""

    request: RideRequest
    phase: RidePhase
    """OFFERED, ACCEPTED or PICKED_UP."""
    window: tuple[float, float]
    dropoff_latest_s: float
    vehicle_id: str = ""
    """The vehicle it must stay with: the one carrying the rider, or sent for them."""
    picked_up_s: float | None = None
    offer_expires_s: float = math.inf


class RestorableEngine(DispatchEngine):
    """A ``DispatchEngine`` that can take back the rides of a predecessor."""

    def restore(self, booked: BookedRide, now_s: float) -> str | None:
        """Plan ``booked`` again; the vehicle it is planned on, or None when it cannot
        be planned now (its vehicle is unknown, or no vehicle can take it): try again
        once the fleet is known better."""
        plans = self._plans
        plans.advance(now_s)
        request = booked.request
        if request.id in plans.rides:
            return plans.rides[request.id].vehicle
        direct = plans.travel.time(request.origin, request.destination)
        if not math.isfinite(direct):
            return None
        start = booked.window[1] if booked.picked_up_s is None else booked.picked_up_s
        max_ride = max(direct, booked.dropoff_latest_s - start)
        ride = Ride(
            request,
            direct,
            max_ride,
            booked.window,
            booked.phase,
            None,
            booked.offer_expires_s if booked.phase is RidePhase.OFFERED else math.inf,
            picked_up_s=booked.picked_up_s,
        )
        plans.rides[request.id] = ride
        placed = self._put_back(ride, booked.vehicle_id, now_s)
        if placed is None:
            del plans.rides[request.id]
            return None
        plans.set_phase(ride, booked.phase)
        return placed

    def _put_back(self, ride: Ride, vehicle_id: str, now_s: float) -> str | None:
        plans = self._plans
        if ride.phase is RidePhase.PICKED_UP or vehicle_id:
            try:
                vehicle = self._vehicle(vehicle_id)
            except UnknownVehicleError:
                return None
            ride.vehicle = vehicle.id
            stops = vehicle.ride_stops()
            tail = [] if vehicle.tail_stop() is None else [vehicle.stops[-1]]
            drop = Stop(StopKind.DROP, ride.request.destination, ride.id)
            if ride.phase is RidePhase.PICKED_UP:
                vehicle.onboard[ride.id] = ride.request.seats
                vehicle.stops = [*stops, drop, *tail]
            else:  # its pickup is what the vehicle was last sent: first
                pick = Stop(StopKind.PICK, ride.request.origin, ride.id)
                vehicle.stops = [pick, *stops, drop, *tail]
            # Writing re-times the plan and relaxes the windows it already misses.
            self._retime(vehicle)
            return vehicle.id
        placed = plans.place(ride)
        if placed is None and ride.window[1] < now_s + self.config.max_wait_s:
            ride.window = (now_s, now_s + self.config.max_wait_s)  # late, but served
            placed = plans.place(ride)
        return None if placed is None else placed[0].id
