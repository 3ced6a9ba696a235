"""Place a feed's stops on the road network: the nearest road within a distance.

A stop farther than that from every road (the feed covers more than the map, or the
stop is on a railway) keeps no place; fixed-route vehicles can still be tracked to it
by coordinates, but ETAs to it come from the schedule alone.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, replace

from headway.domain.transit import StopPlace, TransitFeed
from headway.network.graph import RoadNetwork

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
