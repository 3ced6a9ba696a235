"""Read a static GTFS feed (a zip archive or a folder) into a validated ``TransitFeed``.

The standard library's ``csv`` reads it: the feeds Headway runs are a city's worth of
stop times (tens of thousands of rows, read in well under a second), and the result
is Headway's own immutable model, not data frames, so pandas would be weight without
use (docs/fixed-routes.md). Every problem found is collected with its file and line,
and a feed with any is refused whole with ``FeedError``; nothing half-read escapes.

Flexible trips (GTFS-Flex: stop times with pickup/drop-off windows or locations instead
of stops) are left out and counted, as are trips with fewer than two stop times.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

from headway.adapters.gtfs_stop_times import TripMeta, read_stop_times
from headway.adapters.gtfs_tables import (
    REQUIRED_COLUMNS,
    REQUIRED_FILES,
    FeedSource,
    Problems,
    Row,
    Table,
    parse_date,
    parse_time,
    read_table,
)
from headway.domain.transit import (
    FeedError,
    Frequency,
    Service,
    Shape,
    TransitFeed,
    TransitRoute,
    TransitStop,
    Trip,
)

__all__ = ["parse_time", "read_gtfs"]


def read_gtfs(path: str | Path) -> TransitFeed:
    """The feed at ``path``, validated; raises FeedError listing every problem found."""
    source = FeedSource(Path(path))
    try:
        return _read(source)
    finally:
        source.close()


def _read(source: FeedSource) -> TransitFeed:
    label = str(source.path)
    problems = Problems()
    missing = [name for name in REQUIRED_FILES if name not in source]
    if "calendar.txt" not in source and "calendar_dates.txt" not in source:
        missing.append("calendar.txt or calendar_dates.txt")
    if missing:
        raise FeedError(label, [f"missing required file {name}" for name in missing])
    tables: dict[str, Table] = {}
    for name in REQUIRED_COLUMNS:
        if name in source:
            table = read_table(source, name, problems)
            if table is not None:
                tables[name] = table
    if problems.items:
        raise FeedError(label, problems.items)

    ignored: dict[str, int] = {}
    agencies, timezone = _agencies(tables["agency.txt"], problems)
    stops = _stops(tables["stops.txt"], problems, ignored)
    routes = _routes(tables["routes.txt"], agencies, problems)
    services = _services(tables.get("calendar.txt"), tables.get("calendar_dates.txt"), problems)
    shapes = _shapes(tables.get("shapes.txt"), problems)
    with_shapes = "shapes.txt" in tables
    trips_meta = _trips(tables["trips.txt"], routes, services, shapes, with_shapes, problems)
    trips = read_stop_times(tables["stop_times.txt"], trips_meta, stops, problems, ignored)
    frequencies = _frequencies(tables.get("frequencies.txt"), trips, trips_meta, problems)
    if problems.items:
        raise FeedError(label, problems.items)
    unused = sorted(set(source.files()) - set(REQUIRED_COLUMNS))
    for name in unused:
        ignored[f"file {name}"] = 1
    return TransitFeed(
        name=source.path.name,
        timezone=timezone,
        agencies=agencies,
        stops=stops,
        routes=routes,
        trips=trips,
        services={sid: services[sid] for sid in sorted({t.service_id for t in trips.values()})},
        shapes={sid: shapes[sid] for sid in sorted({t.shape_id for t in trips.values()} - {""})},
        frequencies=frequencies,
        ignored=ignored,
    )


def _agencies(table: Table, problems: Problems) -> tuple[dict[str, str], str]:
    agencies: dict[str, str] = {}
    timezone = ""
    for line, row in table.records():
        agency_id = row.get("agency_id")
        name = row.get("agency_name")
        tz = row.get("agency_timezone")
        if not name or not tz:
            problems.add(f"agency.txt line {line}: agency_name and agency_timezone are required")
            continue
        if agency_id in agencies:
            problems.add(f"agency.txt line {line}: agency_id {agency_id!r} appears twice")
        agencies[agency_id] = name
        timezone = timezone or tz
    if not agencies:
        problems.add("agency.txt: no agency")
    elif len(agencies) > 1 and "" in agencies:
        problems.add("agency.txt: with several agencies, each needs an agency_id")
    return agencies, timezone


def _stops(table: Table, problems: Problems, ignored: dict[str, int]) -> dict[str, TransitStop]:
    raw: dict[str, tuple[int, Row]] = {}
    for line, row in table.records():
        stop_id = row.get("stop_id")
        if not stop_id:
            problems.add(f"stops.txt line {line}: empty stop_id")
        elif stop_id in raw:
            problems.add(f"stops.txt line {line}: stop_id {stop_id!r} appears twice")
        else:
            raw[stop_id] = (line, row)
    stops: dict[str, TransitStop] = {}
    for stop_id, (line, row) in raw.items():
        parent = row.get("parent_station")
        if parent and parent not in raw:
            problems.add(
                f"stops.txt line {line}: parent_station {parent!r} of stop {stop_id!r} "
                "is not in stops.txt"
            )
        lat_text, lon_text = row.get("stop_lat"), row.get("stop_lon")
        if not lat_text and not lon_text and parent in raw:
            lat_text, lon_text = raw[parent][1].get("stop_lat"), raw[parent][1].get("stop_lon")
        if not lat_text and not lon_text and row.get("location_type") in ("3", "4"):
            ignored["stops without coordinates (nodes, boarding areas)"] = (
                ignored.get("stops without coordinates (nodes, boarding areas)", 0) + 1
            )
            continue
        try:
            lat, lon = float(lat_text), float(lon_text)
            if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
                raise ValueError
        except ValueError:
            problems.add(
                f"stops.txt line {line}: stop {stop_id!r} needs stop_lat and stop_lon in "
                f"degrees, got {lat_text!r}, {lon_text!r}"
            )
            continue
        stops[stop_id] = TransitStop(stop_id, row.get("stop_name"), lat, lon, parent)
    return stops


def _routes(table: Table, agencies: dict[str, str], problems: Problems) -> dict[str, TransitRoute]:
    routes: dict[str, TransitRoute] = {}
    for line, row in table.records():
        route_id = row.get("route_id")
        agency_id = row.get("agency_id")
        if not route_id:
            problems.add(f"routes.txt line {line}: empty route_id")
            continue
        if route_id in routes:
            problems.add(f"routes.txt line {line}: route_id {route_id!r} appears twice")
        if agency_id and agency_id not in agencies:
            problems.add(f"routes.txt line {line}: agency_id {agency_id!r} is not in agency.txt")
        if not agency_id and len(agencies) > 1:
            problems.add(f"routes.txt line {line}: route {route_id!r} needs an agency_id")
        try:
            route_type = int(row.get("route_type"))
        except ValueError:
            problems.add(f"routes.txt line {line}: route_type must be a number")
            continue
        short, long = row.get("route_short_name"), row.get("route_long_name")
        if not short and not long:
            problems.add(f"routes.txt line {line}: route {route_id!r} needs a short or a long name")
        routes[route_id] = TransitRoute(
            route_id,
            agency_id or next(iter(agencies), ""),
            short,
            long,
            route_type,
            row.get("route_color"),
        )
    return routes


def _services(
    calendar: Table | None, dates: Table | None, problems: Problems
) -> dict[str, Service]:
    services: dict[str, Service] = {}
    days = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    if calendar is not None:
        for line, row in calendar.records():
            service_id = row.get("service_id")
            try:
                flags = tuple(_flag(row.get(d)) for d in days)
                start, end = parse_date(row.get("start_date")), parse_date(row.get("end_date"))
            except ValueError as exc:
                problems.add(
                    f"calendar.txt line {line}: weekdays must be 0 or 1 and dates YYYYMMDD ({exc})"
                )
                continue
            if service_id in services:
                problems.add(f"calendar.txt line {line}: service_id {service_id!r} appears twice")
            if end < start:
                problems.add(f"calendar.txt line {line}: end_date before start_date")
            services[service_id] = Service(service_id, flags, start, end)
    added: dict[str, set[dt.date]] = defaultdict(set)
    removed: dict[str, set[dt.date]] = defaultdict(set)
    if dates is not None:
        for line, row in dates.records():
            service_id = row.get("service_id")
            kind = row.get("exception_type")
            try:
                day = parse_date(row.get("date"))
            except ValueError:
                problems.add(f"calendar_dates.txt line {line}: date must be YYYYMMDD")
                continue
            if kind == "1":
                added[service_id].add(day)
            elif kind == "2":
                removed[service_id].add(day)
            else:
                problems.add(f"calendar_dates.txt line {line}: exception_type must be 1 or 2")
    for service_id in added.keys() | removed.keys():
        base = services.get(service_id, Service(service_id))
        services[service_id] = Service(
            service_id,
            base.weekdays,
            base.start,
            base.end,
            frozenset(added[service_id]),
            frozenset(removed[service_id]),
        )
    return services


def _flag(text: str) -> bool:
    if text not in ("0", "1"):
        raise ValueError(f"{text!r} is not 0 or 1")
    return text == "1"


def _shapes(table: Table | None, problems: Problems) -> dict[str, Shape]:
    if table is None:
        return {}
    points: dict[str, list[tuple[int, float, float]]] = defaultdict(list)
    for line, row in table.records():
        try:
            seq = int(row.get("shape_pt_sequence"))
            lat, lon = float(row.get("shape_pt_lat")), float(row.get("shape_pt_lon"))
        except ValueError:
            problems.add(
                f"shapes.txt line {line}: sequence, latitude and longitude must be numbers"
            )
            if problems.full:
                break
            continue
        points[row.get("shape_id")].append((seq, lat, lon))
    return {
        sid: Shape(sid, tuple((round(lat, 6), round(lon, 6)) for _, lat, lon in sorted(pts)))
        for sid, pts in points.items()
    }


def _trips(
    table: Table,
    routes: dict[str, TransitRoute],
    services: dict[str, Service],
    shapes: dict[str, Shape],
    with_shapes: bool,
    problems: Problems,
) -> dict[str, TripMeta]:
    """Without shapes.txt a trip's shape_id is dropped (shapes are optional); with it, a
    shape_id must be found there."""
    trips: dict[str, TripMeta] = {}
    for line, row in table.records():
        trip_id = row.get("trip_id")
        route_id, service_id, shape_id = (
            row.get("route_id"),
            row.get("service_id"),
            row.get("shape_id"),
        )
        if not trip_id:
            problems.add(f"trips.txt line {line}: empty trip_id")
            continue
        if trip_id in trips:
            problems.add(f"trips.txt line {line}: trip_id {trip_id!r} appears twice")
        if route_id not in routes:
            problems.add(f"trips.txt line {line}: route_id {route_id!r} is not in routes.txt")
        if service_id not in services:
            problems.add(
                f"trips.txt line {line}: service_id {service_id!r} is in neither "
                "calendar.txt nor calendar_dates.txt"
            )
        if not with_shapes:
            shape_id = ""
        elif shape_id and shape_id not in shapes:
            problems.add(f"trips.txt line {line}: shape_id {shape_id!r} is not in shapes.txt")
        direction = row.get("direction_id")
        trips[trip_id] = TripMeta(
            line,
            route_id,
            service_id,
            1 if direction == "1" else 0,
            row.get("block_id"),
            shape_id,
            row.get("trip_headsign"),
        )
        if problems.full:
            break
    return trips


def _frequencies(
    table: Table | None,
    trips: dict[str, Trip],
    metas: dict[str, TripMeta],
    problems: Problems,
) -> tuple[Frequency, ...]:
    if table is None:
        return ()
    out: list[Frequency] = []
    for line, row in table.records():
        trip_id = row.get("trip_id")
        if trip_id not in metas:
            problems.add(f"frequencies.txt line {line}: trip_id {trip_id!r} is not in trips.txt")
            continue
        try:
            start, end = parse_time(row.get("start_time")), parse_time(row.get("end_time"))
            headway = int(row.get("headway_secs"))
            if headway <= 0 or end < start:
                raise ValueError
        except ValueError:
            problems.add(
                f"frequencies.txt line {line}: needs start_time <= end_time (like 06:00:00) "
                "and headway_secs > 0"
            )
            continue
        if trip_id in trips:
            out.append(Frequency(trip_id, start, end, headway, row.get("exact_times") == "1"))
    return tuple(out)
