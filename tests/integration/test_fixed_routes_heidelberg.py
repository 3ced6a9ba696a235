"""The fixed-route service on real data: the VRN Heidelberg feed on the Heidelberg road
network, ETAs from road travel times (CCH), the arrival board at Bismarckplatz.

No services needed; importing the map and the feed takes a few seconds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest

from headway.adapters.gtfs_feed import read_gtfs
from headway.domain.transit import TransitFeed, TransitStop
from headway.domain.vehicles import VehicleState, VehicleStatus
from headway.network.cch_router import CCHRouter
from headway.network.graph import RoadNetwork
from headway.network.osm_import import import_osm
from headway.services.fixed_routes import FixedRouteService, service_day_start
from headway.services.stop_places import RoadTravelTimes, place_stops

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
DAY = dt.date(2022, 6, 24)

pytestmark = pytest.mark.slow


@dataclass
class _Live:
    states: dict[str, VehicleState]

    async def get_many(self, vehicle_ids: list[str]) -> list[VehicleState | None]:
        return [self.states.get(v) for v in vehicle_ids]


@pytest.fixture(scope="module")
def heidelberg() -> tuple[TransitFeed, RoadNetwork]:
    network, _ = import_osm(SHARED / "osm" / "heidelberg.osm.pbf")
    feed, _ = place_stops(read_gtfs(SHARED / "gtfs" / "vrn-heidelberg-cut.gtfs.zip"), network)
    return feed, network


def _at(network: RoadNetwork, stop: TransitStop, vehicle: str, ts: float) -> VehicleState:
    assert stop.place is not None
    return VehicleState(
        id=vehicle, manufacturer="sim", ts=ts, last_seen=ts, x=stop.place.x, y=stop.place.y,
        lat=stop.lat, lon=stop.lon, heading_rad=0.0, speed_mps=8.0, battery_pct=90.0,
        charging=False, driving=True, status=VehicleStatus.DRIVING,
    )  # fmt: skip


async def test_a_tracked_tram_gets_road_etas_on_the_board(
    heidelberg: tuple[TransitFeed, RoadNetwork],
) -> None:
    feed, network = heidelberg
    trips = {t.id: t for t in feed.trips_on(DAY)}
    # The first trip of a block whose stops all lie on the map.
    block = next(
        b
        for b in feed.blocks_on(DAY)
        if all(feed.stops[s].place is not None for s in trips[b.trip_ids[0]].stop_ids)
    )
    trip = trips[block.trip_ids[0]]
    day_start = service_day_start(DAY, feed.timezone)
    now = [day_start + trip.start_s - 60.0]
    live = _Live({})
    service = FixedRouteService(
        feed, live, None, RoadTravelTimes(network, CCHRouter(network)), clock=lambda: now[0]
    )
    plan = service.start_day(DAY, [f"v{i}" for i in range(200)])
    vehicle = next(v for v, blocks in plan.items() if blocks and blocks[0].id == block.id)
    assert service.progress(vehicle).trip == trip  # type: ignore[union-attr]

    # At the first stop: arrived.
    first, second = feed.stops[trip.stop_ids[0]], feed.stops[trip.stop_ids[1]]
    now[0] = day_start + trip.start_s
    live.states[vehicle] = _at(network, first, vehicle, now[0])
    await service.step()
    assert service.progress(vehicle).at_stop  # type: ignore[union-attr]
    # Halfway to the second stop: departed, and that stop's ETA is a road drive time.
    assert first.place is not None
    assert second.place is not None
    mid = (first.place.x + second.place.x) / 2.0, (first.place.y + second.place.y) / 2.0
    lat, lon = network.frame.to_wgs84(*mid)
    now[0] += 20.0
    live.states[vehicle] = VehicleState(
        id=vehicle, manufacturer="sim", ts=now[0], last_seen=now[0], x=mid[0], y=mid[1],
        lat=lat, lon=lon, heading_rad=0.0, speed_mps=8.0, battery_pct=90.0, charging=False,
        driving=True, status=VehicleStatus.DRIVING,
    )  # fmt: skip
    await service.step()
    progress = service.progress(vehicle)
    assert progress is not None
    assert progress.next_index == 1
    board = service.board.arrivals(second.id, 50)
    mine = next(a for a in board if a.trip_id == trip.id)
    assert mine.vehicle_id == vehicle
    assert mine.predicted is not None
    # A few hundred metres at most at city speeds: well under ten minutes, not now.
    assert now[0] < mine.predicted < now[0] + 600.0


async def test_bismarckplatz_board_by_schedule(heidelberg: tuple[TransitFeed, RoadNetwork]) -> None:
    feed, _ = heidelberg
    day_start = service_day_start(DAY, feed.timezone)
    eight = day_start + 8 * 3600.0
    service = FixedRouteService(feed, _Live({}), None, clock=lambda: eight)
    service.start_day(DAY, [f"v{i}" for i in range(200)])
    stops = [s.id for s in feed.stops.values() if "Bismarckplatz" in s.name]
    assert stops
    arrivals = [a for s in stops for a in service.board.arrivals(s, 20)]
    assert arrivals
    assert all(eight <= a.scheduled <= eight + 3 * 3600 for a in arrivals)
    for stop in stops:
        times = [a.expected for a in service.board.arrivals(stop, 20)]
        assert times == sorted(times)
    routes = {feed.routes[a.route_id].name for a in arrivals}
    assert routes  # trams and buses of the cut that serve it
