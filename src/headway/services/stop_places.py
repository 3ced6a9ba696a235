"""Place a feed's stops on the road network: the nearest road within a distance.

A stop farther than that from every road (the feed covers more than the map, or the
stop is on a railway) keeps no place; fixed-route vehicles can still be tracked to it
by coordinates, but ETAs to it come from the schedule alone.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, replace

from headway.domain.transit import StopPlace, TransitFeed, TransitStop
from headway.domain.vehicles import VehicleState
from headway.network.graph import RoadNetwork
from headway.network.routing import Router

DEFAULT_MAX_DISTANCE_M = 60.0


@dataclass(frozen=True, slots=True)
class MatchReport:
    stops: int
    matched: int
    max_distance_m: float
    median_distance_m: float | None
    """Of the matched stops."""

    def as_dict(self) -> dict[str, object]:
        median = None if self.median_distance_m is None else round(self.median_distance_m, 1)
        return {
            "stops": self.stops,
            "matched": self.matched,
            "within_m": self.max_distance_m,
            "median_distance_m": median,
        }


def place_stops(
    feed: TransitFeed, network: RoadNetwork, max_distance_m: float = DEFAULT_MAX_DISTANCE_M
) -> tuple[TransitFeed, MatchReport]:
    """The feed with each stop's place on ``network`` (or none), and how many matched."""
    placed = {}
    distances: list[float] = []
    for stop_id, stop in feed.stops.items():
        x, y = network.frame.from_wgs84(stop.lat, stop.lon)
        snap = network.snap(x, y)
        if snap.distance_m > max_distance_m:
            placed[stop_id] = replace(stop, place=None)
            continue
        edge = snap.edge
        half = float(network.edge_length_m[edge]) / 2.0
        node = int(network.edge_src[edge] if snap.offset_m <= half else network.edge_dst[edge])
        place = StopPlace(
            x=round(snap.x, 2),
            y=round(snap.y, 2),
            edge=edge,
            offset_m=round(snap.offset_m, 2),
            node=node,
            distance_m=round(snap.distance_m, 2),
        )
        placed[stop_id] = replace(stop, place=place)
        distances.append(snap.distance_m)
    report = MatchReport(
        stops=len(feed.stops),
        matched=len(distances),
        max_distance_m=max_distance_m,
        median_distance_m=statistics.median(distances) if distances else None,
    )
    return replace(feed, stops=placed), report


class RoadTravelTimes:
    """Seconds for a vehicle to drive to a placed stop: the rest of the road it is on,
    the router's fastest path, then the stop's road up to the stop. A stop on a two-way
    road can be reached along either direction; the faster counts."""

    def __init__(self, network: RoadNetwork, router: Router, max_snap_m: float = 50.0) -> None:
        self._network = network
        self._router = router
        self._max_snap_m = max_snap_m

    def __call__(self, state: VehicleState, stop: TransitStop) -> float | None:
        place = stop.place
        if place is None:
            return None
        net = self._network
        hit = net.snap(state.x, state.y, state.heading_rad)
        if hit.distance_m > self._max_snap_m:
            return None
        best = math.inf
        for edge, offset in self._stop_edges(place):
            speed = float(net.edge_speed_mps[edge])
            if edge == hit.edge and hit.offset_m <= offset:
                best = min(best, (offset - hit.offset_m) / speed)
                continue
            rest = (float(net.edge_length_m[hit.edge]) - hit.offset_m) / float(
                net.edge_speed_mps[hit.edge]
            )
            path = self._router.route(int(net.edge_dst[hit.edge]), int(net.edge_src[edge]))
            if path is not None:
                best = min(best, rest + path.time_s + offset / speed)
        return None if math.isinf(best) else best

    def _stop_edges(self, place: StopPlace) -> list[tuple[int, float]]:
        edges = [(place.edge, place.offset_m)]
        twin = int(self._network.edge_twin[place.edge])
        if twin >= 0:
            edges.append((twin, float(self._network.edge_length_m[twin]) - place.offset_m))
        return edges
