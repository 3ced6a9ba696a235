"""Dial-a-ride solver on the Cordeau (2006) benchmark, against OR-Tools in the same run.

For each instance, Headway's solver and an OR-Tools routing model (pickup and delivery
pairs, capacity, time windows, ride times and route duration as dimension constraints,
guided local search) get the same time limit, side by side in two processes, one core
each. The OR-Tools model gets the same tightened time windows as Headway's solver, ride
times as node precedences on its time dimension, and a way to leave a request out at a
huge penalty, without which its first-solution heuristics fail on most instances. Every
solution of both is checked by the independent verifier and its cost recomputed; the
gap is to the best-known cost in bks.csv. One row per instance goes to stderr; the
summary is one JSON object on the last line of stdout.

    python bench/darp.py [--time-limit 30] [--instances all|a2-16,b8-96,...] [--seed 0]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import statistics
import sys
import time
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

from headway.optimizer.darp import CordeauInstance, read_instance, verify
from headway.optimizer.darp.benchmark import solve_instance
from headway.optimizer.darp.solver import SolverOptions

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "bench-data" / "cordeau-2006-darp"
SCALE = 1000  # OR-Tools works in integers: times and distances in thousandths
UNSERVED_PENALTY = 10**9


def run_ours(path: str, time_limit: float, seed: int) -> dict[str, Any]:
    instance = read_instance(path)
    started = time.perf_counter()
    result = solve_instance(instance, SolverOptions(time_limit=time_limit, seed=seed))
    return {
        "routes": result.routes,
        "seconds": time.perf_counter() - started,
        "iterations": result.iterations,
    }


def run_ortools(path: str, time_limit: float, seed: int) -> dict[str, Any]:
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    inst = read_instance(path)
    started = time.perf_counter()
    n, nodes = inst.requests, inst.nodes
    dist = inst.distances()
    manager = pywrapcp.RoutingIndexManager(2 * n + 1, inst.vehicles, 0)  # node 0: both depots
    routing = pywrapcp.RoutingModel(manager)

    def arc_cost(i: int, j: int) -> int:
        return round(dist[manager.IndexToNode(i), manager.IndexToNode(j)] * SCALE)

    def step_time(i: int, j: int) -> int:  # rounded up: a schedule OR-Tools accepts is real
        a, b = manager.IndexToNode(i), manager.IndexToNode(j)
        return math.ceil((nodes[a].service + dist[a, b]) * SCALE)

    def demand(i: int) -> int:
        return nodes[manager.IndexToNode(i)].load

    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitCallback(arc_cost))
    horizon = math.floor(max(node.latest for node in nodes) * SCALE)
    routing.AddDimension(routing.RegisterTransitCallback(step_time), horizon, horizon, False, "T")
    clock = routing.GetDimensionOrDie("T")
    routing.AddDimensionWithVehicleCapacity(
        routing.RegisterUnaryTransitCallback(demand), 0, [inst.capacity] * inst.vehicles, True, "Q"
    )
    solver = routing.solver()
    earliest, latest = _tightened_windows(inst)
    for node in range(1, 2 * n + 1):
        clock.CumulVar(manager.NodeToIndex(node)).SetRange(*_window(earliest[node], latest[node]))
    for vehicle in range(inst.vehicles):
        start, end = nodes[0], nodes[inst.end_depot]
        clock.CumulVar(routing.Start(vehicle)).SetRange(*_window(start.earliest, start.latest))
        clock.CumulVar(routing.End(vehicle)).SetRange(*_window(end.earliest, end.latest))
        clock.SetSpanUpperBoundForVehicle(math.floor(inst.max_route_duration * SCALE), vehicle)
    for r in range(1, n + 1):
        pickup, drop = manager.NodeToIndex(r), manager.NodeToIndex(r + n)
        routing.AddPickupAndDelivery(pickup, drop)
        solver.Add(routing.VehicleVar(pickup) == routing.VehicleVar(drop))
        # ride time as node precedences on the clock, which its search filters check:
        # drop >= pickup + service + trip, and pickup >= drop - (service + max ride)
        trip = math.ceil((nodes[r].service + dist[r, r + n]) * SCALE)
        clock.AddNodePrecedence(pickup, drop, trip)
        ride = math.floor((inst.max_ride_time + nodes[r].service) * SCALE)
        clock.AddNodePrecedence(drop, pickup, -ride)
        # without a way to leave requests out, its first-solution heuristics fail on
        # most instances; the penalty is far above any route cost, and a solution that
        # still leaves a request out fails the verifier
        routing.AddDisjunction([pickup], UNSERVED_PENALTY)
        routing.AddDisjunction([drop], UNSERVED_PENALTY)
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = (
        routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    )
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    remaining = max(time_limit - (time.perf_counter() - started), 0.1)
    params.time_limit.FromMilliseconds(int(remaining * 1000))
    solution = routing.SolveWithParameters(params)
    routes: list[list[int]] = []
    if solution is not None:
        for vehicle in range(inst.vehicles):
            index = solution.Value(routing.NextVar(routing.Start(vehicle)))
            route = [0]
            while not routing.IsEnd(index):
                route.append(manager.IndexToNode(index))
                index = solution.Value(routing.NextVar(index))
            if len(route) > 1:
                routes.append([*route, inst.end_depot])
    return {
        "routes": routes,
        "seconds": time.perf_counter() - started,
        "found": solution is not None,
    }


def _tightened_windows(inst: CordeauInstance) -> tuple[list[float], list[float]]:
    """The windows every feasible schedule meets anyway (as Headway's solver also uses):
    a pickup no later than its drop-off's latest minus the trip, and so on."""
    n, dist = inst.requests, inst.distances()
    earliest = [node.earliest for node in inst.nodes]
    latest = [node.latest for node in inst.nodes]
    for r in range(1, n + 1):
        p, d, service = r, r + n, inst.nodes[r].service
        earliest[p] = max(earliest[p], earliest[d] - service - inst.max_ride_time)
        latest[p] = min(latest[p], latest[d] - service - dist[p, d])
        earliest[d] = max(earliest[d], earliest[p] + service + dist[p, d])
        latest[d] = min(latest[d], latest[p] + service + inst.max_ride_time)
    return earliest, latest


def _window(earliest: float, latest: float) -> tuple[int, int]:
    return math.ceil(earliest * SCALE - 1e-9), math.floor(latest * SCALE + 1e-9)


def judge(instance: CordeauInstance, run: dict[str, Any], bks: float) -> dict[str, Any]:
    routes = run["routes"]
    if not routes:
        return {"feasible": False, "cost": None, "gap_pct": None, "seconds": run["seconds"]}
    verdict = verify(instance, routes)
    return {
        "feasible": verdict.feasible,
        "cost": round(verdict.cost, 4),
        "gap_pct": round(100.0 * (verdict.cost / bks - 1.0), 4) if verdict.feasible else None,
        "seconds": round(run["seconds"], 2),
        "violations": [str(v) for v in verdict.violations[:3]],
    }


def summarise(rows: list[dict[str, Any]], who: str) -> dict[str, Any]:
    gaps = [row[who]["gap_pct"] for row in rows if row[who]["feasible"]]
    big = [row[who]["gap_pct"] for row in rows if row[who]["feasible"] and row["n"] >= 56]
    return {
        "feasible": len(gaps),
        "mean_gap_pct": round(statistics.fmean(gaps), 3) if gaps else None,
        "mean_gap_pct_n56": round(statistics.fmean(big), 3) if big else None,
        "max_gap_pct": round(max(gaps), 3) if gaps else None,
        "max_seconds": max(row[who]["seconds"] for row in rows),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=30.0, help="seconds per instance")
    parser.add_argument("--instances", default="all", help="'all' or names, comma-separated")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args(argv)
    with (args.data / "bks.csv").open(newline="") as handle:
        bks = {row["instance"]: float(row["bks_cost"]) for row in csv.DictReader(handle)}
    names = sorted(bks, key=lambda name: (name[0], int(name.split("-")[1]), name))
    if args.instances != "all":
        names = [name.strip() for name in args.instances.split(",") if name.strip()]
    run_ours(str(args.data / "a2-16.txt"), 1.0, 0)  # compile or load the kernels once
    load_before = os.getloadavg()[0]
    rows: list[dict[str, Any]] = []
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=2) as pool:
        jobs: list[tuple[str, Future[dict[str, Any]], Future[dict[str, Any]]]] = []
        for name in names:
            path = str(args.data / f"{name}.txt")
            ours = pool.submit(run_ours, path, args.time_limit, args.seed)
            theirs = pool.submit(run_ortools, path, args.time_limit, args.seed)
            jobs.append((name, ours, theirs))
        for name, ours, theirs in jobs:
            instance = read_instance(args.data / f"{name}.txt")
            row = {
                "instance": name,
                "n": instance.requests,
                "bks": bks[name],
                "ours": judge(instance, ours.result(), bks[name]),
                "ortools": judge(instance, theirs.result(), bks[name]),
            }
            row["ours"]["iterations"] = ours.result()["iterations"]
            rows.append(row)
            print(_row_text(row), file=sys.stderr, flush=True)
    ours_summary, ortools_summary = summarise(rows, "ours"), summarise(rows, "ortools")
    both = [r for r in rows if r["ours"]["feasible"] and r["ortools"]["feasible"]]
    summary = {
        "benchmark": "darp_cordeau2006",
        "instances": len(rows),
        "time_limit_s": args.time_limit,
        "seed": args.seed,
        "ours": ours_summary,
        "ortools": ortools_summary,
        "both_feasible": len(both),
        "mean_gap_pct_both_feasible": {
            who: round(statistics.fmean(r[who]["gap_pct"] for r in both), 3) if both else None
            for who in ("ours", "ortools")
        },
        "ours_better_than_ortools": _better(ours_summary, ortools_summary, len(rows)),
        "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "wall_s": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(summary), flush=True)
    return 0


def _better(ours: dict[str, Any], theirs: dict[str, Any], total: int) -> bool:
    if ours["feasible"] < total or ours["mean_gap_pct"] is None:
        return False
    return theirs["mean_gap_pct"] is None or (
        ours["feasible"] >= theirs["feasible"] and ours["mean_gap_pct"] < theirs["mean_gap_pct"]
    )


def _row_text(row: dict[str, Any]) -> str:
    def part(result: dict[str, Any]) -> str:
        if not result["feasible"]:
            return f"{'INFEASIBLE':>10} {'':>8}"
        return f"{result['cost']:10.2f} {result['gap_pct']:7.2f}%"

    return (
        f"{row['instance']:>7} bks {row['bks']:8.2f} | ours {part(row['ours'])} "
        f"{row['ours']['seconds']:5.1f}s {row['ours']['iterations']:>7} it "
        f"| ortools {part(row['ortools'])} {row['ortools']['seconds']:5.1f}s"
    )


if __name__ == "__main__":
    raise SystemExit(main())
