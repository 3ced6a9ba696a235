"""Fixed-route service: stops, routes, trips with their stop times, service calendars and
blocks, as read from a GTFS feed.

Times of day are whole seconds after midnight of the service day, as GTFS counts them,
so a trip after midnight runs at 25:10:00 = 90,600 s of the day its service runs on.
Everything here is immutable and free of I/O; ``TransitFeed`` answers the questions the
rest of Headway asks of a timetable (what runs on a date, which trips form a block).

TransitError
 └── FeedError       a feed that cannot be used; ``problems`` lists every reason found
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from headway.domain.errors import HeadwayError


class TransitError(HeadwayError):
    """Base of the fixed-route errors."""


class FeedError(TransitError):
    """The feed is broken; each problem names the file, the line and what to fix."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        shown = list(problems[:20])
        more = len(problems) - len(shown)
        lines = "\n  ".join(shown + ([f"... and {more} more"] if more > 0 else []))
        super().__init__(f"{source}: not a usable GTFS feed:\n  {lines}")
        self.source = source
        self.problems = tuple(problems)


def format_time(seconds: int) -> str:
    """GTFS notation: 25:10:00 for 90,600 s."""
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


@dataclass(frozen=True, slots=True)
class StopPlace:
    """Where a stop lies on the road network, when it was matched to one."""

    x: float
    y: float
    edge: int
    offset_m: float
    node: int
    """The road node a vehicle reaches the stop at (the nearer end of its edge)."""
    distance_m: float
    """From the stop's coordinates to the road."""


@dataclass(frozen=True, slots=True)
class TransitStop:
    id: str
    name: str
    lat: float
    lon: float
    parent: str = ""
    place: StopPlace | None = None


@dataclass(frozen=True, slots=True)
class TransitRoute:
    id: str
    agency_id: str
    short_name: str
    long_name: str
    type: int
    color: str = ""

    @property
    def name(self) -> str:
        return self.short_name or self.long_name


@dataclass(frozen=True, slots=True)
class Trip:
    """One journey of a vehicle along a route; stop times in travel order."""

    id: str
    route_id: str
    service_id: str
    stop_ids: tuple[str, ...]
    arrivals: tuple[int, ...]
    departures: tuple[int, ...]
    timepoints: tuple[bool, ...]
    """Whether each stop's times are exact (GTFS timepoint); interpolated times are not."""
    direction_id: int = 0
    block_id: str = ""
    shape_id: str = ""
    headsign: str = ""
    frequency_based: bool = False
    """Generated from frequencies.txt with exact_times=0: headways matter, not times."""

    @property
    def start_s(self) -> int:
        return self.departures[0]

    @property
    def end_s(self) -> int:
        return self.arrivals[-1]

    def shifted(self, seconds: int, trip_id: str, frequency_based: bool) -> Trip:
        return replace(
            self,
            id=trip_id,
            arrivals=tuple(t + seconds for t in self.arrivals),
            departures=tuple(t + seconds for t in self.departures),
            frequency_based=frequency_based,
        )


@dataclass(frozen=True, slots=True)
class Frequency:
    """Trips of ``trip_id``'s pattern leave every ``headway_s`` from start to end."""

    trip_id: str
    start_s: int
    end_s: int
    headway_s: int
    exact_times: bool


@dataclass(frozen=True, slots=True)
class Service:
    """A GTFS service: weekdays between two dates, with dates added and removed."""

    id: str
    weekdays: tuple[bool, ...] = (False,) * 7
    """Monday first."""
    start: dt.date | None = None
    end: dt.date | None = None
    added: frozenset[dt.date] = frozenset()
    removed: frozenset[dt.date] = frozenset()

    def active_on(self, day: dt.date) -> bool:
        if day in self.removed:
            return False
        if day in self.added:
            return True
        if self.start is None or self.end is None:
            return False
        return self.start <= day <= self.end and self.weekdays[day.weekday()]

    def dates(self) -> set[dt.date]:
        days = set(self.added)
        if self.start is not None and self.end is not None and any(self.weekdays):
            day = self.start
            while day <= self.end:
                if self.weekdays[day.weekday()]:
                    days.add(day)
                day += dt.timedelta(days=1)
        return days - self.removed


