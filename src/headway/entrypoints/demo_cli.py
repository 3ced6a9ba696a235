"""``headway demo``: the whole system in one process on embedded defaults."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from headway.config import Settings
from headway.entrypoints.arguments import positive_float, positive_int


def register(commands: Any) -> None:
    demo = commands.add_parser("demo", help="run the whole system in one process")
    demo.add_argument("--vehicles", type=positive_int, default=200)
    demo.add_argument(
        "--speedup",
        type=positive_float,
        default=5.0,
        help="simulated seconds per wall-clock second",
    )
    demo.add_argument("--port", type=int, default=8000, help="HTTP port of the API and map")
    demo.add_argument("--seed", type=int, default=7, help="seed of the city and the fleet")
    demo.add_argument("--headless", action="store_true", help="no web server; report and exit")
    demo.add_argument(
        "--duration", type=positive_float, default=None, help="seconds to run (headless default 30)"
    )
    demo.add_argument("--json", action="store_true", help="print the report as one JSON line")
    demo.add_argument(
        "--visualization-interval",
        type=float,
        default=0.0,
        help="seconds between visualization messages per vehicle (0: none)",
    )
    demo.add_argument(
        "--osm",
        metavar="FILE",
        default=None,
        help="run on this OpenStreetMap file (.osm.pbf, .osm, .osm.gz) or network file (.npz)",
    )
    demo.add_argument(
        "--rides-per-hour",
        type=float,
        default=600.0,
        help="simulated passengers' on-demand ride requests per simulated hour (0: none)",
    )
    demo.add_argument(
        "--fixed-route-vehicles",
        type=int,
        default=None,
        metavar="N",
        help="vehicles driving the fixed routes' blocks (default 15%% of the fleet; 0: none)",
    )
    demo.add_argument(
        "--gtfs",
        metavar="FILE",
        default=None,
        help="run this GTFS feed's trips (with --osm) instead of the synthetic city's lines",
    )
    demo.add_argument(
        "--no-holds",
        action="store_true",
        help="never hold fixed-route vehicles (to compare headways with and without)",
    )
    demo.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from headway.entrypoints.demo import DemoOptions, run_headless, run_interactive

    options = DemoOptions(
        vehicles=args.vehicles,
        speedup=args.speedup,
        port=args.port,
        seed=args.seed,
        headless=args.headless,
        duration_s=args.duration,
        visualization_interval_s=args.visualization_interval,
        osm=args.osm,
        ride_requests_per_hour=max(0.0, args.rides_per_hour),
        fixed_route_vehicles=None
        if args.fixed_route_vehicles is None
        else max(0, args.fixed_route_vehicles),
        gtfs=args.gtfs,
        holds=not args.no_holds,
    )
    from headway.domain.transit import TransitError
    from headway.network.errors import NetworkError

    try:
        if not args.headless:
            asyncio.run(run_interactive(options, settings))
            return 0
        report = asyncio.run(run_headless(options, settings))
    except (NetworkError, TransitError) as exc:  # a bad --osm or --gtfs file: say why
        print(f"headway: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report), flush=True)
    else:
        for key, value in report.items():
            print(f"{key:>28}: {value}")
    return 0
