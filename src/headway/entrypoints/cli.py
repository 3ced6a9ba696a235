"""The ``headway`` command. Each subcommand lives in its own module, which exposes
``register(subparsers)`` and sets ``handler(args, settings) -> exit code``; add a new
one to COMMANDS. Command modules import their heavy dependencies inside the handler,
so ``headway --help`` stays fast."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Sequence
from types import ModuleType

from headway.config import Settings
from headway.entrypoints import darp_cli, demo_cli, gtfs_cli, network_cli, route_cli, run_cli

COMMANDS: tuple[ModuleType, ...] = (demo_cli, run_cli, network_cli, route_cli, darp_cli, gtfs_cli)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="headway", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for module in COMMANDS:
        module.register(commands)
    commands.add_parser(
        "sim", help="run a simulated fleet against an MQTT broker (see 'headway sim --help')"
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
        code: int = args.handler(args, settings)
        return code
    return 130


if __name__ == "__main__":
    raise SystemExit(main())