@dataclass(frozen=True, slots=True)
class Shape:
    id: str
    points: tuple[tuple[float, float], ...]
    """(lat, lon) in sequence."""


@dataclass(frozen=True, slots=True)
class Block:
    """The trips one vehicle drives in a day, in order."""

    id: str
    trip_ids: tuple[str, ...]
    start_s: int
    end_s: int
    derived: bool
    """True when chained by Headway, False when the feed's block_id said so."""


@dataclass(frozen=True, slots=True)
class FeedSummary:
    agencies: int
    stops: int
    routes: int
    trips: int
    stop_times: int
    shapes: int
    services: int
    frequencies: int
    service_days: int
    first_day: dt.date | None
    last_day: dt.date | None
    ignored: Mapping[str, int] = field(default_factory=dict)
    """What the feed holds that Headway leaves out (flex trips, unused files), counted."""


@dataclass(frozen=True, slots=True)
class TransitFeed:
    """A validated timetable; every reference in it resolves."""

    name: str
    timezone: str
    agencies: Mapping[str, str]
    stops: Mapping[str, TransitStop]
    routes: Mapping[str, TransitRoute]
    trips: Mapping[str, Trip]
    services: Mapping[str, Service]
    shapes: Mapping[str, Shape] = field(default_factory=dict)
    frequencies: tuple[Frequency, ...] = ()
    ignored: Mapping[str, int] = field(default_factory=dict)

    def services_on(self, day: dt.date) -> frozenset[str]:
        return frozenset(s.id for s in self.services.values() if s.active_on(day))

    def service_days(self) -> list[dt.date]:
        """Every date on which at least one trip runs, in order."""
        used = {trip.service_id for trip in self.trips.values()}
        days: set[dt.date] = set()
        for service_id in used:
            days |= self.services[service_id].dates()
        return sorted(days)

    def trips_on(self, day: dt.date) -> list[Trip]:
        """The trips that run on ``day``, frequency patterns expanded, by start time."""
        active = self.services_on(day)
        by_pattern: dict[str, list[Frequency]] = defaultdict(list)
        for freq in self.frequencies:
            by_pattern[freq.trip_id].append(freq)
        out: list[Trip] = []
        for trip in self.trips.values():
            if trip.service_id not in active:
                continue
            windows = by_pattern.get(trip.id)
            if not windows:
                out.append(trip)
                continue
            out.extend(expand_frequencies(trip, windows))
        out.sort(key=lambda t: (t.start_s, t.id))
        return out

    def blocks_on(self, day: dt.date, min_layover_s: int = 0) -> list[Block]:
        return derive_blocks(self.trips_on(day), self.stops, min_layover_s)

    def summary(self) -> FeedSummary:
        days = self.service_days()
        return FeedSummary(
            agencies=len(self.agencies),
            stops=len(self.stops),
            routes=len(self.routes),
            trips=len(self.trips),
            stop_times=sum(len(t.stop_ids) for t in self.trips.values()),
            shapes=len(self.shapes),
            services=len(self.services),
            frequencies=len(self.frequencies),
            service_days=len(days),
            first_day=days[0] if days else None,
            last_day=days[-1] if days else None,
            ignored=dict(self.ignored),
        )

    def busiest_day(self) -> dt.date | None:
        """The service day with the most trips (the earliest such), to summarise a feed."""
        counts: dict[str, int] = defaultdict(int)
        for trip in self.trips.values():
            counts[trip.service_id] += 1
        best: tuple[int, dt.date] | None = None
        for day in self.service_days():
            n = sum(counts[s] for s in self.services_on(day))
            if best is None or n > best[0]:
                best = (n, day)
        return None if best is None else best[1]


def expand_frequencies(pattern: Trip, windows: Iterable[Frequency]) -> list[Trip]:
    """One trip per departure of each window; the pattern's times are kept relative to
    its first departure. Ids are ``pattern@HH:MM:SS``."""
    out: list[Trip] = []
    for window in sorted(windows, key=lambda w: w.start_s):
        start = window.start_s
        while start < window.end_s or (start == window.end_s and window.exact_times):
            trip_id = f"{pattern.id}@{format_time(start)}"
            out.append(pattern.shifted(start - pattern.start_s, trip_id, not window.exact_times))
            start += window.headway_s
    return out


