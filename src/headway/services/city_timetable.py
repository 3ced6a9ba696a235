"""A timetable for the synthetic city, which comes without one: three lines on the
arterials through and around the town centre, as a ``TransitFeed`` in memory.

- **1** runs the length of the north-south arterial through the centre, both ways;
- **2** runs the length of the east-west arterial through the centre (Main Street);
- **R** is a ring, one way round, on the four arterials nearest the centre.

Stops are the network's own (same ids, so the commands' translator knows them); a
stop's position is its kerb. Running times are the router's free-flow times between
stops, padded for starting and stopping, plus a dwell at each stop; a trip leaves every
``headway_s`` from ``first_departure_s`` to ``last_departure_s`` of the service day, so
with the default a day's service runs round the clock (the demo can start at any hour).
Blocks come from ``TransitFeed.blocks_on`` (trips chained at their terminals).

Pure: the same network, router and parameters always give the same feed. This lives
beside ``stop_places`` rather than in ``network/`` because, like it, it joins the road
graph to the transit model; ``network/`` knows nothing of timetables.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from headway.domain.transit import (
    Service,
    Shape,
    TransitError,
    TransitFeed,
    TransitRoute,
    TransitStop,
    Trip,
)
from headway.network.graph import RoadNetwork, Stop
from headway.network.routing import Router
from headway.services.stop_places import place_stops

AGENCY = "headway-city"
SERVICE = "daily"


@dataclass(frozen=True, slots=True)
class CityTimetableParams:
    headway_s: int = 600
    """Between two trips of a line in one direction."""
    vehicles: int | None = None
    """When given, the shortest whole-minute headway (within the bounds below) whose
    blocks need at most this many vehicles replaces ``headway_s``."""
    min_headway_s: int = 180
    max_headway_s: int = 1800
    first_departure_s: int = 4 * 3600
    last_departure_s: int = 28 * 3600 - 1
    dwell_s: int = 20
    """Scheduled time at each stop: doors, alighting, boarding."""
    start_stop_s: float = 12.0
    """Added to each hop for braking to and accelerating from the stop."""
    slack: float = 1.1
    """Running times are the free-flow times times this."""
    layover_s: int = 240
    """Minimum time at a terminal before the next trip (used to size the fleet)."""
    control_every: int = 3
    """Every this many stops (and the first) is a control stop; only the terminals are
    timing points."""
    timezone: str = "Europe/Berlin"


@dataclass(frozen=True, slots=True)
class CityTimetable:
    feed: TransitFeed
    headway_s: int
    control_stops: frozenset[str]
    """The timing points, where vehicles may be held (and where orders are released)."""
    cycle_s: dict[str, int]
    """Per route: the time a vehicle needs to come back to where it started."""


@dataclass(frozen=True, slots=True)
class _Line:
    route: TransitRoute
    directions: tuple[tuple[Stop, ...], ...]
    """Each direction's stops in travel order; a ring has one and ends where it began."""
    headsigns: tuple[str, ...]


class NoLinesError(TransitError):
    """The network has no arterial stops to lay lines on."""


