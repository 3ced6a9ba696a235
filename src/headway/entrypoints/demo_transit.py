"""The demo's fixed routes: the synthetic city's lines, or a real GTFS feed on an
imported map, made ready to be driven live; and the figures for the headless report.

A GTFS feed needs two things before its trips can be sent as orders. Its stops must be
stops the commands' translator knows: each stop placed on the road network becomes a
network stop with the feed's id, served at the road node nearest its place, and the
stop's position is moved onto that node (a vehicle driven by an order stops at the
node, and is tracked there). Trips with a stop off the map are left out. And its dates
are usually past: the demo runs the trips of a service day of the feed on the same
weekday as today (the busiest such), as if it were today.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from headway.domain.transit import TransitFeed, TransitStop
from headway.network.graph import RoadNetwork, Stop
from headway.network.routing import Router
from headway.services.city_timetable import CityTimetableParams, city_timetable
from headway.services.fixed_routes import FixedRouteService, FixedRouteSetup
from headway.services.stop_places import place_stops


@dataclass(frozen=True, slots=True)
class DemoTransit:
    network: RoadNetwork
    """The network the platform runs on: with the feed's stops added for a GTFS feed."""
    setup: FixedRouteSetup
    headway_s: int | None = None
    """The synthetic lines' headway, fitted to the vehicles."""


def fixed_route_setup(
    network: RoadNetwork,
    router: Router,
    vehicles: int,
    gtfs: str | None = None,
    holding: bool = True,
) -> DemoTransit:
    if gtfs is None:
        timetable = city_timetable(network, router, CityTimetableParams(vehicles=vehicles))
        setup = FixedRouteSetup(timetable.feed, vehicles, timetable.control_stops, holding=holding)
        return DemoTransit(network, setup, timetable.headway_s)
    from headway.adapters.gtfs_feed import read_gtfs

    feed, network = drivable_feed(read_gtfs(gtfs), network)
    setup = FixedRouteSetup(feed, vehicles, None, replay_day(feed), holding)
    return DemoTransit(network, setup)


def drivable_feed(feed: TransitFeed, network: RoadNetwork) -> tuple[TransitFeed, RoadNetwork]:
    """The feed's trips whose every stop lies on the map, with those stops moved onto
    the road node they are served at, and the network with them as stops."""
    placed, _ = place_stops(feed, network)
    known = {s.id for s in network.stops}
    on_map: dict[str, TransitStop] = {}
    added: list[Stop] = []
    for stop in placed.stops.values():
        place = stop.place
        if place is None or stop.id in known:
            continue
        x, y = (float(v) for v in network.node_xy[place.node])
        lat, lon = network.frame.to_wgs84(x, y)
        on_map[stop.id] = replace(stop, lat=round(lat, 7), lon=round(lon, 7), place=None)
        arriving = int(network.edge_dst[place.edge]) == place.node
        added.append(Stop(stop.id, stop.name, x, y, place.node, place.edge if arriving else None))
    trips = {
        trip_id: trip
        for trip_id, trip in feed.trips.items()
        if all(s in on_map for s in trip.stop_ids)
    }
    used = {s for trip in trips.values() for s in trip.stop_ids}
    kept = replace(
        feed,
        stops={s: on_map[s] for s in sorted(used)},
        trips=trips,
        frequencies=tuple(f for f in feed.frequencies if f.trip_id in trips),
    )
    kept, _ = place_stops(kept, network)
    stops = [*network.stops, *(s for s in added if s.id in used)]
    return kept, network.with_places(stops, network.depots, network.chargers)


def replay_day(feed: TransitFeed, today: dt.date | None = None) -> dt.date | None:
    """The feed's service day to run today: today if the feed runs then, else its
    busiest day on today's weekday, else its busiest day."""
    today = today or dt.date.today()
    days = feed.service_days()
    if not days or today in days:
        return None
    counts: dict[str, int] = {}
    for trip in feed.trips.values():
        counts[trip.service_id] = counts.get(trip.service_id, 0) + 1
    same = [d for d in days if d.weekday() == today.weekday()] or days
    return max(same, key=lambda d: (sum(counts.get(s, 0) for s in feed.services_on(d)), d))


def fixed_route_report(service: FixedRouteService) -> dict[str, Any]:
    """The headless report's ``fixed_routes`` entry."""
    stats = service.stats
    cv = service.observed_headway_cv()
    recent = service.observed_headway_cv(window_s=1800.0)
    return {
        "vehicles": len(service.vehicle_ids),
        "routes": len(service.feed.routes),
        "blocks_unassigned": stats.blocks_unassigned,
        "trips_sent": stats.trips_sent,
        "trips_completed": stats.trips_completed,
        "releases_sent": stats.releases_sent,
        "holds_sent": stats.holds_issued,
        "holds_by_reason": dict(stats.holds_by_reason),
        "mean_hold_s": round(stats.held_s / stats.holds_issued, 1) if stats.holds_issued else None,
        "command_failures": stats.order_failures + stats.hold_failures,
        "stop_events": stats.stop_events,
        "headway_cv": None if cv is None else round(cv, 3),
        "headway_cv_last_30_min": None if recent is None else round(recent, 3),
    }
