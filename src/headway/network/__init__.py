"""Road network: synthetic city, map frame, road graph, routing and GeoJSON export.

Pure Python and numeric libraries; no I/O. Build a network once (generate_city or an
import), share it read-only, and ask a Router for routes on it.
"""

from headway.network.city import DEFAULT_CITY, CityParams, generate_city
from headway.network.connectivity import largest_strong_component, strong_components
from headway.network.errors import (
    InvalidNetworkError,
    InvalidTrafficError,
    NetworkError,
    UnknownEdgeError,
    UnknownNodeError,
)
from headway.network.frame import MapFrame
from headway.network.geojson import network_geojson
from headway.network.graph import (
    DEFAULT_SPEED_KMH,
    Charger,
    Depot,
    RoadClass,
    RoadNetwork,
    Snap,
    Stop,
)
from headway.network.routing import DijkstraRouter, Route, Router, route_between_points

__all__ = [
    "DEFAULT_CITY",
    "DEFAULT_SPEED_KMH",
    "Charger",
    "CityParams",
    "Depot",
    "DijkstraRouter",
    "InvalidNetworkError",
    "InvalidTrafficError",
    "MapFrame",
    "NetworkError",
    "RoadClass",
    "RoadNetwork",
    "Route",
    "Router",
    "Snap",
    "Stop",
    "UnknownEdgeError",
    "UnknownNodeError",
    "generate_city",
    "largest_strong_component",
    "network_geojson",
    "route_between_points",
    "strong_components",
]
