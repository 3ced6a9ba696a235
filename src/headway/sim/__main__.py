"""``python -m headway.sim``: the simulated fleet on the default city, against a broker."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys

from headway.network.city import CityParams, generate_city
from headway.sim.config import SimConfig
from headway.sim.errors import LinkError
from headway.sim.fleet import run_sim


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m headway.sim", description=__doc__)
    parser.add_argument("--vehicles", type=int, default=50)
    parser.add_argument("--speedup", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--mqtt-host", default="127.0.0.1")
    parser.add_argument("--mqtt-port", type=int, default=1883)
    parser.add_argument("--mqtt-username", default=None)
    parser.add_argument(
        "--mqtt-password-env",
        default="HEADWAY_SIM_MQTT_PASSWORD",
        help="environment variable holding the MQTT password (never on the command line)",
    )
    parser.add_argument("--manufacturer", default="headway-sim")
    parser.add_argument("--state-interval", type=float, default=1.0)
    parser.add_argument("--visualization-interval", type=float, default=0.0)
    parser.add_argument(
        "--tick", type=float, default=0.2, help="wall seconds between fleet updates"
    )
    parser.add_argument("--no-faults", action="store_true")
    parser.add_argument("--duration", type=float, default=None, help="wall seconds")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        config = SimConfig(
            vehicles=args.vehicles,
            speedup=args.speedup,
            seed=args.seed,
            mqtt_host=args.mqtt_host,
            mqtt_port=args.mqtt_port,
            state_interval_s=args.state_interval,
            visualization_interval_s=args.visualization_interval,
            faults=not args.no_faults,
            tick_s=args.tick,
            manufacturer=args.manufacturer,
            mqtt_login=(
                (args.mqtt_username, os.environ.get(args.mqtt_password_env, ""))
                if args.mqtt_username
                else None
            ),
        )
    except ValueError as exc:
        parser.error(str(exc))
    network = generate_city(CityParams(seed=args.seed))
    try:
        stats = asyncio.run(run_sim(network, config, args.duration))
    except LinkError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps({"published": stats.published, "faults": stats.faults}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
