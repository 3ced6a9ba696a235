"""The live dispatch engine: offers rides by cheapest feasible insertion into the
vehicles' plans, keeps the plans in step with what the vehicles report, improves them
while they run, sends vehicles to charge and moves idle ones toward demand.

One writer: the engine is not thread-safe; the service owning it calls it from one
task and hands readers the immutable ``PlannedStop`` and ``RideView`` values it
returns. See docs/dispatch.md.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import replace

from headway.network.graph import RoadNetwork
from headway.optimizer.dispatch.charge_stops import drop_tail, keep_slot, send_to_charge
from headway.optimizer.dispatch.charging import ChargerBook
from headway.optimizer.dispatch.errors import RideStateError, UnknownRideError, UnknownVehicleError
from headway.optimizer.dispatch.improve import relocate_rides
from headway.optimizer.dispatch.model import (
    DispatchConfig,
    Offer,
    PlannedStop,
    Refusal,
    RefusalReason,
    RidePhase,
    RideRequest,
    RideView,
    StopKind,
    VehicleSnapshot,
)
from headway.optimizer.dispatch.neighbourhood import replan_neighbourhood, warm_up
from headway.optimizer.dispatch.plans import Plans
from headway.optimizer.dispatch.rebalancing import DemandEstimate, Zones, rebalance
from headway.optimizer.dispatch.state import Ride, Stop, Vehicle
from headway.optimizer.dispatch.travel import FloatArray, TravelTimes

OPEN_RIDES = (RidePhase.OFFERED, RidePhase.ACCEPTED)


class DispatchEngine:
    """Plans for a fleet; see the module docstring."""

    def __init__(
        self, travel: TravelTimes, network: RoadNetwork, config: DispatchConfig | None = None
    ) -> None:
        self._config = c = config or DispatchConfig()
        self._plans = Plans(travel, network, c)
        self._chargers = ChargerBook(network.chargers)
        self._zones = Zones(network, c.zone_size_m)
        self._demand = DemandEstimate(self._zones, c.demand_half_life_s)
        self._random = random.Random(0)
        self._last_rebalance = -math.inf

    @property
    def config(self) -> DispatchConfig:
        return self._config

    @property
    def chargers(self) -> ChargerBook:
        """The plug reservations (read them; the engine writes them)."""
        return self._chargers

    def warm_up(self) -> None:
        """Load the compiled kernels now (a few seconds on a machine's first run, about
        one later) rather than in the first offer and the first re-optimisation."""
        from headway.optimizer.dispatch.fleet import warm_up as warm_up_insertion

        warm_up_insertion()
        warm_up()

    # fleet -------------------------------------------------------------------------

    def set_vehicle(self, snapshot: VehicleSnapshot) -> None:
        """Add a vehicle or update where and when it can next be diverted and its
        battery there; its plan is kept and re-timed from the new position."""
        vehicle = self._plans.vehicles.get(snapshot.id)
        if vehicle is None:
            vehicle = self._plans.add(snapshot)
        else:
            if snapshot.node != vehicle.snap.node and not vehicle.stops:
                vehicle.idle_since_s = snapshot.ready_s
            vehicle.snap = snapshot
        self._retime(vehicle)

    def remove_vehicle(self, vehicle_id: str, now_s: float) -> tuple[str, ...]:
        """Take a vehicle out of the fleet. Its booked rides not yet picked up move to
        other vehicles within their promises; returns the rides that could not be moved
        (its riders on board among them)."""
        vehicle = self._vehicle(vehicle_id)
        drop_tail(self._chargers, vehicle, now_s)
        stranded = list(vehicle.onboard)
        waiting = [s.ride for s in vehicle.stops if s.kind == StopKind.PICK and s.ride]
        self._plans.remove(vehicle)
        for ride_id in waiting:
            ride = self._plans.rides[ride_id]
            ride.vehicle = None
            if self._plans.place(ride) is None:
                stranded.append(ride_id)
        for ride_id in stranded:
            self._plans.rides[ride_id].vehicle = None
        return tuple(stranded)

    def vehicles(self) -> tuple[str, ...]:
        """Ids of the vehicles the engine plans for."""
        return tuple(self._plans.vehicles)

    def send_to_depot(self, vehicle_id: str, depot_node: int) -> None:
        """End the vehicle's service: it serves the riders it has, takes no new ones
        and then drives to ``depot_node``."""
        vehicle = self._vehicle(vehicle_id)
        drop_tail(self._chargers, vehicle, vehicle.snap.ready_s)
        vehicle.stops.append(Stop(StopKind.DEPOT, depot_node))
        vehicle.snap = replace(vehicle.snap, in_service=False)
        self._retime(vehicle)

    def travel_times_changed(self) -> None:
        """Re-time every plan after the travel times changed (traffic): legs, ETAs and
        the way to the chargers are computed anew."""
        self._plans.retime_all()

    # rides -------------------------------------------------------------------------

    def offer(self, request: RideRequest, now_s: float) -> Offer | Refusal:
        """The cheapest feasible insertion of the request into the plans, held as an
        offer until accepted, declined or expired; or a refusal with its reason."""
        plans, c = self._plans, self._config
        plans.advance(now_s)
        self._expire(now_s)
        refusal = self._screen(request, now_s)
        if 0 <= request.origin < plans.travel.n_nodes:
            self._demand.note(request.origin, now_s)  # refused requests are demand too
        if refusal is not None:
            return refusal
        direct = plans.travel.time(request.origin, request.destination)
        if not math.isfinite(direct):
            return _refuse(request, RefusalReason.UNROUTABLE)
        earliest = max(request.earliest_pickup_s, now_s)
        window = (earliest, request.earliest_pickup_s + c.max_wait_s)
        max_ride = max(c.max_ride_factor * direct, direct + c.max_ride_extra_s)
        ride = Ride(request, direct, max_ride, window, RidePhase.OFFERED, None, math.inf)
        plans.rides[request.id] = ride
        placed = plans.place(ride)
        if placed is None:
            del plans.rides[request.id]
            if plans.in_range(ride):
                return _refuse(request, RefusalReason.NO_FEASIBLE_INSERTION)
            return _refuse(request, RefusalReason.NO_VEHICLE_IN_RANGE)
        vehicle, t_pick, t_drop = placed
        ride.window = (
            max(earliest, t_pick - c.window_before_s),
            min(window[1], t_pick + c.window_after_s),
        )
        ride.expires_s = now_s + c.offer_ttl_s
        plans.set_phase(ride, RidePhase.OFFERED)
        plans.write(vehicle)  # the promised window replaces the request's
        return Offer(
            ride_id=request.id,
            vehicle_id=vehicle.id,
            pickup_window=ride.window,
            pickup_eta_s=t_pick,
            dropoff_eta_s=t_drop,
            dropoff_latest_s=ride.dropoff_latest_s,
            expires_s=ride.expires_s,
        )

    def accept(self, ride_id: str, now_s: float) -> RideView:
        """Book an offered ride: its pickup window and ride-time limit become promises."""
        self._plans.advance(now_s)
        self._expire(now_s)
        ride = self._ride(ride_id)
        if ride.phase != RidePhase.OFFERED:
            raise RideStateError(ride_id, ride.phase, "accept")
        self._plans.set_phase(ride, RidePhase.ACCEPTED)
        ride.expires_s = math.inf
        return self.ride(ride_id)

    def decline(self, ride_id: str) -> None:
        """Drop an offer the passenger does not want; its seats are freed."""
        ride = self._ride(ride_id)
        if ride.phase != RidePhase.OFFERED:
            raise RideStateError(ride_id, ride.phase, "decline")
        self._plans.unplan(ride)
        self._plans.set_phase(ride, RidePhase.DECLINED)

    def cancel(self, ride_id: str, now_s: float) -> frozenset[str]:
        """Cancel an offered or booked ride before pickup; returns the vehicles whose
        plan changed."""
        self._plans.advance(now_s)
        ride = self._ride(ride_id)
        if ride.phase not in OPEN_RIDES:
            raise RideStateError(ride_id, ride.phase, "cancel")
        changed = self._plans.unplan(ride)
        self._plans.set_phase(ride, RidePhase.CANCELLED)
        return changed

    def ride(self, ride_id: str) -> RideView:
        """The ride's phase, vehicle and planned pickup and drop-off times."""
        ride = self._ride(ride_id)
        pick = drop = None
        vehicle = self._plans.vehicles.get(ride.vehicle or "")
        if vehicle is not None and ride.phase in (*OPEN_RIDES, RidePhase.PICKED_UP):
            for stop in self._plans.stops(vehicle):
                if ride_id in stop.ride_ids:
                    if stop.kind == StopKind.PICK:
                        pick = max(stop.eta_s, stop.window[0])
                    else:
                        drop = stop.eta_s
        return RideView(
            ride_id=ride_id,
            phase=ride.phase,
            vehicle_id=ride.vehicle,
            pickup_window=ride.window,
            pickup_eta_s=pick if ride.picked_up_s is None else ride.picked_up_s,
            dropoff_eta_s=drop if ride.dropped_off_s is None else ride.dropped_off_s,
            dropoff_latest_s=ride.dropoff_latest_s,
            picked_up_s=ride.picked_up_s,
            dropped_off_s=ride.dropped_off_s,
        )

    def forget(self, ride_id: str) -> None:
        """Drop a finished ride (completed, cancelled, declined, expired) from memory."""
        ride = self._ride(ride_id)
        if ride.phase in (*OPEN_RIDES, RidePhase.PICKED_UP):
            raise RideStateError(ride_id, ride.phase, "forget")
        del self._plans.rides[ride_id]

    # progress ----------------------------------------------------------------------

    def arrived(self, vehicle_id: str, node: int, now_s: float) -> None:
        """The vehicle is at ``node`` now: its plan is re-timed from here and any
        rebalancing or depot stop there is done."""
        self._plans.advance(now_s)
        vehicle = self._vehicle(vehicle_id)
        vehicle.snap = replace(vehicle.snap, node=node, ready_s=now_s)
        tail = vehicle.tail_stop()
        reached = tail is not None and tail.node == node and not vehicle.ride_stops()
        if reached and tail is not None and tail.kind in (StopKind.REBALANCE, StopKind.DEPOT):
            vehicle.stops.pop()
            vehicle.idle_since_s = now_s
        self._retime(vehicle)

    def picked_up(self, ride_id: str, now_s: float) -> None:
        """The rider is on board; their ride-time limit counts from now."""
        self._plans.advance(now_s)
        ride = self._ride(ride_id)
        if ride.phase not in OPEN_RIDES or ride.vehicle is None:
            raise RideStateError(ride_id, ride.phase, "pick up")
        vehicle = self._vehicle(ride.vehicle)
        vehicle.stops = [
            s for s in vehicle.stops if not (s.ride == ride_id and s.kind == StopKind.PICK)
        ]
        vehicle.onboard[ride_id] = ride.request.seats
        self._plans.set_phase(ride, RidePhase.PICKED_UP)
        ride.picked_up_s = now_s
        self._after_service(vehicle, now_s)

    def dropped_off(self, ride_id: str, now_s: float) -> None:
        """The rider has left the vehicle; the ride is completed."""
        self._plans.advance(now_s)
        ride = self._ride(ride_id)
        if ride.phase != RidePhase.PICKED_UP or ride.vehicle is None:
            raise RideStateError(ride_id, ride.phase, "drop off")
        vehicle = self._vehicle(ride.vehicle)
        vehicle.stops = [s for s in vehicle.stops if s.ride != ride_id]
        vehicle.onboard.pop(ride_id, None)
        self._plans.set_phase(ride, RidePhase.COMPLETED)
        ride.dropped_off_s = now_s
        self._after_service(vehicle, now_s)

    def charged(self, vehicle_id: str, soc: float, now_s: float) -> None:
        """The vehicle has finished charging at its charge stop, with ``soc``."""
        self._plans.advance(now_s)
        vehicle = self._vehicle(vehicle_id)
        if vehicle.bound_for(StopKind.CHARGE):
            drop_tail(self._chargers, vehicle, now_s)
        vehicle.snap = replace(vehicle.snap, soc=soc, ready_s=max(vehicle.snap.ready_s, now_s))
        vehicle.idle_since_s = now_s
        self._retime(vehicle)

    # planning ----------------------------------------------------------------------

    def reoptimise(self, now_s: float, budget_s: float) -> frozenset[str]:
        """Expire stale offers, send vehicles low on energy to charge and idle ones
        toward demand, then improve the plans for up to ``budget_s`` seconds of
        computing, never breaking a promise and never raising the plans' cost.
        Returns the vehicles whose plan changed."""
        c = self._config
        deadline = time.perf_counter() + budget_s
        self._plans.advance(now_s)
        changed = self._expire(now_s)
        changed |= send_to_charge(self._plans, self._chargers, now_s)
        if c.rebalance and now_s - self._last_rebalance >= c.rebalance_period_s:
            self._last_rebalance = now_s
            changed |= rebalance(self._plans, self._zones, self._demand, now_s)
        if not c.pooling:
            return frozenset(changed)
        joint = c.neighbourhood_vehicles >= 2
        halfway = time.perf_counter() + budget_s / 2 if joint else deadline
        changed |= relocate_rides(self._plans, self._random, min(halfway, deadline))
        attempts = sum(1 for v in self._plans.vehicles.values() if v.stops) if joint else 0
        while attempts > 0 and time.perf_counter() + 0.005 < deadline:
            attempts -= 1
            until = min(deadline, time.perf_counter() + c.neighbourhood_time_s)
            size = c.neighbourhood_vehicles
            changed |= replan_neighbourhood(self._plans, self._random, size, until)
        return frozenset(changed)

    def plan(self, vehicle_id: str) -> tuple[PlannedStop, ...]:
        """The vehicle's planned stops in order, with their times."""
        return self._plans.stops(self._vehicle(vehicle_id))

    def plan_cost(self) -> float:
        """The objective the engine minimises, summed over the fleet (DispatchConfig)."""
        return sum(self._plans.cost(v) for v in self._plans.vehicles.values())

    def demand_rates(self, now_s: float) -> FloatArray:
        """Estimated requests per second per rebalancing zone."""
        return self._demand.rates(now_s)

    def zone_of(self, node: int) -> int:
        """The rebalancing zone of a node."""
        return int(self._zones.of_node[node])

    # internals ---------------------------------------------------------------------

    def _vehicle(self, vehicle_id: str) -> Vehicle:
        try:
            return self._plans.vehicles[vehicle_id]
        except KeyError:
            raise UnknownVehicleError(vehicle_id) from None

    def _ride(self, ride_id: str) -> Ride:
        try:
            return self._plans.rides[ride_id]
        except KeyError:
            raise UnknownRideError(ride_id) from None

    def _screen(self, request: RideRequest, now_s: float) -> Refusal | None:
        n = self._plans.travel.n_nodes
        vehicles = self._plans.vehicles
        if request.id in self._plans.rides:
            return _refuse(request, RefusalReason.DUPLICATE)
        if not (0 <= request.origin < n and 0 <= request.destination < n):
            return _refuse(request, RefusalReason.OUTSIDE_SERVICE_AREA)
        if request.origin == request.destination:
            return _refuse(request, RefusalReason.UNROUTABLE)
        if request.earliest_pickup_s + self._config.max_wait_s < now_s:
            return _refuse(request, RefusalReason.TOO_LATE)
        if not vehicles:
            return _refuse(request, RefusalReason.NO_VEHICLE_IN_RANGE)
        if not 1 <= request.seats <= max(v.snap.seats for v in vehicles.values()):
            return _refuse(request, RefusalReason.CAPACITY)
        return None

    def _expire(self, now_s: float) -> set[str]:
        changed: set[str] = set()
        for ride in list(self._plans.offers.values()):
            if ride.expires_s < now_s:
                changed |= self._plans.unplan(ride)
                self._plans.set_phase(ride, RidePhase.EXPIRED)
        return changed

    def _after_service(self, vehicle: Vehicle, now_s: float) -> None:
        ready = max(vehicle.snap.ready_s, now_s + self._config.dwell_s)
        vehicle.snap = replace(vehicle.snap, ready_s=ready)
        if not vehicle.stops:
            vehicle.idle_since_s = ready
        self._retime(vehicle)

    def _retime(self, vehicle: Vehicle) -> None:
        self._plans.write(vehicle)
        keep_slot(self._plans, self._chargers, vehicle)


def _refuse(request: RideRequest, reason: RefusalReason) -> Refusal:
    return Refusal(request.id, reason, MESSAGES[reason])


MESSAGES = {
    RefusalReason.UNROUTABLE: "There is no way by road between these places; pick other stops.",
    RefusalReason.OUTSIDE_SERVICE_AREA: "This place is outside the service area.",
    RefusalReason.TOO_LATE: "The requested pickup time has passed; ask for a pickup from now.",
    RefusalReason.CAPACITY: "No vehicle has that many seats; split the group into smaller rides.",
    RefusalReason.NO_VEHICLE_IN_RANGE: (
        "No vehicle can reach you in time; try again in a few minutes."
    ),
    RefusalReason.NO_FEASIBLE_INSERTION: (
        "All vehicles near you are full or committed; try again in a few minutes."
    ),
    RefusalReason.DUPLICATE: "A ride with this id already exists.",
}
