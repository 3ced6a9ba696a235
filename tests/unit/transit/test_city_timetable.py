"""The synthetic city's timetable: lines on the network's own stops, deterministic from
the city's seed, running round the clock, sized to the vehicles it is given."""

from __future__ import annotations

import datetime as dt
import itertools
import math

import pytest

from headway.network.cch_router import CCHRouter
from headway.network.city import CityParams, generate_city
from headway.network.graph import RoadNetwork
from headway.services.city_timetable import (
    CityTimetable,
    CityTimetableParams,
    city_timetable,
    fit_headway,
)

DAY = dt.date(2026, 3, 4)


@pytest.fixture(scope="module")
def city() -> tuple[RoadNetwork, CCHRouter]:
    network = generate_city(CityParams(seed=7))
    return network, CCHRouter(network)


@pytest.fixture(scope="module")
def timetable(city: tuple[RoadNetwork, CCHRouter]) -> CityTimetable:
    return city_timetable(*city)


def _stops(timetable: CityTimetable, route_id: str, direction: int) -> tuple[str, ...]:
    trip = next(
        t
        for t in timetable.feed.trips.values()
        if t.route_id == route_id and t.direction_id == direction
    )
    return trip.stop_ids


def test_three_lines_on_the_networks_own_stops(
    city: tuple[RoadNetwork, CCHRouter], timetable: CityTimetable
) -> None:
    network, _ = city
    feed = timetable.feed
    assert sorted(feed.routes) == ["1", "2", "R"]
    assert feed.routes["2"].long_name == "Main Street"
    by_id = {s.id: s for s in network.stops}
    for stop in feed.stops.values():
        assert stop.id in by_id  # the commands' translator knows every one
        assert stop.place is not None
        assert stop.place.distance_m < 10.0
    for route_id in ("1", "2"):
        there, back = _stops(timetable, route_id, 0), _stops(timetable, route_id, 1)
        assert len(there) >= 10
        assert len(back) >= 10
        # Straight along one street: every stop further on in the direction of travel.
        axis = "y" if route_id == "1" else "x"
        along = [getattr(by_id[s], axis) for s in there]
        assert along == sorted(along)
        back_along = [getattr(by_id[s], axis) for s in back]
        assert back_along == sorted(back_along, reverse=True)
        # ... through the town centre.
        assert min(abs(getattr(by_id[s], "x" if axis == "y" else "y")) for s in there) < 300
    ring = _stops(timetable, "R", 0)
    assert ring[0] == ring[-1]
    assert len(set(ring)) == len(ring) - 1
    assert not any(t.direction_id == 1 for t in feed.trips.values() if t.route_id == "R")


def test_trips_every_headway_round_the_clock(timetable: CityTimetable) -> None:
    feed = timetable.feed
    trips = feed.trips_on(DAY)
    assert len(trips) == len(feed.trips)  # every day
    starts = sorted(t.start_s for t in trips if t.route_id == "1" and t.direction_id == 0)
    assert starts[0] == 4 * 3600
    assert starts[-1] < 28 * 3600
    assert {b - a for a, b in itertools.pairwise(starts)} == {timetable.headway_s}
    for trip in trips[:20]:
        assert all(a <= d for a, d in zip(trip.arrivals, trip.departures, strict=True))
        assert list(trip.arrivals) == sorted(trip.arrivals)
        assert trip.timepoints[0]
        assert trip.timepoints[-1]
        assert trip.stop_ids[0] in timetable.control_stops
        assert trip.stop_ids[-1] not in timetable.control_stops or trip.route_id == "R"


def test_the_same_seed_gives_the_same_timetable(
    city: tuple[RoadNetwork, CCHRouter], timetable: CityTimetable
) -> None:
    again = city_timetable(*city)
    assert again.feed.trips == timetable.feed.trips
    assert again.control_stops == timetable.control_stops
    other = generate_city(CityParams(seed=8))
    different = city_timetable(other, CCHRouter(other))
    assert different.feed.trips != timetable.feed.trips


@pytest.mark.parametrize("vehicles", [8, 20, 40])
def test_the_headway_is_fitted_to_the_vehicles(
    city: tuple[RoadNetwork, CCHRouter], vehicles: int
) -> None:
    fitted = city_timetable(*city, CityTimetableParams(vehicles=vehicles))
    needed = sum(math.ceil(c / fitted.headway_s) for c in fitted.cycle_s.values())
    assert needed <= vehicles
    assert fitted.headway_s % 60 == 0
    if fitted.headway_s > 180:  # a minute less would need more vehicles than given
        shorter = sum(math.ceil(c / (fitted.headway_s - 60)) for c in fitted.cycle_s.values())
        assert shorter > vehicles
    blocks = fitted.feed.blocks_on(DAY)
    assert len(blocks) <= vehicles


def test_fit_headway_bounds() -> None:
    params = CityTimetableParams(min_headway_s=180, max_headway_s=1800)
    assert fit_headway([3000, 3000], 1000, params) == 180
    assert fit_headway([3000, 3000], 1, params) == 1800
    assert fit_headway([3600], 6, params) == 600
