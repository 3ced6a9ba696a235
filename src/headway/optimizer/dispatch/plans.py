"""The fleet's plans: the engine's records of vehicles and rides, kept in step with the
compiled arrays of ``fleet.py``, and the operations on them that every part of the
engine shares (time a vehicle's plan, find and make an insertion, take a ride out).
"""

from __future__ import annotations

import math

import numpy as np

from headway.network.graph import RoadNetwork
from headway.optimizer.darp.arrays import IntArray
from headway.optimizer.dispatch.fleet import Ask, Params, best_insertion, grown, new_fleet, retime
from headway.optimizer.dispatch.model import (
    DispatchConfig,
    PlannedStop,
    RidePhase,
    StopKind,
    VehicleSnapshot,
)
from headway.optimizer.dispatch.state import Ride, Stop, Vehicle
from headway.optimizer.dispatch.travel import FloatArray, TravelTimes


class Plans:
    """Vehicles, rides and the arrays the kernels read; one writer."""

    def __init__(self, travel: TravelTimes, network: RoadNetwork, config: DispatchConfig) -> None:
        self.travel = travel
        self.network = network
        self.config = c = config
        self.params = Params(float(c.dwell_s), float(c.wait_weight), float(c.ride_weight))
        top = c.top_speed_mps or float(network.edge_speed_mps.max())
        self.soc_per_drive_s = c.energy_kwh_per_km * top / 1000.0 / c.battery_kwh
        """State of charge used per second of driving, at the top speed (an upper bound)."""
        self.fleet = new_fleet(16, c.max_stops)
        self.times = np.zeros(c.max_stops + 2)
        self.vehicles: dict[str, Vehicle] = {}
        self.by_row: list[Vehicle | None] = []
        self.rides: dict[str, Ride] = {}
        self.offers: dict[str, Ride] = {}
        """Rides offered and not yet accepted, declined or expired."""
        self.waiting: dict[str, Ride] = {}
        """Rides offered or booked and not yet picked up."""
        self.tail = self.charger_distances()
        """Seconds from each node to the nearest charger."""
        self._rows: IntArray | None = None
        self.now = -np.inf
        """The latest time a caller has told: no vehicle can leave before it."""

    def advance(self, now_s: float) -> None:
        """Bring every plan up to ``now_s``: a vehicle that was ready earlier (idle, or
        waiting at a stop) leaves no earlier than now."""
        if now_s <= self.now:
            return
        self.now = now_s
        f = self.fleet
        rows = self.rows()
        stale = rows[f.ready[rows] < now_s]
        f.ready[stale] = now_s
        for v in stale[f.size[stale] > 0].tolist():
            retime(f, v, self.tail, self.params)

    def set_phase(self, ride: Ride, phase: RidePhase) -> None:
        """Move the ride to ``phase``, keeping the indexes of open rides."""
        ride.phase = phase
        if phase == RidePhase.OFFERED:
            self.offers[ride.id] = ride
        else:
            self.offers.pop(ride.id, None)
        if phase in (RidePhase.OFFERED, RidePhase.ACCEPTED):
            self.waiting[ride.id] = ride
        else:
            self.waiting.pop(ride.id, None)

    def add(self, snapshot: VehicleSnapshot) -> Vehicle:
        row = len(self.by_row)
        if row >= len(self.fleet.size):
            self.fleet = grown(self.fleet, 2 * row)
        vehicle = Vehicle(snapshot, row, idle_since_s=snapshot.ready_s)
        self.vehicles[snapshot.id] = vehicle
        self.by_row.append(vehicle)
        self._rows = None
        return vehicle

    def remove(self, vehicle: Vehicle) -> None:
        self.fleet.active[vehicle.row] = 0
        self.fleet.size[vehicle.row] = 0
        self.by_row[vehicle.row] = None
        self._rows = None
        del self.vehicles[vehicle.id]

    def rows(self) -> IntArray:
        """The rows of the vehicles in the fleet (kept until a vehicle comes or goes)."""
        if self._rows is None:
            self._rows = np.array([v.row for v in self.vehicles.values()], dtype=np.int64)
        return self._rows

    def cost(self, vehicle: Vehicle) -> float:
        return float(self.fleet.base_cost[vehicle.row])

    def ready(self, vehicle: Vehicle) -> float:
        """When the vehicle can leave its anchor: as reported, and not before now."""
        return float(self.fleet.ready[vehicle.row])

    def end_of_rides(self, vehicle: Vehicle) -> tuple[int, float, float]:
        """(node, time, seconds of driving) when the vehicle's last rider is off."""
        f, v = self.fleet, vehicle.row
        m = int(f.size[v])
        if m == 0:
            return vehicle.snap.node, self.ready(vehicle), 0.0
        return int(f.node[v, m - 1]), float(f.depart[v, m - 1]), float(f.cum_drive[v, m - 1])

    def ask(self, ride: Ride) -> Ask:
        """The ride as the insertion kernel reads it, with its four travel-time rows."""
        q = ride.request
        return Ask(  # one type for every field, or the kernel is compiled again
            pick=int(q.origin),
            drop=int(q.destination),
            early=float(ride.window[0]),
            late=float(ride.window[1]),
            ref=float(q.earliest_pickup_s),
            max_ride=float(ride.max_ride_s),
            seats=int(q.seats),
            direct=float(ride.direct_s),
            to_pick=self.travel.to_node(q.origin),
            from_pick=self.travel.from_node(q.origin),
            to_drop=self.travel.to_node(q.destination),
            from_drop=self.travel.from_node(q.destination),
        )

    def best(self, ask: Ask, rows: IntArray) -> tuple[int, int, int, float, float, float]:
        return best_insertion(self.fleet, rows, ask, self.tail, self.params, self.times)

    def place(self, ride: Ride) -> tuple[Vehicle, float, float] | None:
        """Insert the ride where it costs least: (vehicle, pickup time, drop-off time).
        Without pooling only the idle vehicle that reaches the pickup first is tried."""
        ask = self.ask(ride)
        rows = self.rows() if self.config.pooling else self.nearest_idle(ask)
        v, i, j, _, t_pick, t_drop = self.best(ask, rows)
        if v < 0:
            return None
        vehicle = self.by_row[v]
        assert vehicle is not None
        self.splice(vehicle, ride, i, j, ask)
        return vehicle, t_pick, t_drop

    def nearest_idle(self, ask: Ask) -> IntArray:
        """The idle vehicle (no riders, no stops to serve) that reaches the pickup first."""
        f = self.fleet
        rows = self.rows()
        idle: IntArray = rows[(f.size[rows] == 0) & (f.active[rows] == 1)]
        if len(idle) == 0:
            return idle
        first = int(np.argmin(f.ready[idle] + ask.to_pick[f.anchor[idle]]))
        out: IntArray = idle[first : first + 1]
        return out

    def in_range(self, ride: Ride) -> bool:
        """Whether some vehicle taking rides could reach the pickup within its window."""
        f = self.fleet
        rows = self.rows()
        to_pick = self.travel.to_node(ride.request.origin)
        ok = (f.active[rows] == 1) & (f.capacity[rows] >= ride.request.seats)
        reach = f.ready[rows] + to_pick[f.anchor[rows]] <= ride.window[1]
        return bool(np.any(ok & reach))

    def splice(self, vehicle: Vehicle, ride: Ride, i: int, j: int, ask: Ask) -> None:
        """Put the ride's pickup after i and its drop-off after j ride stops; a
        rebalancing stop gives way."""
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
        self.write(vehicle)

    def unplan(self, ride: Ride) -> frozenset[str]:
        """Take the ride's stops out of its vehicle's plan."""
        vehicle = self.vehicles.get(ride.vehicle or "")
        if vehicle is None:
            return frozenset()
        vehicle.stops = [s for s in vehicle.stops if s.ride != ride.id]
        self.write(vehicle)
        return frozenset({vehicle.id})

    def write(self, vehicle: Vehicle) -> bool:
        """Copy the vehicle's ride stops into its row and time them; False when its
        battery no longer covers the plan (the vehicle ran more than planned)."""
        f, v, c = self.fleet, vehicle.row, self.config
        snap = vehicle.snap
        stops = vehicle.ride_stops()
        if len(stops) > c.max_stops:
            raise AssertionError("more stops than max_stops")
        f.size[v] = len(stops)
        f.anchor[v] = snap.node
        f.ready[v] = max(snap.ready_s, self.now)
        f.onboard[v] = sum(vehicle.onboard.values())
        f.capacity[v] = snap.seats
        f.budget[v] = max(0.0, snap.soc - c.reserve_soc) / self.soc_per_drive_s
        committed = vehicle.bound_for(StopKind.CHARGE) or vehicle.bound_for(StopKind.DEPOT)
        room = len(stops) + 2 <= c.max_stops
        f.active[v] = int(snap.in_service and not committed and room)
        prev = snap.node
        position: dict[str, int] = {}
        for x, stop in enumerate(stops):
            ride = self.rides[stop.ride or ""]
            if stop.leg_from != prev:
                stop.leg = self.travel.time(prev, stop.node)
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
        return bool(retime(f, v, self.tail, self.params))

    def stops(self, vehicle: Vehicle) -> tuple[PlannedStop, ...]:
        """The vehicle's plan as the engine publishes it."""
        f, v = self.fleet, vehicle.row
        out: list[PlannedStop] = []
        arrive = self.ready(vehicle)
        for x, stop in enumerate(vehicle.ride_stops()):
            ride = self.rides[stop.ride or ""]
            grouped = (
                x > 0 and f.node[v, x] == f.node[v, x - 1] and f.start[v, x] == f.start[v, x - 1]
            )
            if not grouped:  # else it is served with the stop before: same arrival
                leave = self.ready(vehicle) if x == 0 else float(f.depart[v, x - 1])
                arrive = leave + float(f.leg[v, x])
            pick = stop.kind == StopKind.PICK
            window = ride.window if pick else (0.0, ride.dropoff_latest_s)
            out.append(
                PlannedStop(stop.node, stop.kind, (ride.id,), arrive, window, float(f.depart[v, x]))
            )
        node, leave, _ = self.end_of_rides(vehicle)
        tail = vehicle.tail_stop()
        if tail is not None:
            arrive = leave + self.travel.time(node, tail.node)
            if tail.slot is not None:
                window, depart = (tail.slot.start_s, tail.slot.end_s), tail.slot.end_s
            else:
                window, depart = (arrive, math.inf), arrive
            out.append(PlannedStop(tail.node, tail.kind, (), arrive, window, depart))
        return tuple(out)

    def retime_all(self) -> None:
        """Travel times changed: recompute every leg, the way to the chargers and the
        schedules."""
        self.tail = self.charger_distances()
        for vehicle in self.vehicles.values():
            for stop in vehicle.stops:
                stop.leg_from = -1
            self.write(vehicle)

    def charger_distances(self) -> FloatArray:
        nodes = [ch.node for ch in self.network.chargers]
        if not nodes:
            return np.zeros(self.travel.n_nodes)
        rows = np.vstack([self.travel.to_node(n) for n in nodes])
        out: FloatArray = rows.min(axis=0)
        return out
