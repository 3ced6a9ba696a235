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

import numpy as np

from headway.network.graph import RoadNetwork
from headway.optimizer.dispatch.charging import ChargerBook, charge_duration_s
from headway.optimizer.dispatch.errors import RideStateError, UnknownRideError, UnknownVehicleError
from headway.optimizer.dispatch.fleet import (
    Ask,
    Params,
    best_insertion,
    grown,
    new_fleet,
    retime,
)
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
from headway.optimizer.dispatch.rebalancing import DemandEstimate, Zones, rebalancing_moves
from headway.optimizer.dispatch.state import Ride, Stop, Vehicle
from headway.optimizer.dispatch.travel import FloatArray, TravelTimes

OPEN_RIDES = (RidePhase.OFFERED, RidePhase.ACCEPTED)


class DispatchEngine:
    """Plans for a fleet; see the module docstring."""

    def __init__(
        self, travel: TravelTimes, network: RoadNetwork, config: DispatchConfig | None = None
    ) -> None:
        self._travel = travel
        self._network = network
        self._config = c = config or DispatchConfig()
        self._params = Params(c.dwell_s, c.wait_weight, c.ride_weight)
        top = c.top_speed_mps or float(network.edge_speed_mps.max())
        self._soc_per_drive_s = c.energy_kwh_per_km * top / 1000.0 / c.battery_kwh
        self._fleet = new_fleet(16, c.max_stops)
        self._times = np.zeros(c.max_stops + 2)
        self._vehicles: dict[str, Vehicle] = {}
        self._by_row: list[Vehicle | None] = []
        self._rides: dict[str, Ride] = {}
        self._chargers = ChargerBook(network.chargers)
        self._tail = self._charger_distances()
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

    # fleet -------------------------------------------------------------------------

    def set_vehicle(self, snapshot: VehicleSnapshot) -> None:
        """Add a vehicle or update where and when it can next be diverted and its
        battery there; its plan is kept and re-timed from the new position."""
        vehicle = self._vehicles.get(snapshot.id)
        if vehicle is None:
            row = len(self._by_row)
            if row >= len(self._fleet.size):
                self._fleet = grown(self._fleet, 2 * row)
            vehicle = Vehicle(snapshot, row, idle_since_s=snapshot.ready_s)
            self._vehicles[snapshot.id] = vehicle
            self._by_row.append(vehicle)
        else:
            if snapshot.node != vehicle.snap.node and not vehicle.stops:
                vehicle.idle_since_s = snapshot.ready_s
            vehicle.snap = snapshot
        self._write(vehicle)
        self._keep_slot(vehicle)

    def remove_vehicle(self, vehicle_id: str, now_s: float) -> tuple[str, ...]:
        """Take a vehicle out of the fleet. Its booked rides not yet picked up move to
        other vehicles within their promises; returns the rides that could not be moved
        (its riders on board among them)."""
        vehicle = self._vehicle(vehicle_id)
        self._drop_tail(vehicle, now_s)
        stranded = list(vehicle.onboard)
        waiting = [s.ride for s in vehicle.stops if s.kind == StopKind.PICK and s.ride]
        vehicle.stops.clear()
        vehicle.onboard.clear()
        self._fleet.active[vehicle.row] = 0
        self._fleet.size[vehicle.row] = 0
        self._by_row[vehicle.row] = None
        del self._vehicles[vehicle_id]
        for ride_id in waiting:
            ride = self._rides[ride_id]
            ride.vehicle = None
            if not self._insert_ride(ride, now_s):
                stranded.append(ride_id)
        for ride_id in stranded:
            self._rides[ride_id].vehicle = None
        return tuple(stranded)

    def vehicles(self) -> tuple[str, ...]:
        """Ids of the vehicles the engine plans for."""
        return tuple(self._vehicles)

    # rides -------------------------------------------------------------------------

    def offer(self, request: RideRequest, now_s: float) -> Offer | Refusal:
        """The cheapest feasible insertion of the request into the plans, held as an
        offer until accepted, declined or expired; or a refusal with its reason."""
        self._expire(now_s)
        c = self._config
        refusal = self._screen(request, now_s)
        if 0 <= request.origin < self._travel.n_nodes:
            self._demand.note(request.origin, now_s)  # refused requests are demand too
        if refusal is not None:
            return refusal
        direct = self._travel.time(request.origin, request.destination)
        if not math.isfinite(direct):
            return _refuse(request, RefusalReason.UNROUTABLE)
        earliest = max(request.earliest_pickup_s, now_s)
        window = (earliest, request.earliest_pickup_s + c.max_wait_s)
        max_ride = max(c.max_ride_factor * direct, direct + c.max_ride_extra_s)
        ride = Ride(request, direct, max_ride, window, RidePhase.OFFERED, None, math.inf)
        self._rides[request.id] = ride
        placed = self._place(ride, now_s)
        if placed is None:
            del self._rides[request.id]
            in_range = self._in_range(ride)
            reason = (
                RefusalReason.NO_FEASIBLE_INSERTION
                if in_range
                else (RefusalReason.NO_VEHICLE_IN_RANGE)
            )
            return _refuse(request, reason)
        vehicle, t_pick, t_drop = placed
        ride.window = (
            max(earliest, t_pick - c.window_before_s),
            min(window[1], t_pick + c.window_after_s),
        )
        ride.expires_s = now_s + c.offer_ttl_s
        self._write(vehicle)  # the promised window replaces the request's
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
        self._expire(now_s)
        ride = self._ride(ride_id)
        if ride.phase != RidePhase.OFFERED:
            raise RideStateError(ride_id, ride.phase, "accept")
        ride.phase = RidePhase.ACCEPTED
        ride.expires_s = math.inf
        return self.ride(ride_id)

    def decline(self, ride_id: str) -> None:
        """Drop an offer the passenger does not want; its seats are freed."""
        ride = self._ride(ride_id)
        if ride.phase != RidePhase.OFFERED:
            raise RideStateError(ride_id, ride.phase, "decline")
        self._unplan(ride)
        ride.phase = RidePhase.DECLINED

    def cancel(self, ride_id: str, now_s: float) -> frozenset[str]:
        """Cancel an offered or booked ride before pickup; returns the vehicles whose
        plan changed."""
        ride = self._ride(ride_id)
        if ride.phase not in OPEN_RIDES:
            raise RideStateError(ride_id, ride.phase, "cancel")
        changed = self._unplan(ride)
        ride.phase = RidePhase.CANCELLED
        return changed

    def ride(self, ride_id: str) -> RideView:
        """The ride's phase, vehicle and planned pickup and drop-off times."""
        ride = self._ride(ride_id)
        pick = drop = None
        if ride.vehicle is not None and ride.phase in (*OPEN_RIDES, RidePhase.PICKED_UP):
            for stop in self.plan(ride.vehicle):
                if ride_id in stop.ride_ids:
                    if stop.kind == StopKind.PICK:
                        pick = stop.window[0] if stop.eta_s < stop.window[0] else stop.eta_s
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

    # progress ----------------------------------------------------------------------

    def arrived(self, vehicle_id: str, node: int, now_s: float) -> None:
        """The vehicle is at ``node`` now: its plan is re-timed from here and any
        rebalancing or depot stop there is done."""
        vehicle = self._vehicle(vehicle_id)
        vehicle.snap = replace(vehicle.snap, node=node, ready_s=now_s)
        tail = vehicle.tail_stop()
        done = tail is not None and tail.node == node and not vehicle.ride_stops()
        if done and tail is not None and tail.kind in (StopKind.REBALANCE, StopKind.DEPOT):
            vehicle.stops.pop()
            vehicle.idle_since_s = now_s
        self._write(vehicle)
        self._keep_slot(vehicle)

    def picked_up(self, ride_id: str, now_s: float) -> None:
        """The rider is on board; their ride-time limit counts from now."""
        ride = self._ride(ride_id)
        if ride.phase not in OPEN_RIDES or ride.vehicle is None:
            raise RideStateError(ride_id, ride.phase, "pick up")
        vehicle = self._vehicle(ride.vehicle)
        vehicle.stops = [
            s for s in vehicle.stops if not (s.ride == ride_id and s.kind == StopKind.PICK)
        ]
        vehicle.onboard[ride_id] = ride.request.seats
        ride.phase = RidePhase.PICKED_UP
        ride.picked_up_s = now_s
        self._after_service(vehicle, now_s)

    def dropped_off(self, ride_id: str, now_s: float) -> None:
        """The rider has left the vehicle; the ride is completed."""
        ride = self._ride(ride_id)
        if ride.phase != RidePhase.PICKED_UP or ride.vehicle is None:
            raise RideStateError(ride_id, ride.phase, "drop off")
        vehicle = self._vehicle(ride.vehicle)
        vehicle.stops = [s for s in vehicle.stops if s.ride != ride_id]
        vehicle.onboard.pop(ride_id, None)
        ride.phase = RidePhase.COMPLETED
        ride.dropped_off_s = now_s
        self._after_service(vehicle, now_s)

    def charged(self, vehicle_id: str, soc: float, now_s: float) -> None:
        """The vehicle has finished charging at its charge stop, with ``soc``."""
        vehicle = self._vehicle(vehicle_id)
        tail = vehicle.tail_stop()
        if tail is not None and tail.kind == StopKind.CHARGE:
            self._drop_tail(vehicle, now_s)
        vehicle.snap = replace(vehicle.snap, soc=soc, ready_s=max(vehicle.snap.ready_s, now_s))
        vehicle.idle_since_s = now_s
        self._write(vehicle)

    # planning ----------------------------------------------------------------------

    def reoptimise(self, now_s: float, budget_s: float) -> frozenset[str]:
        """Expire stale offers, send vehicles low on energy to charge and idle ones
        toward demand, then improve the plans for up to ``budget_s`` seconds of
        computing, never breaking a promise and never raising the plans' cost.
        Returns the vehicles whose plan changed."""
        from headway.optimizer.dispatch.improve import relocate_rides

        deadline = time.perf_counter() + budget_s
        changed = set(self._expire(now_s))
        changed |= self._send_to_charge(now_s)
        if self._config.rebalance:
            changed |= self._rebalance(now_s)
        if self._config.pooling:
            changed |= relocate_rides(self, now_s, deadline)
        return frozenset(changed)

    def plan(self, vehicle_id: str) -> tuple[PlannedStop, ...]:
        """The vehicle's planned stops in order, with their times."""
        vehicle = self._vehicle(vehicle_id)
        f, v = self._fleet, vehicle.row
        out: list[PlannedStop] = []
        t, at = vehicle.snap.ready_s, vehicle.snap.node
        for x, stop in enumerate(vehicle.ride_stops()):
            ride = self._rides[stop.ride or ""]
            arrive = (vehicle.snap.ready_s if x == 0 else float(f.depart[v, x - 1])) + float(
                f.leg[v, x]
            )
            window = ride.window if stop.kind == StopKind.PICK else (0.0, ride.dropoff_latest_s)
            t, at = float(f.depart[v, x]), stop.node
            out.append(PlannedStop(stop.node, stop.kind, (ride.id,), arrive, window, t))
        tail = vehicle.tail_stop()
        if tail is not None:
            arrive = t + self._travel.time(at, tail.node)
            if tail.slot is not None:
                window = (tail.slot.start_s, tail.slot.end_s)
                depart = tail.slot.end_s
            else:
                window, depart = (arrive, math.inf), arrive
            out.append(PlannedStop(tail.node, tail.kind, (), arrive, window, depart))
        return tuple(out)

    def plan_cost(self) -> float:
        """The objective the engine minimises, summed over the fleet (DispatchConfig)."""
        return float(sum(self._fleet.base_cost[v.row] for v in self._vehicles.values()))

    def demand_rates(self, now_s: float) -> FloatArray:
        """Estimated requests per second per rebalancing zone."""
        return self._demand.rates(now_s)

    def zone_of(self, node: int) -> int:
        return int(self._zones.of_node[node])

    # internals ---------------------------------------------------------------------

    def _vehicle(self, vehicle_id: str) -> Vehicle:
        try:
            return self._vehicles[vehicle_id]
        except KeyError:
            raise UnknownVehicleError(vehicle_id) from None

    def _ride(self, ride_id: str) -> Ride:
        try:
            return self._rides[ride_id]
        except KeyError:
            raise UnknownRideError(ride_id) from None

    def _screen(self, request: RideRequest, now_s: float) -> Refusal | None:
        n = self._travel.n_nodes
        if request.id in self._rides:
            return _refuse(request, RefusalReason.DUPLICATE)
        if not (0 <= request.origin < n and 0 <= request.destination < n):
            return _refuse(request, RefusalReason.OUTSIDE_SERVICE_AREA)
        if request.origin == request.destination:
            return _refuse(request, RefusalReason.UNROUTABLE)
        if request.earliest_pickup_s + self._config.max_wait_s < now_s:
            return _refuse(request, RefusalReason.TOO_LATE)
        if not self._vehicles:
            return _refuse(request, RefusalReason.NO_VEHICLE_IN_RANGE)
        if not 1 <= request.seats <= max(v.snap.seats for v in self._vehicles.values()):
            return _refuse(request, RefusalReason.CAPACITY)
        return None

    def _ask(self, ride: Ride) -> Ask:
        q = ride.request
        return Ask(
            pick=q.origin,
            drop=q.destination,
            early=ride.window[0],
            late=ride.window[1],
            ref=q.earliest_pickup_s,
            max_ride=ride.max_ride_s,
            seats=q.seats,
            direct=ride.direct_s,
            to_pick=self._travel.to_node(q.origin),
            from_pick=self._travel.from_node(q.origin),
            to_drop=self._travel.to_node(q.destination),
            from_drop=self._travel.from_node(q.destination),
        )

    def _rows(self) -> np.ndarray:
        return np.array([v.row for v in self._vehicles.values()], dtype=np.int64)

    def _place(self, ride: Ride, now_s: float) -> tuple[Vehicle, float, float] | None:
        """Insert the ride where it costs least; (vehicle, pickup, drop-off time)."""
        ask = self._ask(ride)
        if self._config.pooling:
            found = best_insertion(
                self._fleet, self._rows(), ask, self._tail, self._params, self._times
            )
        else:
            found = best_insertion(
                self._fleet, self._nearest_idle(ask), ask, self._tail, self._params, self._times
            )
        v, i, j, _, t_pick, t_drop = found
        if v < 0:
            return None
        vehicle = self._by_row[v]
        assert vehicle is not None
        self._splice(vehicle, ride, i, j, ask)
        return vehicle, t_pick, t_drop

    def _insert_ride(self, ride: Ride, now_s: float) -> bool:
        return self._place(ride, now_s) is not None

    def _nearest_idle(self, ask: Ask) -> np.ndarray:
        """The idle vehicle (no riders, no stops to serve) that reaches the pickup first."""
        f = self._fleet
        best, best_t = -1, math.inf
        for vehicle in self._vehicles.values():
            v = vehicle.row
            if f.size[v] or not f.active[v]:
                continue
            t = f.ready[v] + ask.to_pick[f.anchor[v]]
            if t < best_t:
                best, best_t = v, t
        return np.array([best] if best >= 0 else [], dtype=np.int64)

    def _in_range(self, ride: Ride) -> bool:
        f = self._fleet
        rows = self._rows()
        if len(rows) == 0:
            return False
        to_pick = self._travel.to_node(ride.request.origin)
        ok = (f.active[rows] == 1) & (f.capacity[rows] >= ride.request.seats)
        reach = f.ready[rows] + to_pick[f.anchor[rows]] <= ride.window[1]
        return bool(np.any(ok & reach))

    def _splice(self, vehicle: Vehicle, ride: Ride, i: int, j: int, ask: Ask) -> None:
        """Put the ride's pickup after i and its drop-off after j ride stops."""
        ride.vehicle = vehicle.id
        stops = vehicle.ride_stops()
        tail = vehicle.tail_stop()
        pick = Stop(StopKind.PICK, ask.pick, ride.id)
        drop = Stop(StopKind.DROP, ask.drop, ride.id, leg_from=ask.pick, leg=ask.direct)
        stops.insert(j, drop)
        stops.insert(i, pick)
        if tail is not None and tail.kind != StopKind.REBALANCE:
            stops.append(tail)
        vehicle.stops = stops
        self._write(vehicle)

    def _unplan(self, ride: Ride) -> frozenset[str]:
        if ride.vehicle is None:
            return frozenset()
        vehicle = self._vehicles.get(ride.vehicle)
        if vehicle is None:
            return frozenset()
        vehicle.stops = [s for s in vehicle.stops if s.ride != ride.id]
        self._write(vehicle)
        return frozenset({vehicle.id})

    def _expire(self, now_s: float) -> set[str]:
        changed: set[str] = set()
        for ride in self._rides.values():
            if ride.phase == RidePhase.OFFERED and ride.expires_s < now_s:
                changed |= self._unplan(ride)
                ride.phase = RidePhase.EXPIRED
        return changed

    def _after_service(self, vehicle: Vehicle, now_s: float) -> None:
        ready = max(vehicle.snap.ready_s, now_s + self._config.dwell_s)
        vehicle.snap = replace(vehicle.snap, ready_s=ready)
        if not vehicle.stops:
            vehicle.idle_since_s = ready
        self._write(vehicle)
        self._keep_slot(vehicle)

    def _write(self, vehicle: Vehicle) -> bool:
        """Copy the vehicle's ride stops into its row and time them."""
        f, v, c = self._fleet, vehicle.row, self._config
        snap = vehicle.snap
        stops = vehicle.ride_stops()
        if len(stops) > c.max_stops:
            raise AssertionError("more stops than max_stops")
        f.size[v] = len(stops)
        f.anchor[v] = snap.node
        f.ready[v] = snap.ready_s
        f.onboard[v] = sum(vehicle.onboard.values())
        f.capacity[v] = snap.seats
        f.budget[v] = max(0.0, snap.soc - c.reserve_soc) / self._soc_per_drive_s
        tail = vehicle.tail_stop()
        committed = tail is not None and tail.kind in (StopKind.CHARGE, StopKind.DEPOT)
        room = len(stops) + 2 <= c.max_stops
        f.active[v] = int(snap.in_service and not committed and room)
        prev = snap.node
        position: dict[str, int] = {}
        for x, stop in enumerate(stops):
            ride = self._rides[stop.ride or ""]
            if stop.leg_from != prev:
                stop.leg = self._travel.time(prev, stop.node)
                stop.leg_from = prev
            f.node[v, x] = stop.node
            f.leg[v, x] = stop.leg
            if stop.kind == StopKind.PICK:
                position[ride.id] = x
                f.delta[v, x] = ride.request.seats
                f.early[v, x], f.late[v, x] = ride.window
                f.ref[v, x] = ride.request.earliest_pickup_s
                f.partner[v, x] = -1
            else:
                y = position.get(ride.id, -1)
                f.delta[v, x] = -ride.request.seats
                f.early[v, x] = 0.0
                f.partner[v, x] = y
                f.max_ride[v, x] = ride.max_ride_s
                if y < 0:
                    picked = ride.picked_up_s if ride.picked_up_s is not None else snap.ready_s
                    f.ref[v, x] = picked
                    f.late[v, x] = picked + ride.max_ride_s
                else:
                    f.late[v, x] = math.inf
            prev = stop.node
        return bool(retime(f, v, self._tail, self._params))

    def _send_to_charge(self, now_s: float) -> set[str]:
        """Give a charge stop to every vehicle whose plan ends below charge_below_soc."""
        c, f = self._config, self._fleet
        self._chargers.forget_before(now_s - 3600.0)
        changed: set[str] = set()
        for vehicle in self._vehicles.values():
            if vehicle.bound_for(StopKind.CHARGE) or vehicle.bound_for(StopKind.DEPOT):
                continue
            v, m = vehicle.row, int(f.size[vehicle.row])
            drive = float(f.cum_drive[v, m - 1]) if m else 0.0
            soc_end = vehicle.snap.soc - drive * self._soc_per_drive_s
            if soc_end >= c.charge_below_soc:
                continue
            end_node = int(f.node[v, m - 1]) if m else vehicle.snap.node
            end_s = float(f.depart[v, m - 1]) if m else vehicle.snap.ready_s
            choice = self._charge_slot(end_node, max(end_s, now_s), soc_end)
            if choice is None:
                continue
            charger, start, end = choice
            slot = self._chargers.book(charger, vehicle.id, start, end)
            if vehicle.bound_for(StopKind.REBALANCE):
                vehicle.stops.pop()
            node = self._network.chargers[charger].node
            vehicle.stops.append(Stop(StopKind.CHARGE, node, charger=charger, slot=slot))
            self._write(vehicle)
            changed.add(vehicle.id)
        return changed

    def _charge_slot(self, node: int, from_s: float, soc: float) -> tuple[int, float, float] | None:
        """(charger, start, end) that finishes charging first, among the chargers the
        vehicle reaches above its reserve."""
        c = self._config
        row = self._travel.from_node(node)
        best: tuple[int, float, float] | None = None
        for k, charger in enumerate(self._network.chargers):
            drive = float(row[charger.node])
            arrive_soc = soc - drive * self._soc_per_drive_s
            if arrive_soc < c.reserve_soc - 1e-9:
                continue
            duration = charge_duration_s(
                arrive_soc, c.charge_target_soc, c.battery_kwh, charger.power_kw
            )
            start = self._chargers.earliest_start(k, from_s + drive, duration)
            if best is None or start + duration < best[2]:
                best = (k, start, start + duration)
        return best

    def _keep_slot(self, vehicle: Vehicle) -> None:
        """A vehicle that will reach its charger after its slot begins gives the slot
        back and takes the first free one from its new arrival."""
        stop = vehicle.tail_stop()
        if stop is None or stop.slot is None:
            return
        f, v, c = self._fleet, vehicle.row, self._config
        m = int(f.size[v])
        at = int(f.node[v, m - 1]) if m else vehicle.snap.node
        leave = float(f.depart[v, m - 1]) if m else vehicle.snap.ready_s
        drive = self._travel.time(at, stop.node)
        arrive = leave + drive
        if arrive <= stop.slot.start_s + 1e-6:
            return
        used = (float(f.cum_drive[v, m - 1]) if m else 0.0) + drive
        soc = vehicle.snap.soc - used * self._soc_per_drive_s
        self._chargers.cancel(stop.charger, stop.slot)
        charger = self._network.chargers[stop.charger]
        duration = charge_duration_s(soc, c.charge_target_soc, c.battery_kwh, charger.power_kw)
        start = self._chargers.earliest_start(stop.charger, arrive, duration)
        stop.slot = self._chargers.book(stop.charger, vehicle.id, start, start + duration)

    def _drop_tail(self, vehicle: Vehicle, now_s: float) -> None:
        tail = vehicle.tail_stop()
        if tail is None:
            return
        if tail.slot is not None:
            self._chargers.release(tail.charger, tail.slot, now_s)
        vehicle.stops.pop()

    def _rebalance(self, now_s: float) -> set[str]:
        c, f = self._config, self._fleet
        if now_s - self._last_rebalance < c.rebalance_period_s:
            return set()
        self._last_rebalance = now_s
        idle: list[tuple[str, int]] = []
        staying: list[int] = []
        for vehicle in self._vehicles.values():
            if not f.active[vehicle.row]:
                continue
            if vehicle.bound_for(StopKind.REBALANCE):
                staying.append(vehicle.stops[-1].node)
            elif not vehicle.stops and now_s - vehicle.idle_since_s >= c.rebalance_idle_s:
                idle.append((vehicle.id, vehicle.snap.node))
        rates = self._demand.rates(now_s)
        moves = rebalancing_moves(
            idle, staying, self._zones, rates, self._travel, c.rebalance_max_move_s
        )
        changed: set[str] = set()
        for vehicle_id, node in moves:
            vehicle = self._vehicles[vehicle_id]
            v = vehicle.row
            if node == vehicle.snap.node:
                continue
            drive = self._travel.time(vehicle.snap.node, node)
            if drive + self._tail[node] > f.budget[v]:
                continue
            vehicle.stops = [Stop(StopKind.REBALANCE, node)]
            self._write(vehicle)
            changed.add(vehicle_id)
        return changed

    def _charger_distances(self) -> FloatArray:
        nodes = [ch.node for ch in self._network.chargers]
        if not nodes:
            return np.zeros(self._travel.n_nodes)
        rows = np.vstack([self._travel.to_node(n) for n in nodes])
        out: FloatArray = rows.min(axis=0)
        return out


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
