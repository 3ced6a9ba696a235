"""``headway gtfs import``: read and check a static GTFS feed, place its stops on a road
network, and write Headway's timetable file.

    headway gtfs import FILE [--network NETWORK_FILE] --out OUT [--date YYYY-MM-DD] [--json]

Exit 0 with a summary (counts, service days, the blocks of one day, stops matched);
exit 2 with every problem found when the feed is broken, and nothing written.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from typing import Any

from headway.config import Settings
from headway.entrypoints.arguments import positive_float

BAD_INPUT = 2


def register(commands: Any) -> None:
    gtfs = commands.add_parser("gtfs", help="import fixed-route timetables (GTFS)")
    actions = gtfs.add_subparsers(dest="gtfs_command", required=True)
    imp = actions.add_parser("import", help="check a GTFS feed (zip or folder) and save it")
    imp.add_argument("file", help="the GTFS feed: a .zip archive or a folder of .txt files")
    imp.add_argument("--out", required=True, help="timetable file to write")
    imp.add_argument("--network", default=None, help="network file (.npz) to place stops on")
    imp.add_argument(
        "--max-snap-m",
        type=positive_float,
        default=60.0,
        help="a stop farther than this from every road stays unplaced (default 60)",
    )
    imp.add_argument(
        "--date",
        type=dt.date.fromisoformat,
        default=None,
        help="day whose trips and blocks to summarise (default: the busiest service day)",
    )
    imp.add_argument("--json", action="store_true", help="print the summary as one JSON line")
    imp.set_defaults(handler=run_import)


def run_import(args: argparse.Namespace, settings: Settings) -> int:
    from headway.adapters.gtfs_feed import read_gtfs
    from headway.adapters.timetable_file import save_timetable
    from headway.domain.transit import TransitError

    started = time.perf_counter()
    try:
        feed = read_gtfs(args.file)
    except TransitError as exc:
        return _fail(exc)
    matching: dict[str, object] | None = None
    if args.network:
        from headway.network.errors import NetworkError
        from headway.network.graph import RoadNetwork
        from headway.services.stop_places import place_stops

        try:
            network = RoadNetwork.load(args.network)
        except (NetworkError, OSError) as exc:
            return _fail(exc)
        feed, report = place_stops(feed, network, args.max_snap_m)
        matching = {**report.as_dict(), "map_id": network.frame.map_id}
    summary = feed.summary()
    day = args.date or feed.busiest_day()
    trips = feed.trips_on(day) if day else []
    blocks = feed.blocks_on(day) if day else []
    figures: dict[str, object] = {
        "source": args.file,
        "agencies": summary.agencies,
        "stops": summary.stops,
        "routes": summary.routes,
        "trips": summary.trips,
        "stop_times": summary.stop_times,
        "shapes": summary.shapes,
        "frequencies": summary.frequencies,
        "services": summary.services,
        "service_days": summary.service_days,
        "first_day": summary.first_day.isoformat() if summary.first_day else None,
        "last_day": summary.last_day.isoformat() if summary.last_day else None,
        "day": day.isoformat() if day else None,
        "trips_on_day": len(trips),
        "blocks_on_day": len(blocks),
        "blocks_from_feed": sum(not b.derived for b in blocks),
        "blocks_derived": sum(b.derived for b in blocks),
        "feed_blocks_overlapping": len(
            {t.block_id for t in trips if t.block_id} - {b.id for b in blocks if not b.derived}
        ),
        "ignored": dict(summary.ignored),
    }
    if matching is not None:
        figures["stops_matched"] = matching
    try:
        written = save_timetable(feed, args.out, meta={"import": figures})
    except OSError as exc:
        return _fail(exc)
    figures["seconds"] = round(time.perf_counter() - started, 2)
    figures["out"] = str(written)
    _print(figures, args.json)
    return 0


def _print(figures: dict[str, object], as_json: bool) -> None:
    if as_json:
        print(json.dumps(figures), flush=True)
        return
    for key, value in figures.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}: {v}" for k, v in value.items()) or "-"
        print(f"{key:>17}: {value}")


def _fail(exc: Exception) -> int:
    print(f"headway gtfs: {exc}", file=sys.stderr)
    return BAD_INPUT
