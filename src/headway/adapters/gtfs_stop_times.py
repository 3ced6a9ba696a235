"""GTFS stop times into trips: ordered by stop_sequence, missing times interpolated,
checked to never go back in time; flexible (GTFS-Flex) trips left out and counted."""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass

from headway.adapters.gtfs_tables import Problems, Table, parse_time
from headway.domain.transit import TransitStop, Trip

_FLEX_COLUMNS = (
    "start_pickup_drop_off_window",
    "end_pickup_drop_off_window",
    "location_group_id",
    "location_id",
)


@dataclass
class TripMeta:
    """What trips.txt says of a trip, before its stop times are read."""

    line: int
    route_id: str
    service_id: str
    direction_id: int
    block_id: str
    shape_id: str
    headsign: str


def read_stop_times(
    table: Table,
    metas: dict[str, TripMeta],
    stops: dict[str, TransitStop],
    problems: Problems,
    ignored: dict[str, int],
) -> dict[str, Trip]:
    name = table.name
    flex_columns = [c for c in _FLEX_COLUMNS if table.has(c)]
    rows: dict[str, list[tuple[int, int, str, int | None, int | None, bool]]] = defaultdict(list)
    flex: set[str] = set()
    for line, row in table.records():
        trip_id = row.get("trip_id")
        if trip_id not in metas:
            problems.add(f"{name} line {line}: trip_id {trip_id!r} is not in trips.txt")
            if problems.full:
                break
            continue
        if any(row.get(c) for c in flex_columns):
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
    meta: TripMeta,
    entries: list[tuple[int, int, str, int | None, int | None, bool]],
    name: str,
    problems: Problems,
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
