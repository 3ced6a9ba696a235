"""Following a vehicle along the trips of its block, from its reported positions.

A vehicle *arrives* at the next stop of its trip when it comes within
``arrive_radius_m`` of it, and *departs* when it leaves that circle again. A stop it
passes without a fix inside the circle is marked passed (no time) once the vehicle is
seen at a later stop, up to ``look_ahead`` stops on. When it arrives at the last stop of
a trip, the next trip of its block begins. Delay is the last recorded time against the
schedule.

Pure: positions and times in, stop events out; no I/O, no clock of its own.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from headway.domain.transit import Block, TransitStop, Trip

EARTH_RADIUS_M = 6_371_000.0


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Equirectangular: exact enough below a few kilometres, and cheap."""
    mean_lat = math.radians((lat1 + lat2) / 2.0)
    dx = math.radians(lon2 - lon1) * math.cos(mean_lat)
    dy = math.radians(lat2 - lat1)
    return EARTH_RADIUS_M * math.hypot(dx, dy)


class StopEventKind(StrEnum):
    ARRIVED = "arrived"
    DEPARTED = "departed"


@dataclass(frozen=True, slots=True)
class StopEvent:
    vehicle_id: str
    trip_id: str
    index: int
    """Position of the stop in the trip."""
    stop_id: str
    kind: StopEventKind
    at: float


@dataclass
class TripProgress:
    """Where one vehicle is along its block; owned by the single tracker."""

    vehicle_id: str
    block: Block
    trips: tuple[Trip, ...]
    day_start: float
    """Epoch seconds of the service day's time 0 (GTFS: noon minus twelve hours)."""
    trip_index: int = 0
    next_index: int = 0
    """The stop of the current trip the vehicle is heading for or standing at."""
    at_stop: bool = False
    arrivals: dict[int, float] = field(default_factory=dict)
    departures: dict[int, float] = field(default_factory=dict)
    delay_s: float = 0.0
    last_seen: float = float("-inf")
    """The newest fix applied (vehicle clock); older ones are ignored."""

    @property
    def trip(self) -> Trip | None:
        return self.trips[self.trip_index] if self.trip_index < len(self.trips) else None

    @property
    def finished(self) -> bool:
        return self.trip_index >= len(self.trips)

    def scheduled_arrival(self, index: int) -> float:
        trip = self.trips[self.trip_index]
        return self.day_start + trip.arrivals[index]

    def scheduled_departure(self, index: int) -> float:
        trip = self.trips[self.trip_index]
        return self.day_start + trip.departures[index]


@dataclass(frozen=True, slots=True)
class TrackingRules:
    arrive_radius_m: float = 30.0
    look_ahead: int = 3
    first_stop_first: bool = False
    """A trip starts at its first stop, with no look-ahead: for vehicles sent to their
    trips by orders, which may pass later stops of it on the way to the first."""
    late_join_s: float = 600.0
    """A vehicle put on a block takes up the first trip that ends no more than this
    long before now: it does not start with trips it could no longer drive."""


def start_progress(
    vehicle_id: str,
    block: Block,
    trips: Mapping[str, Trip],
    day_start: float,
    now: float,
    rules: TrackingRules = TrackingRules(),
    by_start: bool = False,
) -> TripProgress:
    """The vehicle's progress from its first trip still to drive: one that ended at most
    ``late_join_s`` ago (a vehicle that is driven anyway), or with ``by_start`` one
    that started at most that long ago (a vehicle that still has to be sent there)."""
    chain = tuple(trips[t] for t in block.trip_ids)
    first = 0
    while first < len(chain) - 1:
        trip = chain[first]
        if day_start + (trip.start_s if by_start else trip.end_s) >= now - rules.late_join_s:
            break
        first += 1
    return TripProgress(vehicle_id, block, chain, day_start, trip_index=first)


def observe(
    progress: TripProgress,
    stops: Mapping[str, TransitStop],
    lat: float,
    lon: float,
    at: float,
    rules: TrackingRules = TrackingRules(),
) -> list[StopEvent]:
    """Advance ``progress`` with one position fix; the stop events it caused."""
    events: list[StopEvent] = []
    progress.last_seen = at
    trip = progress.trip
    if trip is None:
        return events
    current = stops[trip.stop_ids[progress.next_index]]
    inside = distance_m(lat, lon, current.lat, current.lon) <= rules.arrive_radius_m
    if progress.at_stop:
        if inside:
            return events
        progress.at_stop = False
        progress.departures[progress.next_index] = at
        progress.delay_s = at - progress.scheduled_departure(progress.next_index)
        events.append(_event(progress, trip, StopEventKind.DEPARTED, at))
        progress.next_index += 1
        if progress.next_index >= len(trip.stop_ids):
            _next_trip(progress)
            trip = progress.trip
            if trip is None:
                return events
    reached = _reached(progress, trip, stops, lat, lon, rules)
    if reached is None:
        return events
    progress.next_index = reached
    progress.at_stop = True
    progress.arrivals[reached] = at
    progress.delay_s = at - progress.scheduled_arrival(reached)
    events.append(_event(progress, trip, StopEventKind.ARRIVED, at))
    if reached == len(trip.stop_ids) - 1:
        # The end of the trip: the next one starts here (usually at the same terminal).
        _next_trip(progress)
    return events


def _reached(
    progress: TripProgress,
    trip: Trip,
    stops: Mapping[str, TransitStop],
    lat: float,
    lon: float,
    rules: TrackingRules,
) -> int | None:
    last = min(len(trip.stop_ids), progress.next_index + rules.look_ahead + 1)
    if rules.first_stop_first and progress.next_index == 0:
        last = 1
    for index in range(progress.next_index, last):
        stop = stops[trip.stop_ids[index]]
        if distance_m(lat, lon, stop.lat, stop.lon) <= rules.arrive_radius_m:
            return index
    return None


def _next_trip(progress: TripProgress) -> None:
    progress.trip_index += 1
    progress.next_index = 0
    progress.at_stop = False
    progress.arrivals = {}
    progress.departures = {}


def _event(progress: TripProgress, trip: Trip, kind: StopEventKind, at: float) -> StopEvent:
    index = progress.next_index
    return StopEvent(progress.vehicle_id, trip.id, index, trip.stop_ids[index], kind, at)