def city_timetable(
    network: RoadNetwork,
    router: Router,
    params: CityTimetableParams = CityTimetableParams(),
    valid_from: dt.date = dt.date(2020, 1, 1),
    valid_to: dt.date = dt.date(2099, 12, 31),
) -> CityTimetable:
    """The city's lines and their day (every day between the two dates)."""
    lines = city_lines(network)
    if not lines:
        raise NoLinesError("the network has no stops along arterials to run lines on")
    runs = {line.route.id: [_running(router, d, params) for d in line.directions] for line in lines}
    cycles = {
        route_id: sum(r[-1][1] + params.layover_s for r in directions) or 1
        for route_id, directions in runs.items()
    }
    headway = params.headway_s
    if params.vehicles is not None:
        headway = fit_headway(list(cycles.values()), params.vehicles, params)
    stops: dict[str, TransitStop] = {}
    trips: dict[str, Trip] = {}
    shapes: dict[str, Shape] = {}
    control: set[str] = set()
    for line in lines:
        for direction, (members, times) in enumerate(
            zip(line.directions, runs[line.route.id], strict=True)
        ):
            for stop in members:
                lat, lon = network.frame.to_wgs84(stop.x, stop.y)
                stops[stop.id] = TransitStop(stop.id, stop.name, round(lat, 7), round(lon, 7))
            control.update(s.id for s in members[: -1 : params.control_every])
            shape_id = f"{line.route.id}-{direction}"
            shapes[shape_id] = Shape(
                shape_id, tuple((stops[s.id].lat, stops[s.id].lon) for s in members)
            )
            # Timed at the terminals only: on the way, control stops keep headways
            # (a hold there is not capped by a schedule the late vehicle cannot keep).
            timepoints = tuple(i in (0, len(members) - 1) for i in range(len(members)))
            # The way back leaves its terminal a layover after the way out arrives there.
            offset = 0
            if direction > 0:
                offset = (runs[line.route.id][0][-1][1] + params.layover_s) % headway
            start = params.first_departure_s + offset
            while start <= params.last_departure_s:
                trip_id = f"{line.route.id}-{direction}-{start // 3600:02d}{start % 3600 // 60:02d}"
                trips[trip_id] = Trip(
                    id=trip_id,
                    route_id=line.route.id,
                    service_id=SERVICE,
                    stop_ids=tuple(s.id for s in members),
                    arrivals=tuple(start + a for a, _ in times),
                    departures=tuple(start + d for _, d in times),
                    timepoints=timepoints,
                    direction_id=direction,
                    shape_id=shape_id,
                    headsign=line.headsigns[direction],
                )
                start += headway
    feed = TransitFeed(
        name="synthetic city lines",
        timezone=params.timezone,
        agencies={AGENCY: "Headway City Transit"},
        stops=stops,
        routes={line.route.id: line.route for line in lines},
        trips=trips,
        services={SERVICE: Service(SERVICE, (True,) * 7, valid_from, valid_to)},
        shapes=shapes,
    )
    placed, _ = place_stops(feed, network)
    return CityTimetable(placed, headway, frozenset(control), cycles)


def fit_headway(cycles: Sequence[int], vehicles: int, params: CityTimetableParams) -> int:
    """The shortest whole-minute headway at which the lines need at most ``vehicles``
    (each line ``ceil(cycle / headway)``); the longest allowed when even that is too many."""
    headway = max(60, math.ceil(params.min_headway_s / 60) * 60)
    while headway < params.max_headway_s:
        if sum(math.ceil(c / headway) for c in cycles) <= vehicles:
            return headway
        headway += 60
    return params.max_headway_s


def _running(
    router: Router, stops: Sequence[Stop], params: CityTimetableParams
) -> list[tuple[int, int]]:
    """(arrival, departure) at each stop, in seconds after the trip's start."""
    out = [(0, 0)]
    clock = 0
    for a, b in itertools.pairwise(stops):
        route = router.route(int(a.node), int(b.node))
        drive = 0.0 if route is None else route.time_s
        clock += params.dwell_s if len(out) > 1 else 0
        clock += math.ceil(drive * params.slack + params.start_stop_s)
        out.append((clock, clock + params.dwell_s))
    last = out[-1][0]
    out[-1] = (last, last)
    return out


def city_lines(network: RoadNetwork) -> list[_Line]:
    """The lines, from the stops' arterials and directions (see the module docstring)."""
    streets = _Streets(network)
    lines: list[_Line] = []
    for route_id, color, (dx, dy) in (("1", "1f77b4", (0, 1)), ("2", "d62728", (1, 0))):
        name = streets.pick(dx, dy, "centre")
        if name is None:
            continue
        there, back = streets.run(name, dx, dy), streets.run(name, -dx, -dy)
        if len(there) >= 2 and len(back) >= 2:
            lines.append(
                _Line(
                    TransitRoute(route_id, AGENCY, route_id, name, 3, color),
                    (there, back),
                    (there[-1].name, back[-1].name),
                )
            )
    ring = _ring(streets, {line.route.long_name for line in lines})
    if ring is not None:
        lines.append(ring)
    return lines


