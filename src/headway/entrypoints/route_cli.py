"""``headway route``: the fastest route between two WGS84 points on a network file."""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

from headway.config import Settings

MAX_SNAP_M = 500.0


def lat_lon(text: str) -> tuple[float, float]:
    """ "LAT,LON" in degrees."""
    try:
        lat_text, lon_text = text.split(",")
        lat, lon = float(lat_text), float(lon_text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected LAT,LON in degrees, e.g. 49.4094,8.6937; got {text!r}"
        ) from None
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        raise argparse.ArgumentTypeError(f"{text!r} is not a latitude,longitude pair")
    return lat, lon


def register(commands: Any) -> None:
    route = commands.add_parser("route", help="fastest route between two points on a network")
    route.add_argument("--network", required=True, help="network file (.npz)")
    route.add_argument("--from", dest="origin", type=lat_lon, required=True, help="LAT,LON")
    route.add_argument("--to", dest="target", type=lat_lon, required=True, help="LAT,LON")
    route.add_argument(
        "--engine", choices=("cch", "dijkstra"), default="cch", help="routing engine"
    )
    route.add_argument(
        "--max-snap",
        type=float,
        default=MAX_SNAP_M,
        help="metres a point may be from the nearest road",
    )
    route.add_argument("--json", action="store_true", help="print one JSON line")
    route.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from headway.network.cch_router import CCHRouter
    from headway.network.errors import NetworkError
    from headway.network.graph import RoadNetwork
    from headway.network.routing import DijkstraRouter, Router, road_node_near, route_geometry

    try:
        network = RoadNetwork.load(args.network)
        frame = network.frame
        a = road_node_near(network, *frame.from_wgs84(*args.origin), max_snap_m=args.max_snap)
        b = road_node_near(network, *frame.from_wgs84(*args.target), max_snap_m=args.max_snap)
        router: Router = CCHRouter(network) if args.engine == "cch" else DijkstraRouter(network)
        route = router.route(a, b)
    except (NetworkError, OSError) as exc:
        print(f"headway: {exc}", file=sys.stderr)
        return 2
    if route is None:
        print("headway: no route between these points", file=sys.stderr)
        return 1
    latlon = frame.to_wgs84_many(route_geometry(network, route))
    result = {
        "map_id": frame.map_id,
        "engine": args.engine,
        "from_node": a,
        "to_node": b,
        "time_s": round(route.time_s, 3),
        "distance_m": round(route.length_m, 1),
        "edges": len(route.edges),
        "geometry": {
            "type": "LineString",
            "coordinates": [[round(lon, 6), round(lat, 6)] for lat, lon in latlon.tolist()],
        },
    }
    if args.json:
        print(json.dumps(result), flush=True)
    else:
        print(
            f"{result['time_s']} s, {result['distance_m']} m, {result['edges']} road segments "
            f"on {frame.map_id}"
        )
    return 0
