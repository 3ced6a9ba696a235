"""Shortest travel-time routes on the road network.

`Router` is the port the dispatcher and the simulator depend on; `DijkstraRouter` is the
plain engine behind it, exact and simple enough to check faster engines against.
Live traffic enters as one factor per edge multiplying its free-flow time; a factor of
infinity closes the road.

Threading: a router is read by many threads and updated by one. set_traffic builds the
new weights aside and swaps them in with a single assignment, so a query sees either the
old traffic or the new one, never a mix.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import csr_array
from scipy.sparse.csgraph import dijkstra

from headway.network.errors import InvalidTrafficError, OutsideMapError, UnknownNodeError
from headway.network.graph import RoadNetwork

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Route:
    """A path through the network: `edges[i]` runs from `nodes[i]` to `nodes[i + 1]`."""

    nodes: tuple[int, ...]
    edges: tuple[int, ...]
    time_s: float
    length_m: float


class Router(Protocol):
    """Answers travel-time questions on one road network."""

    def route(self, origin: int, target: int) -> Route | None:
        """The fastest route from node origin to node target, None when unreachable."""
        ...

    def travel_times_from(self, origin: int) -> np.ndarray:
        """(n_nodes,) seconds from origin to every node, inf where unreachable."""
        ...


class _TrafficState(Protocol):
    @property
    def factors(self) -> FloatArray: ...

    @property
    def edge_time_s(self) -> FloatArray: ...


W = TypeVar("W", bound=_TrafficState)


class TrafficRouter(Generic[W]):
    """What every router shares: one network, and one consistent traffic state (W: the
    factors and whatever the engine derives from them) that set_traffic builds aside and
    swaps in with a single assignment, so a query sees the old traffic or the new."""

    _network: RoadNetwork
    _n: int
    _weights: W

    @property
    def network(self) -> RoadNetwork:
        return self._network

    @property
    def traffic(self) -> FloatArray:
        """The per-edge factors in force (read-only, 1.0 means free flow)."""
        return self._weights.factors

    @property
    def edge_time_s(self) -> FloatArray:
        """Per-edge travel times with the current traffic applied (read-only)."""
        return self._weights.edge_time_s

    def set_traffic(self, factors: ArrayLike | None) -> None:
        """Apply per-edge factors multiplying edge_time_s (None restores free flow)."""
        self._weights = self._build(factors)

    def _build(self, factors: ArrayLike | None) -> W:
        raise NotImplementedError

    def _check(self, node: int) -> None:
        if not 0 <= node < self._n:
            raise UnknownNodeError(node, self._n)


@dataclass(frozen=True, slots=True)
class _Weights:
    """One consistent traffic state: per-edge factors and everything derived from them."""

    factors: FloatArray
    edge_time_s: FloatArray
    slot_time_s: list[float]
    matrix: csr_array
    reverse: csr_array


class DijkstraRouter(TrafficRouter[_Weights]):
    """Binary-heap Dijkstra over the network's CSR arrays, stopping at the target."""

    def __init__(self, network: RoadNetwork, traffic: ArrayLike | None = None) -> None:
        self._network = network
        self._n = network.n_nodes
        # Plain lists: indexing them in the search loop is several times faster than
        # indexing numpy arrays one element at a time.
        self._offsets: list[int] = network.out_offsets.tolist()
        self._slot_edge: list[int] = network.out_edge_ids.tolist()
        self._slot_head: list[int] = network.edge_dst[network.out_edge_ids].tolist()
        self._edge_src: list[int] = network.edge_src.tolist()
        self._weights = self._build(traffic)

    def route(self, origin: int, target: int) -> Route | None:
        self._check(origin)
        self._check(target)
        weights = self._weights
        if origin == target:
            return Route((origin,), (), 0.0, 0.0)
        offsets, heads, cost = self._offsets, self._slot_head, weights.slot_time_s
        best = [math.inf] * self._n
        via = [-1] * self._n
        settled = bytearray(self._n)
        best[origin] = 0.0
        heap = [(0.0, origin)]
        pop, push = heapq.heappop, heapq.heappush
        while heap:
            d, u = pop(heap)
            if settled[u]:
                continue
            if u == target:
                return self._unwind(origin, target, via, weights)
            settled[u] = 1
            for slot in range(offsets[u], offsets[u + 1]):
                v = heads[slot]
                nd = d + cost[slot]
                if nd < best[v]:
                    best[v] = nd
                    via[v] = slot
                    push(heap, (nd, v))
        return None

    def travel_times_from(self, origin: int, limit_s: float = math.inf) -> FloatArray:
        """(n_nodes,) seconds from origin; inf where unreachable or beyond limit_s."""
        self._check(origin)
        return _one_to_all(self._weights.matrix, origin, limit_s)

    def travel_times_to(self, target: int, limit_s: float = math.inf) -> FloatArray:
        """(n_nodes,) seconds from every node to target, e.g. from each vehicle to a
        pickup; inf where target cannot be reached or is beyond limit_s."""
        self._check(target)
        return _one_to_all(self._weights.reverse, target, limit_s)

    def _unwind(self, origin: int, target: int, via: list[int], weights: _Weights) -> Route:
        slots: list[int] = []
        node = target
        while node != origin:
            slot = via[node]
            slots.append(slot)
            node = self._edge_src[self._slot_edge[slot]]
        slots.reverse()
        edges = tuple(self._slot_edge[s] for s in slots)
        nodes = (origin, *(self._slot_head[s] for s in slots))
        time_s = 0.0
        for s in slots:
            time_s += weights.slot_time_s[s]
        length = float(self._network.edge_length_m[list(edges)].sum())
        return Route(nodes, edges, time_s, length)

    def _build(self, factors: ArrayLike | None) -> _Weights:
        net = self._network
        f, times = traffic_times(net, factors)
        matrix = net.sparse_matrix(times)
        return _Weights(
            factors=f,
            edge_time_s=times,
            slot_time_s=times[net.out_edge_ids].tolist(),
            matrix=matrix,
            reverse=csr_array(matrix.T),
        )


