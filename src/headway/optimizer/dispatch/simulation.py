"""A discrete-event run of the engine: vehicles follow their plans on the road network's
travel times (optionally perturbed), riders accept every offer, and everything the
engine is told comes from what the simulated vehicles did.

A vehicle drives one leg at a time, from stop to stop; while driving it is committed to
the leg's end, which is what it reports as where it can next be diverted. Energy is
taken from the real length of each leg. No I/O: the caller reads the ``Outcome``.
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from headway.network.cch_router import CCHRouter
from headway.optimizer.dispatch.charging import charge_duration_s
from headway.optimizer.dispatch.engine import DispatchEngine
from headway.optimizer.dispatch.model import Offer, RefusalReason, StopKind, VehicleSnapshot
from headway.optimizer.dispatch.scenario import TimedRequest


@dataclass(slots=True)
class SimVehicle:
    id: str
    node: int
    soc: float
    seats: int
    token: int = 0
    onboard: int = 0
    busy: bool = False  # driving or charging: not to be woken
    charger: int = -1


@dataclass
class Outcome:
    """What happened, ride by ride and vehicle by vehicle."""

    requests: int = 0
    offered: int = 0
    refusals: dict[str, int] = field(default_factory=dict)
    waits_s: list[float] = field(default_factory=list)
    detours: list[float] = field(default_factory=list)
    on_time: int = 0
    late_dropoffs: int = 0
    """Pickups inside their promised window; drop-offs after the ride-time limit."""
    completed: int = 0
    passengers: int = 0
    km_empty: float = 0.0
    km_total: float = 0.0
    latencies_s: list[float] = field(default_factory=list)
    cpu_s: list[float] = field(default_factory=list)
    """Per offer: wall time, and the processor time this thread spent on it (the wall
    time less what other processes took from it on a busy machine)."""
    min_soc: float = 1.0
    charge_sessions: int = 0
    charger_peak: dict[int, int] = field(default_factory=dict)
    charger_over: int = 0
    rebalancing_moves: int = 0
    reoptimise_s: float = 0.0


class Simulation:
    """Run ``requests`` through ``engine`` with ``fleet`` on ``router``'s roads."""

    def __init__(
        self,
        engine: DispatchEngine,
        router: CCHRouter,
        fleet: Sequence[VehicleSnapshot],
        noise: float = 0.0,
        seed: int = 0,
        reoptimise_every_s: float = 60.0,
        reoptimise_budget_s: float = 0.05,
    ) -> None:
        self.engine = engine
        self.router = router
        self.noise = noise
        self.rng = np.random.default_rng(seed)
        self.every = reoptimise_every_s
        self.budget = reoptimise_budget_s
        self.vehicles = {s.id: SimVehicle(s.id, s.node, s.soc, s.seats) for s in fleet}
        for s in fleet:
            engine.set_vehicle(s)
        self.out = Outcome(min_soc=min((s.soc for s in fleet), default=1.0))
        self._events: list[tuple[float, int, int, str, str, int]] = []
        self._seq = 0
        self._charging: dict[int, int] = {}
        self._ride_info: dict[str, TimedRequest] = {}
        self._cfg = engine.config

    def run(self, requests: Sequence[TimedRequest], until_s: float) -> Outcome:
        """Play the requests; vehicles keep moving until ``until_s``."""
        for k, timed in enumerate(requests):
            self._push(timed.at_s, "request", str(k), 0)
        start = requests[0].at_s if requests else 0.0
        self._push(start, "reoptimise", "", 0)
        for vehicle in self.vehicles.values():
            self._push(start, "decide", vehicle.id, vehicle.token)
        while self._events:
            t, _, _, kind, key, token = heapq.heappop(self._events)
            if t > until_s:
                break
            if kind == "request":
                self._request(requests[int(key)], t)
            elif kind == "reoptimise":
                self._reoptimise(t)
                if self._events:
                    self._push(t + self.every, "reoptimise", "", 0)
            else:
                vehicle = self.vehicles[key]
                if token != vehicle.token:
                    continue  # superseded
                if kind == "arrive":
                    vehicle.busy = False
                    self.engine.arrived(vehicle.id, vehicle.node, t)
                    self._decide(vehicle, t)
                elif kind == "charged":
                    self._charged(vehicle, t)
                else:
                    self._decide(vehicle, t)
        return self.out

    # events ------------------------------------------------------------------------

    def _request(self, timed: TimedRequest, t: float) -> None:
        self.out.requests += 1
        started, cpu = time.perf_counter(), time.thread_time()
        answer = self.engine.offer(timed.request, t)
        self.out.latencies_s.append(time.perf_counter() - started)
        self.out.cpu_s.append(time.thread_time() - cpu)
        if not isinstance(answer, Offer):
            key = str(answer.reason)
            self.out.refusals[key] = self.out.refusals.get(key, 0) + 1
            return
        self.out.offered += 1
        self._ride_info[answer.ride_id] = timed
        self.engine.accept(answer.ride_id, t)
        self._wake(answer.vehicle_id, t)

    def _reoptimise(self, t: float) -> None:
        started = time.perf_counter()
        changed = self.engine.reoptimise(t, self.budget)
        self.out.reoptimise_s += time.perf_counter() - started
        for vehicle_id in changed:
            plan = self.engine.plan(vehicle_id)
            if plan and plan[-1].kind == StopKind.REBALANCE:
                self.out.rebalancing_moves += 1
            self._wake(vehicle_id, t)

    def _wake(self, vehicle_id: str, t: float) -> None:
        vehicle = self.vehicles[vehicle_id]
        if not vehicle.busy:
            vehicle.token += 1
            self._push(t, "decide", vehicle.id, vehicle.token)

    def _decide(self, vehicle: SimVehicle, t: float) -> None:
        """At a node, free: serve what is due here, or drive to the next stop."""
        engine = self.engine
        served = False
        for stop in engine.plan(vehicle.id):
            if stop.node != vehicle.node:
                break
            if stop.kind == StopKind.PICK:
                if t < stop.window[0]:
                    if not served:
                        self._push_own(vehicle, stop.window[0], "decide")
                        return
                    break
                ride_id = stop.ride_ids[0]
                timed = self._ride_info[ride_id]
                engine.picked_up(ride_id, t)
                view = engine.ride(ride_id)
                self.out.waits_s.append(t - timed.request.earliest_pickup_s)
                self.out.on_time += int(t <= view.pickup_window[1] + 1e-6)
                vehicle.onboard += timed.request.seats
                served = True
            elif stop.kind == StopKind.DROP:
                ride_id = stop.ride_ids[0]
                timed = self._ride_info[ride_id]
                view = engine.ride(ride_id)
                picked = view.picked_up_s
                assert picked is not None
                self.out.late_dropoffs += int(t > view.dropoff_latest_s + 1e-6)
                engine.dropped_off(ride_id, t)
                direct = self.router.travel_time(timed.request.origin, timed.request.destination)
                self.out.detours.append((t - picked) / max(direct, 1.0))
                self.out.completed += 1
                self.out.passengers += timed.request.seats
                vehicle.onboard -= timed.request.seats
                served = True
            elif stop.kind == StopKind.CHARGE:
                if served:
                    break
                if t < stop.window[0]:
                    self._push_own(vehicle, stop.window[0], "decide")
                    return
                self._start_charging(vehicle, stop.node, t)
                return
            else:  # a rebalancing or depot stop where the vehicle already is
                engine.arrived(vehicle.id, vehicle.node, t)
                break
        if served:
            self._push_own(vehicle, t + self._cfg.dwell_s, "decide")
            return
        plan = engine.plan(vehicle.id)
        if not plan:
            return  # idle until woken
        if plan[0].node == vehicle.node:
            self._push_own(vehicle, t, "decide")
            return
        self._drive(vehicle, plan[0].node, t)

    def _drive(self, vehicle: SimVehicle, target: int, t: float) -> None:
        route = self.router.route(vehicle.node, target)
        assert route is not None, "the city is strongly connected"
        factor = math.exp(self.rng.normal(0.0, self.noise)) if self.noise > 0 else 1.0
        arrive = t + route.time_s * factor
        km = route.length_m / 1000.0
        self.out.km_total += km
        if vehicle.onboard == 0:
            self.out.km_empty += km
        vehicle.soc -= km * self._cfg.energy_kwh_per_km / self._cfg.battery_kwh
        self.out.min_soc = min(self.out.min_soc, vehicle.soc)
        vehicle.node = target
        vehicle.busy = True
        snap = VehicleSnapshot(vehicle.id, target, arrive, vehicle.seats, vehicle.soc)
        self.engine.set_vehicle(snap)
        self._push_own(vehicle, arrive, "arrive")

    def _start_charging(self, vehicle: SimVehicle, node: int, t: float) -> None:
        charger = next(k for k, c in enumerate(self.engine.chargers.chargers) if c.node == node)
        spec = self.engine.chargers.chargers[charger]
        in_use = self._charging.get(charger, 0) + 1
        self._charging[charger] = in_use
        peak = self.out.charger_peak
        peak[charger] = max(peak.get(charger, 0), in_use)
        self.out.charger_over += int(in_use > spec.plugs)
        c = self._cfg
        duration = charge_duration_s(vehicle.soc, c.charge_target_soc, c.battery_kwh, spec.power_kw)
        vehicle.busy = True
        self.out.charge_sessions += 1
        vehicle.charger = charger
        self._push_own(vehicle, t + duration, "charged")

    def _charged(self, vehicle: SimVehicle, t: float) -> None:
        self._charging[vehicle.charger] -= 1
        vehicle.charger = -1
        vehicle.soc = max(vehicle.soc, self._cfg.charge_target_soc)
        vehicle.busy = False
        self.engine.charged(vehicle.id, vehicle.soc, t)
        self._decide(vehicle, t)

    def _push_own(self, vehicle: SimVehicle, t: float, kind: str) -> None:
        vehicle.token += 1
        self._push(t, kind, vehicle.id, vehicle.token)

    def _push(self, t: float, kind: str, key: str, token: int) -> None:
        self._seq += 1
        first = 0 if kind == "charged" else 1  # a plug freed at t is free for others at t
        heapq.heappush(self._events, (t, first, self._seq, kind, key, token))


def refusal_share(outcome: Outcome, reason: RefusalReason) -> float:
    return outcome.refusals.get(str(reason), 0) / max(outcome.requests, 1)
