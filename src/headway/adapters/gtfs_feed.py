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

import csv
import datetime as dt
import io
import itertools
import zipfile
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

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

MAX_PROBLEMS = 200
"""Stop collecting after this many: the first ones are what a user fixes first."""

REQUIRED_FILES = ("agency.txt", "stops.txt", "routes.txt", "trips.txt", "stop_times.txt")
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "agency.txt": ("agency_name", "agency_timezone"),
    "stops.txt": ("stop_id", "stop_lat", "stop_lon"),
    "routes.txt": ("route_id", "route_type"),
    "trips.txt": ("route_id", "service_id", "trip_id"),
    "stop_times.txt": ("trip_id", "stop_sequence", "arrival_time", "departure_time"),
    "calendar.txt": (
        "service_id",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "start_date",
        "end_date",
    ),
    "calendar_dates.txt": ("service_id", "date", "exception_type"),
    "shapes.txt": ("shape_id", "shape_pt_lat", "shape_pt_lon", "shape_pt_sequence"),
    "frequencies.txt": ("trip_id", "start_time", "end_time", "headway_secs"),
}
_FLEX_COLUMNS = (
    "start_pickup_drop_off_window",
    "end_pickup_drop_off_window",
    "location_group_id",
    "location_id",
)


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, text: str) -> None:
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(text)

    @property
    def full(self) -> bool:
        return len(self.items) >= MAX_PROBLEMS


@dataclass
class _Table:
    name: str
    columns: dict[str, int]
    rows: list[list[str]]

    def has(self, column: str) -> bool:
        return column in self.columns

    def records(self) -> Iterator[tuple[int, _Row]]:
        """(line number in the file, row); the header is line 1."""
        for index, row in enumerate(self.rows):
            yield index + 2, _Row(self.columns, row)


class _Row:
    __slots__ = ("_columns", "_row")

    def __init__(self, columns: dict[str, int], row: list[str]) -> None:
        self._columns = columns
        self._row = row

    def get(self, column: str) -> str:
        i = self._columns.get(column)
        if i is None or i >= len(self._row):
            return ""
        return self._row[i].strip()


