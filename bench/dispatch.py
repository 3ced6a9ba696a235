"""Live dispatch on a simulated day in the synthetic city, against a nearest-idle-vehicle
baseline run in the same process on the same requests.

The city is generate_city() with its default seed; the requests come from
headway.optimizer.dispatch.scenario (morning and evening peaks, trips weighted toward
the town centre, origins and destinations at stops; see its docstring). The fleet
starts spread over random stops with batteries between 45 % and 95 %. Both runs play the
same requests through a discrete-event simulation (dispatch.simulation) in which the
vehicles follow their plans on the router's travel times, perturbed per leg by a
log-normal factor (--noise), and lose energy by the real length they drive.

  pooled:   DispatchEngine with pooling, re-optimisation every --reoptimise-every
            seconds of simulated time (budget --reoptimise-budget), charging and
            rebalancing
  baseline: the same engine with pooling off: each ride goes alone to the idle vehicle
            that reaches the pickup first; charging on, rebalancing and re-optimisation
            off

Figures per run go to stderr; the summary is one JSON object on the last line.

    python bench/dispatch.py                        # the whole day, 1,000 vehicles
    python bench/dispatch.py --hours 6-10 --vehicles 500 --daily-requests 15000
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from typing import Any

import numpy as np

from headway.network import generate_city
from headway.network.cch_router import CCHRouter
from headway.optimizer.dispatch import (
    DispatchConfig,
    DispatchEngine,
    RouterTravelTimes,
    VehicleSnapshot,
)
from headway.optimizer.dispatch.scenario import HOUR, day_share, generate_requests
from headway.optimizer.dispatch.simulation import Outcome, Simulation

DEFAULTS = DispatchConfig()


def fleet(n: int, stop_nodes: list[int], seed: int) -> list[VehicleSnapshot]:
    rng = np.random.default_rng(seed)
    nodes = rng.choice(stop_nodes, size=n)
    socs = rng.uniform(0.45, 0.95, size=n)
    return [VehicleSnapshot(f"v{k:04d}", int(nodes[k]), 0.0, 6, float(socs[k])) for k in range(n)]


def run(
    name: str,
    config: DispatchConfig,
    args: argparse.Namespace,
    requests: list[Any],
    network: Any,
) -> tuple[Outcome, float]:
    router = CCHRouter(network)
    engine = DispatchEngine(RouterTravelTimes(router, cache_rows=1024), network, config)
    stop_nodes = sorted({s.node for s in network.stops})
    start, end = args.start_s, args.end_s
    vehicles = [
        VehicleSnapshot(v.id, v.node, start, v.seats, v.soc)
        for v in fleet(args.vehicles, stop_nodes, args.seed)
    ]
    engine.warm_up()
    sim = Simulation(
        engine,
        router,
        vehicles,
        noise=args.noise,
        seed=args.seed,
        reoptimise_every_s=args.reoptimise_every if config.pooling else 300.0,
        reoptimise_budget_s=args.reoptimise_budget if config.pooling else 0.0,
    )
    started = time.perf_counter()
    outcome = sim.run(requests, until_s=end + 2 * HOUR)
    wall = time.perf_counter() - started
    print(f"{name}: {summary(outcome, config)} wall {wall:.1f} s", file=sys.stderr)
    return outcome, wall


def summary(o: Outcome, config: DispatchConfig) -> dict[str, Any]:
    lat = np.array(o.latencies_s) * 1000.0
    cpu = np.array(o.cpu_s) * 1000.0
    waits = np.array(o.waits_s)
    return {
        "requests": o.requests,
        "service_rate": round(o.offered / max(o.requests, 1), 4),
        "completed": o.completed,
        "refusals": o.refusals,
        "wait_mean_s": round(float(waits.mean()), 1) if len(waits) else None,
        "wait_p95_s": round(float(np.percentile(waits, 95)), 1) if len(waits) else None,
        "pickups_in_promised_window": round(o.on_time / max(len(waits), 1), 4),
        "rides_within_limit": round(1 - o.late_dropoffs / max(o.completed, 1), 4),
        "detour_mean": round(statistics.fmean(o.detours), 3) if o.detours else None,
        "empty_km_share": round(o.km_empty / max(o.km_total, 1e-9), 4),
        "vehicle_km": round(o.km_total, 1),
        "vehicle_km_per_passenger": round(o.km_total / max(o.passengers, 1), 3),
        "latency_p50_ms": round(float(np.percentile(lat, 50)), 2) if len(lat) else None,
        "latency_p99_ms": round(float(np.percentile(lat, 99)), 2) if len(lat) else None,
        "latency_max_ms": round(float(lat.max()), 2) if len(lat) else None,
        "cpu_p50_ms": round(float(np.percentile(cpu, 50)), 2) if len(cpu) else None,
        "cpu_p99_ms": round(float(np.percentile(cpu, 99)), 2) if len(cpu) else None,
        "min_soc": round(o.min_soc, 4),
        "battery_ok": bool(o.min_soc >= config.reserve_soc),
        "charge_sessions": o.charge_sessions,
        "chargers_ok": o.charger_over == 0,
        "rebalancing_moves": o.rebalancing_moves,
        "reoptimise_s": round(o.reoptimise_s, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vehicles", type=int, default=1000)
    parser.add_argument("--daily-requests", type=float, default=40000.0)
    parser.add_argument("--hours", default="5-24", help="simulated window, e.g. 6-10")
    parser.add_argument("--noise", type=float, default=0.1, help="sigma of log travel time")
    parser.add_argument("--reoptimise-every", type=float, default=60.0)
    parser.add_argument("--reoptimise-budget", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--wait-weight", type=float, default=DEFAULTS.wait_weight)
    parser.add_argument("--ride-weight", type=float, default=DEFAULTS.ride_weight)
    parser.add_argument("--no-rebalancing", action="store_true")
    parser.add_argument(
        "--neighbourhood",
        type=int,
        default=DEFAULTS.neighbourhood_vehicles,
        help="vehicles re-planned together by the solver (0: relocation only)",
    )
    args = parser.parse_args(argv)
    first, last = (float(h) for h in args.hours.split("-"))
    args.start_s, args.end_s = first * HOUR, last * HOUR
    load_before = os.getloadavg()[0]
    started, cpu_started = time.perf_counter(), time.process_time()
    network = generate_city()
    requests = generate_requests(
        network, args.daily_requests, args.start_s, args.end_s, seed=args.seed
    )
    print(
        f"{len(requests)} requests from {first:g}:00 to {last:g}:00 "
        f"({day_share(args.start_s, args.end_s):.0%} of a day of {args.daily_requests:g}), "
        f"{args.vehicles} vehicles",
        file=sys.stderr,
    )
    pooled_config = DispatchConfig(
        wait_weight=args.wait_weight,
        ride_weight=args.ride_weight,
        rebalance=not args.no_rebalancing,
        neighbourhood_vehicles=args.neighbourhood,
    )
    pooled, pooled_wall = run("pooled", pooled_config, args, requests, network)
    result: dict[str, Any] = {
        "benchmark": "dispatch",
        "city": "generate_city() default seed",
        "vehicles": args.vehicles,
        "hours": [first, last],
        "daily_requests": args.daily_requests,
        "requests": len(requests),
        "noise": args.noise,
        "config": {
            "wait_weight": args.wait_weight,
            "ride_weight": args.ride_weight,
            "rebalancing": not args.no_rebalancing,
            "neighbourhood_vehicles": args.neighbourhood,
            "reoptimise_every_s": args.reoptimise_every,
            "reoptimise_budget_s": args.reoptimise_budget,
        },
        "pooled": summary(pooled, pooled_config),
    }
    if not args.no_baseline:
        base_config = DispatchConfig(pooling=False, rebalance=False)
        baseline, _ = run("baseline", base_config, args, requests, network)
        result["baseline"] = summary(baseline, base_config)
    result["battery_never_below_reserve"] = bool(
        result["pooled"]["battery_ok"] and result.get("baseline", {}).get("battery_ok", True)
    )
    result["load_average_1min"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    result["wall_s"] = round(time.perf_counter() - started, 1)
    result["cpu_s"] = round(time.process_time() - cpu_started, 1)
    result["pooled_wall_s"] = round(pooled_wall, 1)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
