"""Solve a dial-a-ride problem: construct, then improve by adaptive large neighbourhood
search until the time limit or the iteration budget runs out.

The search runs in compiled blocks of iterations; between blocks this module only
reads the clock and sizes the next block so that the run ends before the deadline.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from headway.optimizer.darp.arrays import Arrays, build_arrays
from headway.optimizer.darp.errors import InvalidProblemError
from headway.optimizer.darp.insertion import Scratch, new_scratch
from headway.optimizer.darp.model import Plan, Problem, Stop
from headway.optimizer.darp.repair import repair
from headway.optimizer.darp.rng import new_state
from headway.optimizer.darp.routes import (
    Routes,
    copy_routes,
    new_routes,
    refresh,
    route_times,
    schedule_ok,
    total_cost,
    unassigned_count,
)
from headway.optimizer.darp.search import Tuning, new_control, pending_requests, run, value_of

BLOCK_TARGET_S = 0.05  # wall time of one compiled block of iterations


@dataclass(frozen=True)
class SolverOptions:
    time_limit: float = 10.0  # seconds, from the call to solve(), compilation included
    seed: int = 0
    iterations: int | None = None  # stop after this many iterations, if sooner
    tuning: Tuning = field(default_factory=Tuning)


def solve(
    problem: Problem, options: SolverOptions | None = None, start: Plan | None = None
) -> Plan:
    """The best plan found. Same problem, seed and iteration count: same plan.

    ``start`` warm-starts the search from a previous plan of the same requests and
    vehicles (the dispatcher re-planning after a change): its routes that are still
    feasible are kept, and every other request is inserted anew.
    """
    options = options or SolverOptions()
    started = time.perf_counter()
    # stop a little early: the last block's length is an estimate, and the plan is built after
    deadline = started + options.time_limit - min(0.1, 0.05 * options.time_limit)
    a = build_arrays(problem)
    cur = new_routes(a)
    w = new_scratch(a)
    if start is not None:
        _adopt(a, cur, w, start)
    n = pending_requests(a, cur, w)
    left = repair(a, cur, w, w.pending, n, a.n_veh, 0.0, new_state(options.seed))
    control = new_control(a, options.seed, value_of(a, cur, left), total_cost(cur), options.tuning)
    best, cand = copy_routes(cur), copy_routes(cur)
    run(a, cur, cand, best, w, control, 0)  # load (or compile) the kernels before timing them
    budget = options.iterations if options.iterations is not None else 2**62
    done, block, per_iteration = 0, 1, 0.0
    while done < budget:
        now = time.perf_counter()
        if per_iteration > 0:
            room = (deadline - now) / per_iteration
            block = int(min(BLOCK_TARGET_S / per_iteration, room * 0.9))
        block = min(max(block, 1), budget - done)
        if now + block * per_iteration >= deadline:
            break
        run(a, cur, cand, best, w, control, block)
        elapsed = time.perf_counter() - now
        done += block
        per_iteration = max(elapsed / block, 1e-7)
    return _plan(a, best, done, time.perf_counter() - started)


def _adopt(a: Arrays, s: Routes, w: Scratch, plan: Plan) -> None:
    """Take over the routes of ``plan`` that still have a feasible schedule."""
    if len(plan.routes) != a.n_veh:
        raise InvalidProblemError(f"the start plan has {len(plan.routes)} routes, not {a.n_veh}")
    seen: set[int] = set()
    for k, stops in enumerate(plan.routes):
        nodes = [int(a.veh_start[k])]
        for stop in stops:
            if not 0 <= stop.request < a.n_req:
                raise InvalidProblemError(f"the start plan visits unknown request {stop.request}")
            node = stop.request if stop.pickup else a.n_req + stop.request
            if node in seen or (stop.pickup and a.req_pick[stop.request] < 0):
                raise InvalidProblemError(f"the start plan visits request {stop.request} twice")
            seen.add(node)
            nodes.append(node)
        nodes.append(int(a.veh_end[k]))
        seq = np.array(nodes, dtype=np.int64)
        if _whole_requests(a, k, nodes) and schedule_ok(a, seq, len(seq), k, w.times, w.where):
            s.seq[k, : len(seq)] = seq
            s.size[k] = len(seq)
            refresh(a, s, k)


def _whole_requests(a: Arrays, k: int, nodes: list[int]) -> bool:
    """Each request's pickup (if it has one to plan) comes before its drop-off, and a
    request pinned to a vehicle rides that one."""
    at = {node: x for x, node in enumerate(nodes)}
    for node in nodes[1:-1]:
        request = node if node < a.n_req else node - a.n_req
        pick, drop = int(a.req_pick[request]), int(a.req_drop[request])
        if drop not in at or (pick >= 0 and (pick not in at or at[pick] > at[drop])):
            return False
        if a.req_vehicle[request] not in (-1, k):
            return False
    return True


def _plan(a: Arrays, s: Routes, iterations: int, seconds: float) -> Plan:
    routes = []
    for k in range(a.n_veh):
        times = route_times(a, s, k)
        if times is None:  # never expected: every route was built by exact insertions
            raise AssertionError(f"route {k} has no feasible schedule")
        stops = []
        for x in range(1, int(s.size[k]) - 1):
            node = int(s.seq[k, x])
            pickup = node < a.n_req
            request = node if pickup else node - a.n_req
            stops.append(Stop(request, pickup, float(times[x])))
        routes.append(tuple(stops))
    unassigned = tuple(r for r in range(a.n_req) if s.route_of[a.req_drop[r]] < 0)
    assert len(unassigned) == unassigned_count(a, s)
    return Plan(
        routes=tuple(routes),
        unassigned=unassigned,
        cost=float(s.cost.sum()),
        iterations=iterations,
        stats={"seconds": seconds, "iterations": float(iterations)},
    )
