"""Solving a benchmark instance end to end: file numbering in, file numbering out."""

from __future__ import annotations

from dataclasses import dataclass

from headway.optimizer.darp.cordeau import CordeauInstance, plan_to_routes, to_problem
from headway.optimizer.darp.solver import SolverOptions, solve


@dataclass(frozen=True)
class InstanceResult:
    cost: float
    feasible: bool
    routes: list[list[int]]
    iterations: int
    seconds: float


def solve_instance(instance: CordeauInstance, options: SolverOptions) -> InstanceResult:
    plan = solve(to_problem(instance), options)
    return InstanceResult(
        cost=plan.cost,
        feasible=plan.feasible,
        routes=plan_to_routes(instance, plan),
        iterations=plan.iterations,
        seconds=plan.stats.get("seconds", 0.0),
    )