class _Source:
    """The files of a feed, from a zip archive or a folder."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip: zipfile.ZipFile | None = None
        self._names: dict[str, str] = {}
        if path.is_dir():
            self._names = {p.name: str(p) for p in path.iterdir() if p.is_file()}
        elif path.is_file():
            try:
                self._zip = zipfile.ZipFile(path)
            except (zipfile.BadZipFile, OSError) as exc:
                raise FeedError(
                    str(path), [f"not a zip archive or a folder of GTFS files ({exc})"]
                ) from None
            # Some producers put the files in a folder inside the archive.
            for info in self._zip.infolist():
                if not info.is_dir():
                    self._names.setdefault(info.filename.rsplit("/", 1)[-1], info.filename)
        else:
            raise FeedError(str(path), ["no such file or folder"])

    def __contains__(self, name: str) -> bool:
        return name in self._names

    def text(self, name: str) -> str:
        if self._zip is not None:
            data = self._zip.read(self._names[name])
        else:
            data = Path(self._names[name]).read_bytes()
        return data.decode("utf-8-sig")

    def files(self) -> list[str]:
        return sorted(self._names)

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


def _read_table(source: _Source, name: str, problems: _Problems) -> _Table | None:
    try:
        text = source.text(name)
    except (UnicodeDecodeError, OSError, zipfile.BadZipFile, KeyError) as exc:
        problems.add(f"{name}: cannot be read as UTF-8 text ({exc})")
        return None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        rows = [row for row in reader if row and any(cell.strip() for cell in row)]
    except csv.Error as exc:
        problems.add(f"{name}: not valid CSV ({exc})")
        return None
    if header is None:
        problems.add(f"{name}: empty; it needs at least a header line")
        return None
    columns = {column.strip(): i for i, column in enumerate(header)}
    missing = [c for c in REQUIRED_COLUMNS.get(name, ()) if c not in columns]
    if missing:
        problems.add(f"{name}: missing required column(s) {', '.join(missing)}")
        return None
    return _Table(name, columns, rows)


def parse_time(text: str) -> int:
    """Seconds after midnight of the service day: '25:10:00' → 90600, '6:05:00' too.
    Raises ValueError."""
    parts = text.split(":")
    if len(parts) != 3 or not all(p.isdigit() for p in parts) or not 1 <= len(parts[0]) <= 3:
        raise ValueError(text)
    hours, minutes, seconds = (int(p) for p in parts)
    if minutes > 59 or seconds > 59 or len(parts[1]) != 2 or len(parts[2]) != 2:
        raise ValueError(text)
    return hours * 3600 + minutes * 60 + seconds


def _parse_date(text: str) -> dt.date:
    if len(text) != 8 or not text.isdigit():
        raise ValueError(text)
    return dt.date(int(text[:4]), int(text[4:6]), int(text[6:8]))


def read_gtfs(path: str | Path) -> TransitFeed:
    """The feed at ``path``, validated; raises FeedError listing every problem found."""
    source = _Source(Path(path))
    try:
        return _read(source)
    finally:
        source.close()


def _read(source: _Source) -> TransitFeed:
    label = str(source.path)
    problems = _Problems()
    missing = [name for name in REQUIRED_FILES if name not in source]
    if "calendar.txt" not in source and "calendar_dates.txt" not in source:
        missing.append("calendar.txt or calendar_dates.txt")
    if missing:
        raise FeedError(label, [f"missing required file {name}" for name in missing])
    tables: dict[str, _Table] = {}
    for name in REQUIRED_COLUMNS:
        if name in source:
            table = _read_table(source, name, problems)
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
    trips = _stop_times(tables["stop_times.txt"], trips_meta, stops, problems, ignored)
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


def _agencies(table: _Table, problems: _Problems) -> tuple[dict[str, str], str]:
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


def _stops(table: _Table, problems: _Problems, ignored: dict[str, int]) -> dict[str, TransitStop]:
    raw: dict[str, tuple[int, _Row]] = {}
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


def _routes(
    table: _Table, agencies: dict[str, str], problems: _Problems
) -> dict[str, TransitRoute]:
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
    calendar: _Table | None, dates: _Table | None, problems: _Problems
) -> dict[str, Service]:
    services: dict[str, Service] = {}
    days = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    if calendar is not None:
        for line, row in calendar.records():
            service_id = row.get("service_id")
            try:
                flags = tuple(_flag(row.get(d)) for d in days)
                start, end = _parse_date(row.get("start_date")), _parse_date(row.get("end_date"))
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
                day = _parse_date(row.get("date"))
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


def _shapes(table: _Table | None, problems: _Problems) -> dict[str, Shape]:
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


@dataclass
class _TripMeta:
    line: int
    route_id: str
    service_id: str
    direction_id: int
    block_id: str
    shape_id: str
    headsign: str


def _trips(
    table: _Table,
    routes: dict[str, TransitRoute],
    services: dict[str, Service],
    shapes: dict[str, Shape],
    with_shapes: bool,
    problems: _Problems,
) -> dict[str, _TripMeta]:
    """Without shapes.txt a trip's shape_id is dropped (shapes are optional); with it, a
    shape_id must be found there."""
    trips: dict[str, _TripMeta] = {}
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
        trips[trip_id] = _TripMeta(
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


def _stop_times(
    table: _Table,
    metas: dict[str, _TripMeta],
    stops: dict[str, TransitStop],
    problems: _Problems,
    ignored: dict[str, int],
) -> dict[str, Trip]:
    name = table.name
    flex_cols = [table.columns[c] for c in _FLEX_COLUMNS if c in table.columns]
    rows: dict[str, list[tuple[int, int, str, int | None, int | None, bool]]] = defaultdict(list)
    flex: set[str] = set()
    for line, row in table.records():
        trip_id = row.get("trip_id")
        if trip_id not in metas:
            problems.add(f"{name} line {line}: trip_id {trip_id!r} is not in trips.txt")
            if problems.full:
                break
            continue
        if any(i < len(row._row) and row._row[i].strip() for i in flex_cols):
            flex.add(trip_id)
            continue
        stop_id = row.get("stop_id")
        if stop_id not in stops:
            problems.add(f"{name} line {line}: stop_id {stop_id!r} is not in stops.txt")
            continue
        try:
            seq = int(row.get("stop_sequence"))
            if seq < 0:
                raise ValueError
        except ValueError:
            problems.add(
                f"{name} line {line}: stop_sequence must be a whole number >= 0, "
                f"got {row.get('stop_sequence')!r}"
            )
            continue
        times: list[int | None] = []
        for column in ("arrival_time", "departure_time"):
            text = row.get(column)
            if not text:
                times.append(None)
                continue
            try:
                times.append(parse_time(text))
            except ValueError:
                problems.add(f"{name} line {line}: {column} {text!r} is not a time like 25:10:00")
                times.append(None)
        arrival, departure = times
        timepoint = row.get("timepoint") != "0" and (arrival is not None or departure is not None)
        rows[trip_id].append((seq, line, stop_id, arrival, departure, timepoint))
    if flex:
        ignored["flexible trips (GTFS-Flex)"] = len(flex)
    trips: dict[str, Trip] = {}
    short = 0
    for trip_id, meta in metas.items():
        if trip_id in flex:
            continue
        entries = sorted(rows.get(trip_id, ()))
        if len(entries) < 2:
            short += 1
            continue
        trip = _build_trip(trip_id, meta, entries, name, problems)
        if trip is not None:
            trips[trip_id] = trip
    if short:
        ignored["trips with fewer than two stop times"] = short
    return trips


def _build_trip(
    trip_id: str,
    meta: _TripMeta,
    entries: list[tuple[int, int, str, int | None, int | None, bool]],
    name: str,
    problems: _Problems,
) -> Trip | None:
    seqs = [e[0] for e in entries]
    if len(set(seqs)) != len(seqs):
        dup = next(s for s in seqs if seqs.count(s) > 1)
        problems.add(f"{name}: trip {trip_id!r} has stop_sequence {dup} twice")
        return None
    arrivals: list[int | None] = []
    departures: list[int | None] = []
    for _, _, _, given_arr, given_dep, _ in entries:
        arrivals.append(given_arr if given_arr is not None else given_dep)
        departures.append(given_dep if given_dep is not None else given_arr)
    if arrivals[0] is None or arrivals[-1] is None:
        problems.add(
            f"{name}: trip {trip_id!r} needs times at its first and last stop "
            f"(lines {entries[0][1]} and {entries[-1][1]})"
        )
        return None
    known = [i for i, t in enumerate(arrivals) if t is not None]
    for a, b in itertools.pairwise(known):
        start, end = departures[a], arrivals[b]
        assert start is not None
        assert end is not None
        for i in range(a + 1, b):
            t = start + round((end - start) * (i - a) / (b - a))
            arrivals[i] = departures[i] = t
    arr = [int(t) for t in arrivals if t is not None]
    dep = [int(t) for t in departures if t is not None]
    for i, entry in enumerate(entries):
        if dep[i] < arr[i]:
            problems.add(
                f"{name} line {entry[1]}: trip {trip_id!r} departs stop_sequence {entry[0]} "
                "before it arrives there"
            )
            return None
        if i and arr[i] < dep[i - 1]:
            problems.add(
                f"{name} line {entry[1]}: trip {trip_id!r} reaches stop_sequence {entry[0]} "
                f"before it leaves stop_sequence {entries[i - 1][0]}: stop times must not "
                "go back in time along a trip"
            )
            return None
    return Trip(
        id=trip_id,
        route_id=meta.route_id,
        service_id=meta.service_id,
        stop_ids=tuple(e[2] for e in entries),
        arrivals=tuple(arr),
        departures=tuple(dep),
        timepoints=tuple(e[5] for e in entries),
        direction_id=meta.direction_id,
        block_id=meta.block_id,
        shape_id=meta.shape_id,
        headsign=meta.headsign,
    )


def _frequencies(
    table: _Table | None,
    trips: dict[str, Trip],
    metas: dict[str, _TripMeta],
    problems: _Problems,
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