def traffic_times(network: RoadNetwork, factors: ArrayLike | None) -> tuple[FloatArray, FloatArray]:
    """Checked, read-only per-edge factors (None: free flow) and the edge times they give."""
    if factors is None:
        f = np.ones(network.n_edges, dtype=np.float64)
    else:
        f = np.array(factors, dtype=np.float64, copy=True)
        if f.shape != (network.n_edges,):
            raise InvalidTrafficError(
                f"traffic needs one factor per edge, shape ({network.n_edges},); got {f.shape}"
            )
        if np.isnan(f).any() or (f <= 0).any():
            raise InvalidTrafficError(
                "traffic factors must be above 0 (1 is free flow, inf closes the road)"
            )
    f.flags.writeable = False
    times = network.edge_time_s * f
    times.flags.writeable = False
    return f, times


def route_geometry(network: RoadNetwork, route: Route) -> FloatArray:
    """(k, 2) polyline of the route in frame metres, edge shapes joined end to end."""
    if not route.edges:
        return network.node_xy[list(route.nodes)].copy()
    parts = [network.edge_shape(e) for e in route.edges]
    return np.concatenate([parts[0], *(p[1:] for p in parts[1:])])


def one_to_all(matrix: csr_array, source: int, limit_s: float) -> FloatArray:
    """Seconds from source to every node over a csgraph matrix (scipy's Dijkstra)."""
    return _one_to_all(matrix, source, limit_s)


def _one_to_all(matrix: csr_array, source: int, limit_s: float) -> FloatArray:
    times = dijkstra(matrix, directed=True, indices=np.array([source]), limit=limit_s)
    return np.asarray(times[0], dtype=np.float64)


def route_between_points(
    network: RoadNetwork,
    router: Router,
    a: tuple[float, float],
    b: tuple[float, float],
    max_snap_m: float = math.inf,
) -> Route | None:
    """The fastest route between two points given in frame metres.

    Each point is moved to the nearest road and then to that road's nearer end node;
    the route runs node to node. A point farther than max_snap_m from every road
    raises OutsideMapError.
    """
    origin = road_node_near(network, *a, max_snap_m=max_snap_m)
    target = road_node_near(network, *b, max_snap_m=max_snap_m)
    return router.route(origin, target)


def road_node_near(network: RoadNetwork, x: float, y: float, max_snap_m: float = math.inf) -> int:
    """The nearer end of the road closest to (x, y); OutsideMapError past max_snap_m."""
    hit = network.snap(x, y)
    if hit.distance_m > max_snap_m:
        lat, lon = network.frame.to_wgs84(x, y)
        raise OutsideMapError(
            f"({lat:.6f}, {lon:.6f}) is {hit.distance_m:,.0f} m from the nearest road of map "
            f"{network.frame.map_id!r} (at most {max_snap_m:,.0f} m allowed); "
            "is it inside the map?"
        )
    if hit.offset_m <= network.edge_length_m[hit.edge] / 2.0:
        return int(network.edge_src[hit.edge])
    return int(network.edge_dst[hit.edge])
