"""The fast Router: customizable contraction hierarchies behind the `Router` port.

Point-to-point routes with their edges, one-to-many and many-to-many travel-time
matrices on the CCH; one-to-all stays on scipy's Dijkstra, which is what that question
needs. Live traffic is one factor per edge, as in DijkstraRouter; `set_traffic`
customises the hierarchy again (tens of milliseconds for a city) and swaps the result in.

Threading: as DijkstraRouter. Each query reads the current weights once; set_traffic
builds the new ones aside and publishes them with a single assignment. Query objects
are per thread (contraction.CCHQueries).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import csr_array

from headway.network.contraction import CCHQueries, ContractionIndex, Metric, check_nodes
from headway.network.graph import RoadNetwork
from headway.network.routing import Route, TrafficRouter, one_to_all, traffic_times

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class _Weights:
    factors: FloatArray
    edge_time_s: FloatArray
    metric: Metric
    matrix: csr_array
    reverse: csr_array


class CCHRouter(TrafficRouter[_Weights]):
    """Exact fastest routes and travel-time matrices on a contraction hierarchy."""

    def __init__(
        self,
        network: RoadNetwork,
        traffic: ArrayLike | None = None,
        index: ContractionIndex | None = None,
    ) -> None:
        self._network = network
        self._n = network.n_nodes
        self._index = index or ContractionIndex(network)
        self._queries = CCHQueries()
        self._weights = self._build(traffic)

    @property
    def index(self) -> ContractionIndex:
        """The metric-independent hierarchy, to share with other metrics (lengths)."""
        return self._index

    def route(self, origin: int, target: int) -> Route | None:
        self._check(origin)
        self._check(target)
        if origin == target:
            return Route((origin,), (), 0.0, 0.0)
        weights = self._weights
        query = self._queries.point(weights.metric)
        arcs = weights.metric.path(query, origin, target)
        if arcs is None:
            return None
        net = self._network
        edges = tuple(arcs)
        nodes = (origin, *net.edge_dst[arcs].tolist())
        time_s = 0.0
        for t in weights.edge_time_s[arcs].tolist():
            time_s += t  # summed in path order, as DijkstraRouter does
        return Route(nodes, edges, time_s, float(net.edge_length_m[arcs].sum()))

    def travel_time(self, origin: int, target: int) -> float:
        """Seconds from origin to target (inf when unreachable)."""
        route = self.route(origin, target)
        return math.inf if route is None else route.time_s

    def travel_times_from(self, origin: int, limit_s: float = math.inf) -> FloatArray:
        """(n_nodes,) seconds from origin; inf where unreachable or beyond limit_s."""
        self._check(origin)
        return one_to_all(self._weights.matrix, origin, limit_s)

    def travel_times_to(self, target: int, limit_s: float = math.inf) -> FloatArray:
        """(n_nodes,) seconds from every node to target; inf where it cannot be reached."""
        self._check(target)
        return one_to_all(self._weights.reverse, target, limit_s)

    def travel_times_one_to_many(self, origin: int, targets: ArrayLike) -> FloatArray:
        """(len(targets),) seconds from origin to each target."""
        row: FloatArray = self.travel_time_matrix([origin], targets)[0]
        return row

    def travel_time_matrix(self, origins: ArrayLike, targets: ArrayLike) -> FloatArray:
        """(len(origins), len(targets)) seconds; inf where a target is unreachable."""
        sources = check_nodes(origins, self._n)
        sinks = check_nodes(targets, self._n)
        out = np.empty((len(sources), len(sinks)), dtype=np.float64)
        if len(sinks) == 0:
            return out
        metric = self._weights.metric
        sweep = self._queries.one_to_many(metric, sinks)
        for i, s in enumerate(sources.tolist()):
            out[i] = metric.to_seconds(sweep.distances_from(s))
        return out

    def _build(self, factors: ArrayLike | None) -> _Weights:
        factor, times = traffic_times(self._network, factors)
        matrix = self._network.sparse_matrix(times)
        return _Weights(
            factors=factor,
            edge_time_s=times,
            metric=self._index.customise(times),
            matrix=matrix,
            reverse=csr_array(matrix.T),
        )
