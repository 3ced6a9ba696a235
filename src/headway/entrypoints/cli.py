"""The ``headway`` command: run the demo, the simulator, and (later) each process."""

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

    commands.add_parser(
        "sim",
        help="run a simulated fleet against an MQTT broker (see 'headway sim --help')",
        add_help=False,
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["sim"]:
        # The simulator is a separate client with its own options and parser.
        from headway.sim.__main__ import main as sim_main

        return sim_main(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        settings = Settings()
    except ValueError as exc:
        print(f"headway: bad settings: {exc}", file=sys.stderr)
        return 2
    with contextlib.suppress(KeyboardInterrupt):
        if args.command == "demo":
            return _demo(args, settings)
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


if __name__ == "__main__":
    raise SystemExit(main())
