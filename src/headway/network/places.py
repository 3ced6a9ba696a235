"""Plausible stops, depots and chargers for a network that came without them (an OSM
import), so the demo and the planners can run on any city.

Stops go along the main roads (OSM primary, secondary and tertiary) about every
STOP_SPACING_M in each direction, each at a junction on its side of the road. Depots and
chargers go at nodes picked by farthest-point sampling, which spreads them over the
whole map: depots from the edge of the city inwards, chargers from its centre outwards.
Everything is deterministic for a given network.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from headway.network.graph import Charger, Depot, RoadClass, RoadNetwork, Stop

STOP_SPACING_M = 400.0
_STOP_CLASSES = frozenset({RoadClass.ARTERIAL, RoadClass.COLLECTOR})
_HUB_CLASSES = frozenset({RoadClass.ARTERIAL, RoadClass.COLLECTOR, RoadClass.RESIDENTIAL})
_DEPOT_CAPACITY = 40
_CHARGER_PLUGS = 4
_CHARGER_KW = 150.0


def derive_places(
    network: RoadNetwork,
) -> tuple[list[Stop], list[Depot], list[Charger]]:
    """Stops, depots and chargers for the network, as described in the module doc."""
    stops = _stops(network)
    km = network.road_km
    n_depots = int(min(6, max(2, round(km / 150.0))))
    n_chargers = int(min(16, max(4, round(km / 40.0))))
    hubs = _nodes_on(network, _HUB_CLASSES)
    centre = network.node_xy.mean(axis=0)
    far = int(hubs[np.argmax(np.hypot(*(network.node_xy[hubs] - centre).T))])
    near = int(hubs[np.argmin(np.hypot(*(network.node_xy[hubs] - centre).T))])
    depots = [
        Depot(
            f"depot-{k + 1}",
            f"{_street(network, node) or 'Fleet'} Depot",
            float(network.node_xy[node, 0]),
            float(network.node_xy[node, 1]),
            node,
            _DEPOT_CAPACITY,
        )
        for k, node in enumerate(_spread(network.node_xy, hubs, far, n_depots))
    ]
    chargers = [
        Charger(
            f"charger-{k + 1:02d}",
            f"{_street(network, node) or 'Central'} Charging Hub",
            float(network.node_xy[node, 0]),
            float(network.node_xy[node, 1]),
            node,
            _CHARGER_PLUGS,
            _CHARGER_KW,
        )
        for k, node in enumerate(_spread(network.node_xy, hubs, near, n_chargers))
    ]
    return stops, depots, chargers


def _stops(network: RoadNetwork) -> list[Stop]:
    cell = STOP_SPACING_M
    grid: dict[tuple[int, int], list[tuple[float, float, float]]] = {}
    stops: list[Stop] = []
    min_gap2 = (0.9 * STOP_SPACING_M) ** 2
    for e in range(network.n_edges):
        if network.edge_class[e] not in _STOP_CLASSES:
            continue
        node = int(network.edge_dst[e])
        x, y = (float(v) for v in network.node_xy[node])
        _, _, heading = network.position_at(e, float(network.edge_length_m[e]))
        cx, cy = int(x // cell), int(y // cell)
        clash = False
        for gx in (cx - 1, cx, cx + 1):
            for gy in (cy - 1, cy, cy + 1):
                for ox, oy, oh in grid.get((gx, gy), ()):
                    same_way = math.cos(oh - heading) > 0.0
                    if same_way and (ox - x) ** 2 + (oy - y) ** 2 < min_gap2:
                        clash = True
        if clash:
            continue
        grid.setdefault((cx, cy), []).append((x, y, heading))
        road = network.edge_name[e]
        cross = _street(network, node, avoid=road)
        name = f"{road} / {cross}" if road and cross else road or cross
        stops.append(
            Stop(f"stop-{len(stops) + 1:04d}", name or f"Stop {len(stops) + 1}", x, y, node, e)
        )
    return stops


def _nodes_on(network: RoadNetwork, classes: frozenset[RoadClass]) -> NDArray[np.int64]:
    on = np.array([c in classes for c in network.edge_class], dtype=bool)
    nodes = np.unique(np.concatenate((network.edge_src[on], network.edge_dst[on])))
    if len(nodes) == 0:
        nodes = np.arange(network.n_nodes)
    return nodes.astype(np.int64)


def _spread(
    xy: NDArray[np.float64], candidates: NDArray[np.int64], first: int, count: int
) -> list[int]:
    """Farthest-point sampling: each next pick is the candidate farthest from all picks."""
    pts = xy[candidates]
    picked = [first]
    gap = np.hypot(*(pts - xy[first]).T)
    while len(picked) < min(count, len(candidates)):
        best = int(np.argmax(gap))
        if gap[best] <= 0.0:
            break
        picked.append(int(candidates[best]))
        gap = np.minimum(gap, np.hypot(*(pts - pts[best]).T))
    return picked


def _street(network: RoadNetwork, node: int, avoid: str = "") -> str:
    """The name of a road at node, other than avoid; '' when none has one."""
    for e in (*network.in_edges(node).tolist(), *network.out_edges(node).tolist()):
        name = str(network.edge_name[e])
        if name and name != avoid:
            return name
    return ""
