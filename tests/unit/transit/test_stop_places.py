"""Stops placed on the road, and drive times to them along the road."""

from __future__ import annotations

from pathlib import Path

import pytest

from headway.adapters.gtfs_feed import read_gtfs
from headway.domain.vehicles import VehicleState, VehicleStatus
from headway.network import DijkstraRouter, RoadNetwork
from headway.services.stop_places import RoadTravelTimes, place_stops
from tests.unit.transit.feeds import VALID, changed, write_zip


def _state(network: RoadNetwork, lat: float, lon: float, heading: float) -> VehicleState:
    x, y = network.frame.from_wgs84(lat, lon)
    return VehicleState(
        id="v", manufacturer="t", ts=0.0, last_seen=0.0, x=x, y=y, lat=lat, lon=lon,
        heading_rad=heading, speed_mps=10.0, battery_pct=90.0, charging=False,
        driving=True, status=VehicleStatus.DRIVING,
    )  # fmt: skip


def test_stops_placed_within_the_distance(tmp_path: Path, street: RoadNetwork) -> None:
    stops = VALID["stops.txt"] + "FAR,Far,49.4200,8.7000,,\n"
    feed = read_gtfs(write_zip(tmp_path / "f.zip", changed(stops_txt=stops)))
    placed, report = place_stops(feed, street, max_distance_m=60.0)
    assert report.matched == 4
    assert report.stops == 5
    assert placed.stops["FAR"].place is None  # 1.1 km off the street
    b = placed.stops["B"].place
    assert b is not None
    assert b.distance_m < 1.0
    assert report.median_distance_m is not None
    assert report.median_distance_m < 15.0


def test_drive_time_along_the_street(tmp_path: Path, street: RoadNetwork) -> None:
    feed, _ = place_stops(read_gtfs(write_zip(tmp_path / "f.zip", VALID)), street)
    times = RoadTravelTimes(street, DijkstraRouter(street))
    # From A (8.69 E) heading east to B (8.70 E): 724 m at 10 m/s.
    eastbound = times(_state(street, 49.41, 8.69, 0.0), feed.stops["B"])
    assert eastbound == pytest.approx(72.4, abs=1.0)
    # From C heading west to B: the same distance the other way.
    westbound = times(_state(street, 49.41, 8.71, 3.14159), feed.stops["B"])
    assert westbound == pytest.approx(72.4, abs=1.0)
    # Far from the street: unknown, not a guess.
    assert times(_state(street, 49.45, 8.70, 0.0), feed.stops["B"]) is None
