"""The slice of ``headway.network`` the simulator reads, as structural types.

The simulator is an external client of the platform: it carries the road map like a real
vehicle would, and needs only these few members of ``RoadNetwork`` and the router. Typing
against Protocols rather than the concrete classes lets the unit tests drive it with a
tiny hand-made map, and keeps the dependency one-way and visible.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, SupportsFloat, SupportsIndex

import numpy as np
from numpy.typing import NDArray


class Place(Protocol):
    """A stop (or depot) on the road map, attached to one road node."""

    @property
    def id(self) -> Any: ...
    @property
    def name(self) -> str: ...
    @property
    def node(self) -> int: ...


class ChargerSite(Place, Protocol):
    @property
    def plugs(self) -> int: ...
    @property
    def power_kw(self) -> float: ...


class Frame(Protocol):
    @property
    def map_id(self) -> str: ...


class RoadMap(Protocol):
    """What a vehicle knows of the road network: nodes, edges, stops and chargers."""

    @property
    def frame(self) -> Frame: ...
    @property
    def node_xy(self) -> NDArray[np.float64]: ...
    @property
    def edge_length_m(self) -> NDArray[np.float64]: ...
    @property
    def edge_speed_mps(self) -> NDArray[np.float64]: ...
    @property
    def edge_src(self) -> NDArray[np.int32]: ...
    @property
    def edge_dst(self) -> NDArray[np.int32]: ...
    @property
    def stops(self) -> Sequence[Place]: ...
    @property
    def chargers(self) -> Sequence[ChargerSite]: ...

    def position_at(self, edge: int, offset_m: float) -> tuple[float, float, float]:
        """``(x, y, heading_rad)`` at ``offset_m`` metres along ``edge``."""
        ...


class RouteLike(Protocol):
    @property
    def nodes(self) -> Sequence[SupportsIndex]: ...
    @property
    def edges(self) -> Sequence[SupportsIndex]: ...
    @property
    def length_m(self) -> float: ...


class TravelTimes(Protocol):
    def __getitem__(self, node: int, /) -> SupportsFloat: ...


class Router(Protocol):
    """Shortest travel-time paths; ``None`` when the target cannot be reached."""

    def route(self, origin: int, target: int, /) -> RouteLike | None: ...

    def travel_times_from(self, origin: int, /) -> TravelTimes: ...
