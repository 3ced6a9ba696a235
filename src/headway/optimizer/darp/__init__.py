"""Dial-a-ride: plan vehicle routes that pick up and drop off riders within their time
windows and ride-time limits (see docs/darp.md).

This module exports the model, the benchmark reader and the independent verifier, which
load quickly. The solver compiles its kernels with numba; import it from
``headway.optimizer.darp.solver`` (or ``.benchmark`` for instance files).
"""

from headway.optimizer.darp.cordeau import (
    CordeauInstance,
    parse_instance,
    plan_to_routes,
    read_instance,
    to_problem,
)
from headway.optimizer.darp.errors import (
    DarpError,
    InvalidInstanceError,
    InvalidProblemError,
    InvalidSolutionError,
)
from headway.optimizer.darp.model import Plan, Problem, Request, Stop, Vehicle
from headway.optimizer.darp.solution_file import read_routes
from headway.optimizer.darp.verify import Verdict, Violation, verify

__all__ = [
    "CordeauInstance",
    "DarpError",
    "InvalidInstanceError",
    "InvalidProblemError",
    "InvalidSolutionError",
    "Plan",
    "Problem",
    "Request",
    "Stop",
    "Vehicle",
    "Verdict",
    "Violation",
    "parse_instance",
    "plan_to_routes",
    "read_instance",
    "read_routes",
    "to_problem",
    "verify",
]
