"""The solver: feasible plans by the independent verifier, determinism, and the parts
of the model the live dispatcher needs (riders on board, pinned requests, no room)."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import numpy as np
import pytest

from headway.optimizer.darp import (
    CordeauInstance,
    InvalidProblemError,
    Plan,
    Problem,
    Request,
    Stop,
    Vehicle,
    plan_to_routes,
    read_instance,
    to_problem,
    verify,
)
from headway.optimizer.darp.arrays import build_arrays
from headway.optimizer.darp.routes import schedule_ok
from headway.optimizer.darp.solver import SolverOptions, solve
from headway.optimizer.darp.verify_schedule import RouteData, exact_schedule

QUICK = SolverOptions(time_limit=60.0, iterations=300, seed=3)


@pytest.mark.parametrize("name", ["a2-16", "b2-20", "a4-24", "b3-18"])
def test_small_instances_get_verified_feasible_plans(data_dir: Path, name: str) -> None:
    instance = read_instance(data_dir / f"{name}.txt")
    plan = solve(to_problem(instance), QUICK)
    assert plan.feasible
    assert plan.iterations == QUICK.iterations
    verdict = verify(instance, plan_to_routes(instance, plan))
    assert verdict.feasible, [str(v) for v in verdict.violations]
    assert verdict.cost == pytest.approx(plan.cost, rel=1e-9)


def test_same_seed_same_plan_and_more_iterations_never_worse(a2_16: CordeauInstance) -> None:
    problem = to_problem(a2_16)
    first = solve(problem, SolverOptions(time_limit=60.0, iterations=200, seed=7))
    again = solve(problem, SolverOptions(time_limit=60.0, iterations=200, seed=7))
    longer = solve(problem, SolverOptions(time_limit=60.0, iterations=400, seed=7))
    assert first.routes == again.routes
    assert first.cost == again.cost
    assert longer.cost <= first.cost + 1e-9


def test_the_solver_and_the_verifier_agree_on_which_route_orders_have_a_schedule(
    a2_16: CordeauInstance,
) -> None:
    """Two independent exact tests (the solver's and the verifier's) on random orders."""
    a = build_arrays(to_problem(a2_16))
    n = a2_16.requests
    rng = random.Random(11)
    agreed = feasible = 0
    for _ in range(400):
        picked = rng.sample(range(1, n + 1), rng.randint(1, 5))
        order: list[int] = []
        for r in picked:  # each drop-off a random few steps after its pickup
            at = rng.randint(0, len(order))
            order.insert(at, r)
            order.insert(rng.randint(at + 1, min(len(order), at + 3)), r + n)
        # file node v (pickup v or drop-off v - n) is the solver's node v - 1
        seq = np.array([a.veh_start[0], *(v - 1 for v in order), a.veh_end[0]], dtype=np.int64)
        times = np.zeros(len(seq))
        where = np.zeros(a.tt.shape[0], dtype=np.int64)
        ours = schedule_ok(a, seq, len(seq), 0, times, where)
        theirs = exact_schedule(_route_data(a2_16, [0, *order, a2_16.end_depot])) is not None
        agreed += ours == theirs
        feasible += theirs
    assert agreed == 400
    assert 20 < feasible < 380  # the sample holds both kinds


def _route_data(instance: CordeauInstance, full: list[int]) -> RouteData:
    dist = instance.distances()
    n = instance.requests
    where = {node: x for x, node in enumerate(full)}
    return RouteData(
        earliest=[instance.nodes[v].earliest for v in full],
        latest=[instance.nodes[v].latest for v in full],
        service=[instance.nodes[v].service for v in full],
        travel=[float(dist[u, v]) for u, v in itertools.pairwise(full)],
        pairs=[(where[v], where[v + n]) for v in full if 1 <= v <= n],
        max_ride=instance.max_ride_time,
        max_duration=instance.max_route_duration,
    )


def _line_problem(requests: list[Request], vehicles: list[Vehicle]) -> Problem:
    places = np.arange(6, dtype=np.float64)
    return Problem(requests, vehicles, np.abs(places[:, None] - places[None, :]))


def test_a_rider_on_board_is_dropped_by_their_vehicle_within_their_ride_time() -> None:
    vehicles = [Vehicle(start=2, end=0, capacity=2, start_window=(10, 10)), Vehicle(0, 0, 2)]
    on_board = Request(pickup=1, dropoff=5, max_ride_time=8, vehicle=0, picked_up_at=5)
    waiting = Request(pickup=4, dropoff=3, pickup_window=(0, 30))
    plan = solve(_line_problem([on_board, waiting], vehicles), QUICK)
    assert plan.feasible
    stops = {(stop.request, stop.pickup): stop.time for stop in plan.routes[0]}
    assert (0, True) not in stops
    assert stops[(0, False)] <= 5 + 8 + 1e-9
    assert plan.cost == pytest.approx(3 + 5)  # 2 -> 4 -> 5 -> 3 -> 0 is the one cheap order


def test_a_pinned_request_rides_its_vehicle_and_an_impossible_one_is_left_out() -> None:
    vehicles = [Vehicle(0, 0, 1), Vehicle(0, 0, 1)]
    pinned = Request(pickup=1, dropoff=2, vehicle=1)
    too_far = Request(pickup=1, dropoff=5, max_ride_time=2)
    too_big = Request(pickup=3, dropoff=4, load=2)
    plan = solve(_line_problem([pinned, too_far, too_big], vehicles), QUICK)
    assert plan.unassigned == (1, 2)
    assert not plan.feasible
    assert [stop.request for stop in plan.routes[1]] == [0, 0]
    assert not plan.routes[0]


def test_a_travel_time_function_builds_the_matrix() -> None:
    problem = Problem.from_function(
        [Request(1, 2)], [Vehicle(0, 0, 1)], 3, lambda a, b: float(abs(a - b))
    )
    assert problem.travel_time[0, 2] == 2.0
    assert solve(problem, QUICK).cost == pytest.approx(4.0)


def test_a_warm_start_keeps_the_plan_it_is_given(a2_16: CordeauInstance) -> None:
    problem = to_problem(a2_16)
    plan = solve(problem, SolverOptions(time_limit=60.0, iterations=300, seed=1))
    again = solve(problem, SolverOptions(time_limit=60.0, iterations=1, seed=2), start=plan)
    assert again.feasible
    assert again.cost <= plan.cost + 1e-9


def test_a_start_plan_for_other_requests_is_refused(a2_16: CordeauInstance) -> None:
    problem = to_problem(a2_16)
    wrong = Plan(routes=((Stop(99, True, 0.0),), ()), unassigned=(), cost=0.0)
    with pytest.raises(InvalidProblemError, match="unknown request 99"):
        solve(problem, QUICK, start=wrong)
