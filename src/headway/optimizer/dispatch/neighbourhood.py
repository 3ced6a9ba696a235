"""Re-plan a few neighbouring vehicles together with the dial-a-ride solver.

A neighbourhood is a vehicle with riders still to pick up and the vehicles whose
anchors are nearest to it. Their rides become a dial-a-ride problem
(headway.optimizer.darp): each vehicle's route starts at its anchor at its ready time
and ends anywhere (a sink that every node reaches in no time); riders on board are
pinned to their vehicle with their pickup time; riders still waiting keep their promised
pickup window and ride-time limit but may change vehicle. The adaptive large
neighbourhood search starts from the current plans and runs for a few milliseconds.

The solver minimises driving time and lets vehicles wait anywhere, while vehicles here
leave as soon as they can: its routes are therefore re-timed with the engine's own
schedule and kept only if every promise still holds, every battery still reaches a
charger above its reserve, and the engine's cost falls.
"""

from __future__ import annotations

import random
import time

import numpy as np

from headway.optimizer.darp import model as darp
from headway.optimizer.darp.search import Tuning
from headway.optimizer.darp.solver import SolverOptions, solve
from headway.optimizer.dispatch.improve import GAIN_S
from headway.optimizer.dispatch.model import StopKind
from headway.optimizer.dispatch.plans import Plans
from headway.optimizer.dispatch.state import Ride, Stop, Vehicle

SINK_FROM_S = 1e7  # leaving the sink: never worth it
SMALL = Tuning(q_min=2, q_max_share=1.0, q_max_cap=12)
"""A neighbourhood holds a few rides: remove two or more at a time, or no exchange of
rides between two vehicles could ever be found."""


def replan_neighbourhood(plans: Plans, rng: random.Random, size: int, deadline: float) -> set[str]:
    """One neighbourhood re-planned by the solver until ``deadline``; the vehicles
    whose plans changed (none when the solver's plan is not better)."""
    group = _neighbourhood(plans, rng, size)
    if len(group) < 2:
        return set()
    rides = [
        plans.rides[s.ride] for v in group for s in v.stops if s.kind == StopKind.DROP and s.ride
    ]
    nodes = sorted(
        {v.snap.node for v in group}
        | {n for r in rides for n in (r.request.origin, r.request.destination)}
    )
    where = {n: k for k, n in enumerate(nodes)}
    sink = len(nodes)
    matrix = np.full((sink + 1, sink + 1), SINK_FROM_S)
    matrix[:sink, :sink] = plans.travel.matrix(nodes, nodes)
    matrix[:, sink] = 0.0
    if not np.all(np.isfinite(matrix)):
        return set()
    index = {v.id: k for k, v in enumerate(group)}
    dwell = plans.config.dwell_s
    requests = [_request(r, where, index, dwell) for r in rides]
    vehicles = [
        darp.Vehicle(where[v.snap.node], sink, v.snap.seats, (plans.ready(v), plans.ready(v)))
        for v in group
    ]
    problem = darp.Problem(requests, vehicles, matrix)
    number = {r.id: k for k, r in enumerate(rides)}
    start = darp.Plan(
        routes=tuple(
            tuple(
                darp.Stop(number[s.ride or ""], s.kind == StopKind.PICK, 0.0)
                for s in v.ride_stops()
            )
            for v in group
        ),
        unassigned=(),
        cost=0.0,
    )
    limit = deadline - time.perf_counter()
    if limit <= 0.005:
        return set()
    options = SolverOptions(time_limit=limit, seed=rng.randrange(2**31), tuning=SMALL)
    found = solve(problem, options, start=start)
    if found.unassigned:
        return set()
    return _adopt(plans, group, rides, found)


def warm_up() -> None:
    """Load (or compile) the solver's kernels on a problem of two rides."""
    matrix = np.array([[0.0, 1.0, 2.0], [1.0, 0.0, 1.0], [2.0, 1.0, 0.0]])
    requests = [darp.Request(0, 2), darp.Request(1, 2)]
    problem = darp.Problem(requests, [darp.Vehicle(0, 0, 2)], matrix)
    solve(problem, SolverOptions(time_limit=3600.0, iterations=5, tuning=SMALL))


def _neighbourhood(plans: Plans, rng: random.Random, size: int) -> list[Vehicle]:
    f = plans.fleet
    active = [v for v in plans.vehicles.values() if f.active[v.row] and not v.tail_stop()]
    seeds = [v for v in active if any(s.kind == StopKind.PICK for s in v.stops)]
    if not seeds:
        return []
    seed = rng.choice(seeds)
    row = plans.travel.from_node(seed.snap.node)
    others = sorted(
        (v for v in active if v is not seed and v.stops),
        key=lambda v: row[v.snap.node] + max(0.0, plans.ready(v) - plans.ready(seed)),
    )
    return [seed, *others[: size - 1]]


def _request(
    ride: Ride, where: dict[int, int], index: dict[str, int], dwell: float
) -> darp.Request:
    q = ride.request
    if ride.picked_up_s is not None:
        return darp.Request(
            where[q.origin],
            where[q.destination],
            max_ride_time=ride.max_ride_s,
            load=q.seats,
            dropoff_service=dwell,
            vehicle=index[ride.vehicle or ""],
            picked_up_at=ride.picked_up_s,
        )
    return darp.Request(
        where[q.origin],
        where[q.destination],
        pickup_window=ride.window,
        max_ride_time=ride.max_ride_s,
        load=q.seats,
        pickup_service=dwell,
        dropoff_service=dwell,
    )


def _adopt(plans: Plans, group: list[Vehicle], rides: list[Ride], found: darp.Plan) -> set[str]:
    """Take the solver's routes if they keep every promise and cost less."""
    before = {v.id: list(v.stops) for v in group}
    old_cost = sum(plans.cost(v) for v in group)
    owner = {r.id: r.vehicle for r in rides}
    for vehicle, route in zip(group, found.routes, strict=True):
        stops = []
        for visit in route:
            ride = rides[visit.request]
            kind = StopKind.PICK if visit.pickup else StopKind.DROP
            node = ride.request.origin if visit.pickup else ride.request.destination
            stops.append(Stop(kind, node, ride.id))
            ride.vehicle = vehicle.id
        vehicle.stops = stops
    ok = all(plans.write(v) and _promises_kept(plans, v) for v in group)
    if ok and sum(plans.cost(v) for v in group) < old_cost - GAIN_S:
        return {v.id for v in group if [s.ride for s in v.stops] != [s.ride for s in before[v.id]]}
    for vehicle in group:
        vehicle.stops = before[vehicle.id]
        for stop in vehicle.stops:
            stop.leg_from = -1
        plans.write(vehicle)
    for ride in rides:
        ride.vehicle = owner[ride.id]
    return set()


def _promises_kept(plans: Plans, vehicle: Vehicle) -> bool:
    """Every pickup within its window and every ride within its limit, on the engine's
    schedule (which leaves as soon as it can)."""
    f, v = plans.fleet, vehicle.row
    picked: dict[str, float] = {}
    for x, stop in enumerate(vehicle.ride_stops()):
        ride = plans.rides[stop.ride or ""]
        begin = float(f.start[v, x])
        if stop.kind == StopKind.PICK:
            if begin > ride.window[1] + 1e-6:
                return False
            picked[ride.id] = begin
        else:
            since = picked.get(ride.id, ride.picked_up_s)
            if since is None or begin - since > ride.max_ride_s + 1e-6:
                return False
    return True
