"""The ``headway`` command."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from collections.abc import Sequence

from headway.config import Settings


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be above 0, not {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="headway", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="run the whole system in one process")
    demo.add_argument("--vehicles", type=_positive_int, default=200)
    demo.add_argument(
        "--speedup",
        type=_positive_float,
        default=5.0,
        help="simulated seconds per wall-clock second",
    )
    demo.add_argument("--port", type=int, default=8000, help="HTTP port of the API and map")
    demo.add_argument("--seed", type=int, default=7, help="seed of the city and the fleet")
    demo.add_argument("--headless", action="store_true", help="no web server; report and exit")
    demo.add_argument(
        "--duration",
        type=_positive_float,
        default=None,
        help="seconds to run (headless default 30)",
    )
    demo.add_argument("--json", action="store_true", help="print the report as one JSON line")
    demo.add_argument(
        "--visualization-interval",
        type=float,
        default=0.0,
        help="seconds between visualization messages per vehicle (0: none)",
    )

    sim = commands.add_parser("sim", help="run a simulated fleet against an MQTT broker")
    sim.add_argument("--vehicles", type=_positive_int, default=50)
    sim.add_argument("--speedup", type=_positive_float, default=1.0)
    sim.add_argument("--seed", type=int, default=7)
    sim.add_argument("--mqtt-host", default="127.0.0.1")
    sim.add_argument("--mqtt-port", type=int, default=1883)
    sim.add_argument("--duration", type=_positive_float, default=None)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings()
    except ValueError as exc:
        print(f"headway: bad settings: {exc}", file=sys.stderr)
        return 2
    with contextlib.suppress(KeyboardInterrupt):
        if args.command == "demo":
            return _demo(args, settings)
        if args.command == "sim":
            return _sim(args)
    return 0


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from headway.entrypoints.demo import DemoOptions, run_headless, run_interactive

    options = DemoOptions(
        vehicles=args.vehicles,
        speedup=args.speedup,
        port=args.port,
        seed=args.seed,
        headless=args.headless,
        duration_s=args.duration,
        visualization_interval_s=args.visualization_interval,
    )
    if not args.headless:
        asyncio.run(run_interactive(options, settings))
        return 0
    report = asyncio.run(run_headless(options, settings))
    if args.json:
        print(json.dumps(report), flush=True)
    else:
        for key, value in report.items():
            print(f"{key:>28}: {value}")
    return 0


def _sim(args: argparse.Namespace) -> int:
    from headway.network.city import CityParams, generate_city
    from headway.sim.fleet import SimConfig, run_sim

    network = generate_city(CityParams(seed=args.seed))
    config = SimConfig(
        vehicles=args.vehicles,
        speedup=args.speedup,
        seed=args.seed,
        mqtt_host=args.mqtt_host,
        mqtt_port=args.mqtt_port,
    )
    stats = asyncio.run(run_sim(network, config, args.duration))
    print(json.dumps({"published": stats.published}) if hasattr(stats, "published") else stats)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
