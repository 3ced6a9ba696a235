"""The fleet's behaviour in simulated time, with no I/O: the simulator's pure core.

``FleetModel.advance(dt)`` moves every vehicle ``dt`` simulated seconds on. A vehicle
dwells at a stop while passengers alight and board, picks another stop at random, drives
there along the router's fastest path, and when its battery has fallen below the
threshold it drops everyone off and drives to the nearest charger instead, waits for a
free plug, and charges back to the target. Faults count down on the side and may hold
it still.

Decisions draw from one random stream per vehicle in event order, and only from it, so
a seed fixes every vehicle's sequence of targets whatever the tick lengths were.
"""

from __future__ import annotations

import math
import random
from collections import Counter, deque
from collections.abc import Sequence

from headway.sim.config import SimConfig
from headway.sim.execution import OrderExecutor, holding
from headway.sim.faults import FaultDice, FaultKind
from headway.sim.motion import Leg, Path
from headway.sim.roads import ChargerSite, Place, RoadMap, Router
from headway.sim.vehicle import Activity, TargetKind, Vehicle, normalise_angle, serial_number

_ROUTE_ATTEMPTS = 8
_CACHE_LIMIT = 8192


class FleetModel:
    def __init__(self, network: RoadMap, router: Router, config: SimConfig) -> None:
        if not network.stops:
            raise ValueError("the road network has no stops: the simulator needs at least two")
        self.network = network
        self.config = config
        self._router = router
        self._stops: Sequence[Place] = tuple(network.stops)
        self._chargers: Sequence[ChargerSite] = tuple(network.chargers)
        self._free_plugs = [max(int(c.plugs), 1) for c in self._chargers]
        self._queues: list[deque[Vehicle]] = [deque() for _ in self._chargers]
        self.faults_started: Counter[str] = Counter()
        self._paths: dict[tuple[int, int], Path | None] = {}
        self._nearest_charger: dict[int, int | None] = {}
        self._lengths = network.edge_length_m
        self._limits = network.edge_speed_mps
        self.vehicles = self._place_fleet()
        self.orders = OrderExecutor(self)

    def _place_fleet(self) -> list[Vehicle]:
        config, spec = self.config, self.config.vehicle
        placing = random.Random(f"{config.seed}/fleet")
        vehicles: list[Vehicle] = []
        for index in range(config.vehicles):
            serial = serial_number(index)
            stop = placing.choice(self._stops)
            rng = random.Random(f"{config.seed}/{serial}/decisions")
            dice = None
            if config.faults:
                dice = FaultDice(
                    config.fault_rates, random.Random(f"{config.seed}/{serial}/faults")
                )
            low, high = spec.initial_charge_pct
            vehicle = Vehicle(
                index=index,
                serial=serial,
                spec=spec,
                capacity=config.capacity,
                rng=rng,
                dice=dice,
                place=stop,
                node=int(stop.node),
                battery_kwh=spec.battery_kwh * rng.uniform(low, high) / 100.0,
            )
            vehicle.dwell_left = rng.uniform(0.0, spec.dwell_s[1])
            vehicle.needs_charge = vehicle.battery_pct < spec.low_battery_pct
            if not config.roam:
                vehicle.commanded = True
                vehicle.activity = Activity.IDLE
            vehicles.append(vehicle)
        return vehicles

    def advance(self, dt: float) -> None:
        for vehicle in self.vehicles:
            self.step(vehicle, dt)

    def step(self, vehicle: Vehicle, dt: float) -> None:
        faults = vehicle.faults
        if faults.tick(dt):
            vehicle.urgent = True
        if vehicle.dice is not None:
            fault = vehicle.dice.roll(dt)
            if fault is not None:
                self.start_fault(vehicle, fault[0], fault[1])
        if vehicle.paused:
            if vehicle.leg is not None:
                vehicle.leg.halt()
            return
        self.orders.tick_hold(vehicle, dt)
        left = dt
        for _ in range(16):
            if left <= 1e-9:
                break
            activity = vehicle.activity
            if activity is Activity.DRIVING:
                left = self._drive(vehicle, left)
            elif activity is Activity.DWELLING:
                if vehicle.dwell_left > left:
                    vehicle.dwell_left -= left
                    break
                left -= vehicle.dwell_left
                vehicle.dwell_left = 0.0
                if faults.immobilised or holding(vehicle):
                    break
                self._depart(vehicle)
            elif activity is Activity.ACTING:
                left = self.orders.act(vehicle, left)
            elif activity is Activity.CHARGING:
                left = self._charge(vehicle, left)
            else:
                break

    def start_fault(self, vehicle: Vehicle, kind: FaultKind, duration_s: float) -> None:
        self.faults_started[kind] += 1
        if vehicle.faults.start(kind, duration_s, f"n{vehicle.last_node}"):
            vehicle.urgent = True
        if vehicle.faults.immobilised and vehicle.leg is not None:
            vehicle.leg.halt()

    def _drive(self, vehicle: Vehicle, left: float) -> float:
        leg = vehicle.leg
        assert leg is not None
        if vehicle.faults.immobilised:
            leg.halt()
            return 0.0
        used, distance = leg.drive(left)
        vehicle.consume(distance)
        if vehicle.leg_reach:
            self.orders.passed(vehicle)
        if vehicle.battery_kwh <= 0.0:
            leg.halt()
            vehicle.faults.raise_depleted(f"n{leg.last_node}")
            vehicle.urgent = True
            return 0.0
        if not leg.done:
            return 0.0
        self._arrive(vehicle)
        return left - used

    def _arrive(self, vehicle: Vehicle) -> None:
        leg, target = vehicle.leg, vehicle.target
        assert leg is not None
        _, _, vehicle.heading = self.network.position_at(leg.edge, leg.path.lengths[leg.k])
        vehicle.node = leg.last_node
        vehicle.leg = None
        if vehicle.commanded:
            self.orders.arrive(vehicle)
            return
        assert target is not None
        vehicle.place = target
        if vehicle.target_kind is TargetKind.CHARGER and vehicle.charger is not None:
            self._plug_in_or_queue(vehicle, vehicle.charger)
            return
        self._serve_stop(vehicle)

    def _serve_stop(self, vehicle: Vehicle) -> None:
        rng, spec = vehicle.rng, vehicle.spec
        vehicle.needs_charge = vehicle.battery_pct < spec.low_battery_pct and bool(self._chargers)
        if vehicle.needs_charge:
            vehicle.alight(len(vehicle.seats))
        else:
            vehicle.alight(rng.randint(0, len(vehicle.seats)))
            vehicle.board(rng.randint(0, min(vehicle.free_seats, 4)))
        vehicle.activity = Activity.DWELLING
        vehicle.dwell_left = rng.uniform(*spec.dwell_s)

    def _depart(self, vehicle: Vehicle) -> None:
        if vehicle.commanded:
            self.orders.advance(vehicle)
            return
        if vehicle.needs_charge and self._head_for_charger(vehicle):
            return
        origin = vehicle.node
        current = vehicle.place
        for _ in range(_ROUTE_ATTEMPTS):
            stop = vehicle.rng.choice(self._stops)
            if stop is current or int(stop.node) == origin:
                continue
            path = self.path(origin, int(stop.node))
            if path is not None:
                self._set_off(vehicle, stop, TargetKind.STOP, path)
                return
        # Nowhere reachable from here this time: wait one more dwell and try again.
        vehicle.dwell_left = vehicle.rng.uniform(*vehicle.spec.dwell_s)

    def _head_for_charger(self, vehicle: Vehicle) -> bool:
        index = self._nearest_charger_from(vehicle.node)
        if index is None:
            return False
        charger = self._chargers[index]
        vehicle.charger = index
        if int(charger.node) == vehicle.node:
            vehicle.target, vehicle.target_kind = charger, TargetKind.CHARGER
            vehicle.targets.append(str(charger.id))
            vehicle.place = charger
            self._plug_in_or_queue(vehicle, index)
            return True
        path = self.path(vehicle.node, int(charger.node))
        if path is None:
            vehicle.charger = None
            return False
        self._set_off(vehicle, charger, TargetKind.CHARGER, path)
        return True

    def _set_off(self, vehicle: Vehicle, target: Place, kind: TargetKind, path: Path) -> None:
        spec = vehicle.spec
        vehicle.leg = Leg(path, spec.acceleration_mps2, spec.deceleration_mps2)
        vehicle.target, vehicle.target_kind = target, kind
        vehicle.targets.append(str(target.id))
        vehicle.activity = Activity.DRIVING
        vehicle.needs_charge = False

    def _plug_in_or_queue(self, vehicle: Vehicle, index: int) -> None:
        vehicle.needs_charge = False
        if self._free_plugs[index] > 0:
            self._free_plugs[index] -= 1
            vehicle.activity = Activity.CHARGING
        else:
            self._queues[index].append(vehicle)
            vehicle.activity = Activity.QUEUED
        vehicle.urgent = True

    def _charge(self, vehicle: Vehicle, left: float) -> float:
        index = vehicle.charger
        assert index is not None
        spec = vehicle.spec
        goal = spec.battery_kwh * (vehicle.charge_goal_pct or spec.charge_target_pct) / 100.0
        rate = float(self._chargers[index].power_kw) / 3600.0
        needed = goal - vehicle.battery_kwh
        if rate > 0.0 and needed > rate * left:
            vehicle.battery_kwh += rate * left
            return 0.0
        used = max(needed, 0.0) / rate if rate > 0.0 else 0.0
        vehicle.battery_kwh = max(goal, vehicle.battery_kwh)
        self._unplug(vehicle, index)
        self._depart(vehicle)
        return left - used

    def _unplug(self, vehicle: Vehicle, index: int) -> None:
        vehicle.charger = None
        vehicle.charge_goal_pct = None
        vehicle.activity = Activity.DWELLING
        vehicle.urgent = True
        queue = self._queues[index]
        if queue:
            waiting = queue.popleft()
            waiting.activity = Activity.CHARGING
            waiting.urgent = True
            if waiting.commanded:
                self.orders.plugged(waiting)
        else:
            self._free_plugs[index] += 1

    def plug_in(self, vehicle: Vehicle, index: int) -> None:
        """Charge at charger ``index`` (the vehicle stands at it), or queue for a plug."""
        vehicle.charger = index
        self._plug_in_or_queue(vehicle, index)

    def leave_charger(self, vehicle: Vehicle) -> None:
        """Stop charging, or stop waiting for a plug."""
        index = vehicle.charger
        if index is None:
            return
        if vehicle.activity is Activity.CHARGING:
            self._unplug(vehicle, index)
            return
        if vehicle in self._queues[index]:
            self._queues[index].remove(vehicle)
        vehicle.charger = None
        vehicle.charge_goal_pct = None
        vehicle.activity = Activity.DWELLING
        vehicle.urgent = True

    def build_path(self, nodes: tuple[int, ...], edges: tuple[int, ...]) -> Path:
        limit = self.config.vehicle.max_speed_mps
        return Path.build(
            nodes,
            edges,
            tuple(float(self._lengths[e]) for e in edges),
            tuple(min(float(self._limits[e]), limit) for e in edges),
        )

    def path(self, origin: int, target: int) -> Path | None:
        """The fastest path between two nodes, cached: a fleet reuses the same few."""
        key = (origin, target)
        if key in self._paths:
            return self._paths[key]
        route = self._router.route(origin, target)
        path = None
        if route is not None and len(route.edges) > 0:
            edges = tuple(int(e) for e in route.edges)
            path = Path.build(
                tuple(int(n) for n in route.nodes),
                edges,
                tuple(float(self._lengths[e]) for e in edges),
                tuple(
                    min(float(self._limits[e]), self.config.vehicle.max_speed_mps) for e in edges
                ),
            )
        if len(self._paths) >= _CACHE_LIMIT:
            self._paths.clear()
        self._paths[key] = path
        return path

    def _nearest_charger_from(self, node: int) -> int | None:
        if node not in self._nearest_charger:
            times = self._router.travel_times_from(node)
            best, best_time = None, math.inf
            for index, charger in enumerate(self._chargers):
                try:
                    time_s = float(times[int(charger.node)])
                except (IndexError, KeyError):
                    continue
                if time_s < best_time:
                    best, best_time = index, time_s
            self._nearest_charger[node] = best
        return self._nearest_charger[node]

    def pose(self, vehicle: Vehicle) -> tuple[float, float, float]:
        """``(x, y, theta)`` in the map frame, theta in (-pi, pi]."""
        leg = vehicle.leg
        if leg is not None:
            x, y, heading = self.network.position_at(leg.edge, leg.offset_on_edge)
            vehicle.heading = heading
        else:
            xy = self.network.node_xy[vehicle.node]
            x, y, heading = float(xy[0]), float(xy[1]), vehicle.heading
        return float(x), float(y), normalise_angle(float(heading))
