"""Where a passenger can board: the stop nearest to a requested point, within walking
distance. Stops are the meeting points of the on-demand service, as in most demand-
responsive transit: a vehicle never stops in the middle of a road for a rider."""

from __future__ import annotations

import math

import numpy as np
from scipy.spatial import KDTree

from headway.domain.rides import Place
from headway.network.graph import RoadNetwork, Stop


class StopFinder:
    def __init__(self, network: RoadNetwork, max_walk_m: float = 600.0) -> None:
        if not network.stops:
            raise ValueError("the network has no stops: on-demand rides need meeting points")
        self.network = network
        self._stops = network.stops
        self._tree = KDTree(np.array([(s.x, s.y) for s in self._stops], dtype=np.float64))
        self.max_walk_m = max_walk_m
        self._by_node: dict[int, Stop] = {}
        for stop in self._stops:
            self._by_node.setdefault(int(stop.node), stop)

    def place(self, lat: float, lon: float) -> Place | None:
        """The stop serving (lat, lon), or None when no stop is within walking distance
        (the point is outside the service area)."""
        x, y = self.network.frame.from_wgs84(lat, lon)
        if not (math.isfinite(x) and math.isfinite(y)):
            return None
        distance, index = self._tree.query((x, y))
        if not math.isfinite(float(distance)) or float(distance) > self.max_walk_m:
            return None
        stop = self._stops[int(index)]
        stop_lat, stop_lon = self.network.frame.to_wgs84(stop.x, stop.y)
        return Place(
            lat=lat,
            lon=lon,
            stop_id=stop.id,
            stop_name=stop.name,
            node=int(stop.node),
            walk_m=round(float(distance), 1),
            stop_lat=stop_lat,
            stop_lon=stop_lon,
        )

    def stop_at(self, node: int) -> Stop | None:
        """A stop on ``node`` (the first one if several face each other there)."""
        return self._by_node.get(node)

    def stop_near(self, node: int) -> Stop:
        """The stop closest to ``node``: where a vehicle sent toward a node waits."""
        stop = self._by_node.get(node)
        if stop is not None:
            return stop
        x, y = self.network.node_xy[node]
        _, index = self._tree.query((float(x), float(y)))
        return self._stops[int(index)]

    def latlon(self, place_node: int) -> tuple[float, float]:
        x, y = self.network.node_xy[place_node]
        return self.network.frame.to_wgs84(float(x), float(y))
