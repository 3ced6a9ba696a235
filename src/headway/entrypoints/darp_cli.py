"""``headway darp``: solve a static dial-a-ride instance (Cordeau format), or check a
solution of one independently of the solver.

    headway darp solve FILE [--time-limit S] [--seed N] [--iterations N] [--json]
    headway darp verify FILE SOLUTION [--json]

``solve --json`` prints one JSON object as its last line: instance, cost, feasible and
routes (node ids in the file's numbering, depots included). ``verify`` reads such an
object (or a bare list of routes) and exits 0 if the solution is feasible, 1 if not, 2
when a file cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from headway.config import Settings
from headway.entrypoints.arguments import positive_float, positive_int

BAD_INPUT = 2


def register(commands: Any) -> None:
    darp = commands.add_parser("darp", help="solve or verify a dial-a-ride benchmark instance")
    actions = darp.add_subparsers(dest="darp_command", required=True)
    solve = actions.add_parser("solve", help="plan routes for a Cordeau-format instance")
    solve.add_argument("file", type=Path, help="instance file (Cordeau 2006 format)")
    solve.add_argument("--time-limit", type=positive_float, default=10.0, help="seconds")
    solve.add_argument("--seed", type=int, default=0, help="seed of the search")
    solve.add_argument("--iterations", type=positive_int, default=None, help="iteration budget")
    solve.add_argument("--json", action="store_true", help="print the result as one JSON line")
    solve.set_defaults(handler=run_solve)
    verify = actions.add_parser("verify", help="check a solution against an instance")
    verify.add_argument("file", type=Path, help="instance file (Cordeau 2006 format)")
    verify.add_argument("solution", type=Path, help="JSON from 'darp solve --json', or routes")
    verify.add_argument("--json", action="store_true", help="print the verdict as one JSON line")
    verify.set_defaults(handler=run_verify)


def run_solve(args: argparse.Namespace, settings: Settings) -> int:
    from headway.optimizer.darp import DarpError, read_instance
    from headway.optimizer.darp.benchmark import solve_instance
    from headway.optimizer.darp.solver import SolverOptions

    try:
        instance = read_instance(args.file)
    except DarpError as exc:
        return _bad_input(exc)
    options = SolverOptions(time_limit=args.time_limit, seed=args.seed, iterations=args.iterations)
    result = solve_instance(instance, options)
    if not args.json:
        print(f"instance {instance.name}: cost {result.cost:.2f}, feasible {result.feasible}")
        for index, route in enumerate(result.routes):
            print(f"  route {index}: {' '.join(str(node) for node in route)}")
        print(f"  {result.iterations} iterations in {result.seconds:.1f} s")
        return 0
    record = {
        "instance": instance.name,
        "cost": round(result.cost, 6),
        "feasible": result.feasible,
        "routes": result.routes,
    }
    print(json.dumps(record), flush=True)
    return 0


def run_verify(args: argparse.Namespace, settings: Settings) -> int:
    from headway.optimizer.darp import DarpError, read_instance, read_routes, verify

    try:
        instance = read_instance(args.file)
        routes, claimed = read_routes(args.solution)
    except DarpError as exc:
        return _bad_input(exc)
    verdict = verify(instance, routes)
    matches = claimed is None or abs(claimed - verdict.cost) <= 1e-4 * max(1.0, verdict.cost)
    for violation in verdict.violations:
        print(violation)
    if not matches:
        print(f"cost: the solution claims {claimed}, the routes cost {verdict.cost:.6f}")
    status = (
        "feasible" if verdict.feasible else f"infeasible ({len(verdict.violations)} violations)"
    )
    if args.json:
        record = {
            "instance": instance.name,
            "feasible": verdict.feasible,
            "cost": round(verdict.cost, 6),
            "claimed_cost_matches": matches,
            "violations": [str(violation) for violation in verdict.violations],
        }
        print(json.dumps(record), flush=True)
    else:
        print(f"{instance.name}: {status}, cost {verdict.cost:.2f}")
    return 0 if verdict.feasible else 1


def _bad_input(exc: Exception) -> int:
    print(f"headway darp: {exc}", file=sys.stderr)
    return BAD_INPUT