TERMINAL_RADIUS_M = 250.0
"""Two stops this close count as one terminal when chaining trips: the two sides of a
street, the platforms of a station without a parent_station."""


class _Terminals:
    """Chains waiting at terminals, found by place: a grid of cells one radius wide."""

    def __init__(self, stops: Mapping[str, TransitStop], radius_m: float) -> None:
        self._stops = stops
        self._radius_m = radius_m
        self._cells: dict[tuple[int, int], list[tuple[int, float, float]]] = defaultdict(list)

    def _xy(self, stop_id: str) -> tuple[float, float]:
        stop = self._stops.get(stop_id)
        if stop is None:
            return (math.inf, math.inf)
        lat = math.radians(stop.lat)
        return (6_371_000.0 * math.radians(stop.lon) * math.cos(lat), 6_371_000.0 * lat)

    def _cell(self, x: float, y: float) -> tuple[int, int]:
        if not math.isfinite(x):
            return (0, 0)
        return (int(x // self._radius_m), int(y // self._radius_m))

    def add(self, chain: int, stop_id: str) -> None:
        x, y = self._xy(stop_id)
        self._cells[self._cell(x, y)].append((chain, x, y))

    def near(self, stop_id: str) -> list[int]:
        x, y = self._xy(stop_id)
        if not math.isfinite(x):
            return []
        cx, cy = self._cell(x, y)
        found: list[int] = []
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                for chain, wx, wy in self._cells.get((cx + dx, cy + dy), ()):
                    if math.hypot(wx - x, wy - y) <= self._radius_m:
                        found.append(chain)
        return found

    def remove(self, chain: int, stop_id: str) -> None:
        x, y = self._xy(stop_id)
        cell = self._cells[self._cell(x, y)]
        cell[:] = [entry for entry in cell if entry[0] != chain]


def derive_blocks(
    trips: Sequence[Trip],
    stops: Mapping[str, TransitStop],
    min_layover_s: int = 0,
    terminal_radius_m: float = TERMINAL_RADIUS_M,
) -> list[Block]:
    """The day's blocks: the feed's ``block_id`` where its trips do not overlap in time.
    Other trips are chained greedily in order of start time onto a vehicle that finished
    its last trip within ``terminal_radius_m`` of the new trip's first stop at least
    ``min_layover_s`` earlier, the one that has waited least; a trip no vehicle can take
    starts a new block."""
    given: dict[str, list[Trip]] = defaultdict(list)
    loose: list[Trip] = []
    for trip in trips:
        (given[trip.block_id] if trip.block_id else loose).append(trip)
    blocks: list[Block] = []
    for block_id, members in given.items():
        members.sort(key=lambda t: (t.start_s, t.id))
        if any(a.end_s > b.start_s for a, b in itertools.pairwise(members)):
            # One vehicle cannot drive trips that overlap: the feed's block is wrong.
            loose.extend(members)
            continue
        blocks.append(
            Block(
                id=block_id,
                trip_ids=tuple(t.id for t in members),
                start_s=members[0].start_s,
                end_s=max(t.end_s for t in members),
                derived=False,
            )
        )
    chains: list[list[Trip]] = []
    waiting = _Terminals(stops, terminal_radius_m)
    for trip in sorted(loose, key=lambda t: (t.start_s, t.id)):
        ready = [
            i
            for i in waiting.near(trip.stop_ids[0])
            if chains[i][-1].end_s + min_layover_s <= trip.start_s
        ]
        if ready:
            chosen = max(ready, key=lambda i: (chains[i][-1].end_s, -i))
            waiting.remove(chosen, chains[chosen][-1].stop_ids[-1])
            chains[chosen].append(trip)
        else:
            chosen = len(chains)
            chains.append([trip])
        waiting.add(chosen, trip.stop_ids[-1])
    for index, chain in enumerate(chains):
        blocks.append(
            Block(
                id=f"derived-{index + 1}",
                trip_ids=tuple(t.id for t in chain),
                start_s=chain[0].start_s,
                end_s=chain[-1].end_s,
                derived=True,
            )
        )
    blocks.sort(key=lambda b: (b.start_s, b.id))
    return blocks
