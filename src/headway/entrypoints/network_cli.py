"""``headway network``: import an OSM map into a network file, describe one, or write
the synthetic city to one."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from headway.config import Settings


def register(commands: Any) -> None:
    network = commands.add_parser("network", help="import, describe and write road networks")
    actions = network.add_subparsers(dest="network_command", required=True)

    imp = actions.add_parser(
        "import", help="import an OpenStreetMap file (.osm.pbf, .osm, .osm.gz) into a network"
    )
    imp.add_argument("file", help="the OpenStreetMap file")
    imp.add_argument("--out", required=True, help="network file to write (.npz)")
    imp.add_argument("--map-id", default=None, help="name of the map frame (default: file name)")
    imp.add_argument(
        "--no-places", action="store_true", help="do not derive stops, depots and chargers"
    )
    imp.add_argument("--json", action="store_true", help="print the report as one JSON line")
    imp.set_defaults(handler=run_import)

    stats = actions.add_parser("stats", help="describe a network file")
    stats.add_argument("file", help="the network file (.npz)")
    stats.add_argument("--json", action="store_true", help="print one JSON line")
    stats.set_defaults(handler=run_stats)

    synth = actions.add_parser("synth", help="write the synthetic city to a network file")
    synth.add_argument("--out", required=True, help="network file to write (.npz)")
    synth.add_argument("--seed", type=int, default=7, help="seed of the city")
    synth.set_defaults(handler=run_synth)


def run_import(args: argparse.Namespace, settings: Settings) -> int:
    from headway.network.errors import NetworkError
    from headway.network.osm_import import import_osm

    try:
        network, report = import_osm(args.file, map_id=args.map_id, with_places=not args.no_places)
        written = network.save(args.out, meta={"import": report.as_dict()})
    except (NetworkError, OSError) as exc:
        return _fail(exc)
    figures = {**report.as_dict(), "out": str(written)}
    _print(figures, args.json)
    return 0


def run_stats(args: argparse.Namespace, settings: Settings) -> int:
    from headway.network.errors import NetworkError
    from headway.network.graph import RoadNetwork
    from headway.network.storage import read_header

    try:
        header = read_header(args.file)
        network = RoadNetwork.load(args.file)
    except (NetworkError, OSError) as exc:
        return _fail(exc)
    imported = header.get("meta", {}).get("import", {})
    figures: dict[str, object] = {
        "file": args.file,
        "version": header["version"],
        "map_id": network.frame.map_id,
        "origin": [network.frame.origin_lat, network.frame.origin_lon],
        "nodes": network.n_nodes,
        "edges": network.n_edges,
        "km_of_road": round(network.road_km, 3),
        "km_of_lanes_directed": round(float(network.edge_length_m.sum()) / 1000.0, 3),
        "share_kept": imported.get("share_kept", 1.0),
        "stops": len(network.stops),
        "depots": len(network.depots),
        "chargers": len(network.chargers),
        "source": imported.get("source", "synthetic"),
    }
    _print(figures, args.json)
    return 0


def run_synth(args: argparse.Namespace, settings: Settings) -> int:
    from headway.network.city import CityParams, generate_city

    try:
        written = generate_city(CityParams(seed=args.seed)).save(
            args.out, meta={"synthetic": {"seed": args.seed}}
        )
    except OSError as exc:
        return _fail(exc)
    print(written)
    return 0


def _print(figures: dict[str, object], as_json: bool) -> None:
    if as_json:
        print(json.dumps(figures), flush=True)
        return
    for key, value in figures.items():
        print(f"{key:>22}: {value}")


def _fail(exc: Exception) -> int:
    print(f"headway: {exc}", file=sys.stderr)
    return 2