class _Streets:
    """The city's stops grouped by arterial and direction of travel (east, north, ...)."""

    def __init__(self, network: RoadNetwork) -> None:
        self.groups: dict[tuple[str, int, int], list[Stop]] = defaultdict(list)
        for stop in network.stops:
            if stop.edge is None:
                continue
            src = network.node_xy[network.edge_src[stop.edge]]
            dst = network.node_xy[network.edge_dst[stop.edge]]
            heading = math.atan2(float(dst[1] - src[1]), float(dst[0] - src[0]))
            dx, dy = round(math.cos(heading)), round(math.sin(heading))
            if abs(dx) + abs(dy) == 1:
                self.groups[(_street(stop), dx, dy)].append(stop)
        self.cx, self.cy = (float(v) for v in network.node_xy.mean(axis=0))

    def offset(self, key: tuple[str, int, int]) -> float:
        """Signed distance of a street from the centre, across its direction."""
        members = self.groups[key]
        if key[1] == 0:
            return _mean(members, "x") - self.cx
        return _mean(members, "y") - self.cy

    def pick(self, dx: int, dy: int, where: str, taken: set[str] | None = None) -> str | None:
        """The street running (dx, dy) nearest the centre, or nearest on its plus or
        minus side, other than the ``taken`` ones."""
        keys = [k for k in self.groups if (k[1], k[2]) == (dx, dy) and k[0] not in (taken or ())]
        if where == "plus":
            keys = [k for k in keys if self.offset(k) > 0]
        elif where == "minus":
            keys = [k for k in keys if self.offset(k) < 0]
        keys.sort(key=lambda k: (abs(self.offset(k)), k[0]))
        return keys[0][0] if keys else None

    def run(self, name: str, dx: int, dy: int) -> tuple[Stop, ...]:
        """The street's stops for travel in (dx, dy), in travel order."""
        members = self.groups.get((name, dx, dy), [])
        return tuple(sorted(members, key=lambda s: s.x * dx + s.y * dy))


def _ring(streets: _Streets, taken: set[str]) -> _Line | None:
    """Counter-clockwise on the nearest arterials around the centre (other than the
    ``taken`` ones through it): east along the one south of it, north along the one
    east of it, and so on."""
    south, east = streets.pick(1, 0, "minus", taken), streets.pick(0, 1, "plus", taken)
    north, west = streets.pick(-1, 0, "plus", taken), streets.pick(0, -1, "minus", taken)
    if south is None or east is None or north is None or west is None:
        return None
    sides = [
        streets.run(south, 1, 0),
        streets.run(east, 0, 1),
        streets.run(north, -1, 0),
        streets.run(west, 0, -1),
    ]
    if any(len(s) < 2 for s in sides):
        return None
    x_lo, x_hi = _mean(sides[3], "x"), _mean(sides[1], "x")
    y_lo, y_hi = _mean(sides[0], "y"), _mean(sides[2], "y")
    loop = [
        *(s for s in sides[0] if x_lo < s.x < x_hi),
        *(s for s in sides[1] if y_lo < s.y < y_hi),
        *(s for s in sides[2] if x_lo < s.x < x_hi),
        *(s for s in sides[3] if y_lo < s.y < y_hi),
    ]
    if len(loop) < 4:
        return None
    route = TransitRoute("R", AGENCY, "R", f"Ring: {south}, {east}, {north}, {west}", 3, "2ca02c")
    return _Line(route, (tuple([*loop, loop[0]]),), (f"Ring via {loop[len(loop) // 2].name}",))


def _mean(stops: Sequence[Stop], axis: str) -> float:
    return sum(s.x if axis == "x" else s.y for s in stops) / len(stops)


def _street(stop: Stop) -> str:
    """The arterial a city stop lies on: its name is "<arterial> / <cross street>"."""
    return stop.name.split(" / ", 1)[0]
