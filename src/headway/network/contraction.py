"""Customizable contraction hierarchies (RoutingKit's CCH, through routingkit-cch).

Three phases, as the technique intends: a node order and the hierarchy's topology are
computed once per network (`ContractionIndex`, metric-independent, ~0.5 s for a city);
customisation binds one set of edge weights to it (milliseconds for a whole city, so
live traffic is applied by customising again); queries then settle only a few hundred
nodes up the hierarchy.

RoutingKit works in unsigned 32-bit integers. Weights are travel times in a unit chosen
per customisation so that no shortest path can exceed 2**30 units (see `_unit`), which
for a city is a few microseconds: route times are then summed again from the float
edge times along the path found, so they match a float Dijkstra exactly whenever the
path is the same, and to within the unit per edge when two paths tie that closely.
Matrices are integer sums times the unit.

Threading: the index and each customised metric are immutable and shared; RoutingKit's
query objects hold per-query labels, so each thread keeps its own (thread-local), made
again when the metric it was built for has been replaced.
"""

from __future__ import annotations

import atexit
import ctypes
import math
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import routingkit_cch as rk
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import csr_array
from scipy.sparse.csgraph import connected_components, dijkstra

from headway.network.errors import UnknownNodeError
from headway.network.graph import RoadNetwork

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

_INF_WEIGHT = 2**31 - 1
"""RoutingKit's infinity (`inf_weight`): an arc of this weight is never used."""
_MAX_DISTANCE = 2**30
"""Largest total a shortest path may reach in integer units, half of RoutingKit's
infinity, so no sum can overflow into it."""


class ContractionIndex:
    """The metric-independent part of a CCH for one network: node order and topology."""

    def __init__(self, network: RoadNetwork) -> None:
        self.network = network
        tail = network.edge_src.tolist()
        head = network.edge_dst.tolist()
        latlon = network.frame.to_wgs84_many(network.node_xy)
        order = rk.compute_order_inertial(
            network.n_nodes, tail, head, latlon[:, 0].tolist(), latlon[:, 1].tolist()
        )
        self.cch: Any = rk.CCH(order, tail, head, False)

    def customise(self, weights: ArrayLike) -> Metric:
        """Bind per-edge weights (finite and >= 0, or inf for a closed edge)."""
        return Metric(self, np.asarray(weights, dtype=np.float64))


class Metric:
    """One customisation: float weights, the integer unit, RoutingKit's metric.
    Immutable once built, so threads share it."""

    __slots__ = ("handle", "index", "unit", "weights")

    def __init__(self, index: ContractionIndex, weights: FloatArray) -> None:
        w = np.array(weights, dtype=np.float64, copy=True)
        if np.isnan(w).any() or (w < 0).any():
            raise ValueError("CCH weights must be >= 0 (inf closes an edge)")
        w.flags.writeable = False
        self.index = index
        self.weights = w
        self.unit = _unit(index.network, w)
        ints = np.where(np.isfinite(w), np.rint(w / self.unit), _INF_WEIGHT)
        ints = np.minimum(ints, _INF_WEIGHT).astype(np.int64)
        self.handle: Any = rk.CCHMetric(index.cch, ints.tolist())

    def path(self, query: Any, origin: int, target: int) -> list[int] | None:
        """Edge ids of a shortest path, None when target is unreachable."""
        result = query.run(origin, target)
        try:
            if result.distance is None:
                return None
            arcs: list[int] = result.arc_path
            return arcs
        finally:
            del result  # RoutingKit refuses the next run while a result is alive

    def to_seconds(self, distances: Sequence[int | None]) -> FloatArray:
        return np.array(
            [math.inf if d is None else d * self.unit for d in distances], dtype=np.float64
        )


def _unit(network: RoadNetwork, w: FloatArray) -> float:
    """Seconds (or metres) per integer unit, so every shortest path stays below
    _MAX_DISTANCE units.

    Bound: pick a node v in the largest strongly connected component L under these
    weights; any two nodes of L are at most max d(., v) + max d(v, .) apart. A
    shortest path enters and leaves L at most once (it could not come back to L
    without its middle being part of L), so adding every weight of an edge not inside
    L bounds any shortest path at all.
    """
    finite = np.isfinite(w)
    if not finite.any():
        return 1.0
    matrix = network.sparse_matrix(np.where(finite, w, np.inf))
    _, labels = connected_components(matrix, directed=True, connection="strong")
    big = np.argmax(np.bincount(labels))
    inside = labels == big
    v = int(np.flatnonzero(inside)[0])
    forward = dijkstra(matrix, directed=True, indices=np.array([v]))[0]
    backward = dijkstra(csr_array(matrix.T), directed=True, indices=np.array([v]))[0]
    spread = float(forward[inside].max() + backward[inside].max())
    in_l = inside[network.edge_src] & inside[network.edge_dst]
    outside = float(w[finite & ~in_l].sum())
    bound = spread + outside
    return max(bound, float(w[finite].max(initial=0.0)), 1e-9) * 1.001 / _MAX_DISTANCE


class _Queries(threading.local):
    metric: Metric | None = None
    query: Any = None
    targets: tuple[Metric | None, tuple[int, ...]] = (None, ())
    one_to_many: Any = None


_PINNED: dict[tuple[int, int, str], Any] = {}
"""RoutingKit's query objects may only be dropped on the thread that made them (PyO3
``unsendable``: dropped elsewhere they raise). A thread-local value can be released on
any thread (when the thread ends, or when its owner is collected elsewhere), so each
query is also held here under (thread, owner, kind) and let go only on its own thread:
when replaced there, or when its owner is collected there. Queries of threads that end
stay pinned: a bounded cost, thread pools reuse their threads."""


def _keep_at_exit() -> None:
    """At exit the interpreter clears _PINNED on this thread, and every query another
    thread made would raise as it is dropped (an error printed per query). Those are
    given one more reference each, so they last as long as the process does."""
    me = threading.get_ident()
    for (thread, _, _), query in list(_PINNED.items()):
        if thread != me:
            ctypes.pythonapi.Py_IncRef(ctypes.py_object(query))


atexit.register(_keep_at_exit)


class CCHQueries:
    """Per-thread RoutingKit query objects for one metric at a time."""

    def __init__(self) -> None:
        self._local = _Queries()

    def point(self, metric: Metric) -> Any:
        local = self._local
        if local.metric is not metric:
            local.query = None  # drop the old query before building on the new metric
            local.query = self._pin("point", rk.CCHQuery(metric.handle))
            local.metric = metric
        return local.query

    def one_to_many(self, metric: Metric, targets: IntArray) -> Any:
        local = self._local
        key = (metric, tuple(targets.tolist()))
        if local.targets[0] is metric and local.targets[1] == key[1]:
            return local.one_to_many
        if local.targets[0] is metric and local.one_to_many is not None:
            local.one_to_many.repin_targets(list(key[1]))
        else:
            local.one_to_many = None
            local.one_to_many = self._pin(
                "one_to_many", rk.CCHOneToMany(metric.handle, list(key[1]))
            )
        local.targets = key
        return local.one_to_many

    def _pin(self, kind: str, query: Any) -> Any:
        _PINNED[(threading.get_ident(), id(self), kind)] = query
        return query

    def __del__(self) -> None:
        me, owner = threading.get_ident(), id(self)
        for key in [k for k in list(_PINNED) if k[0] == me and k[1] == owner]:
            _PINNED.pop(key, None)


def check_nodes(nodes: ArrayLike, n_nodes: int) -> IntArray:
    ids = np.asarray(nodes, dtype=np.int64).reshape(-1)
    bad = ids[(ids < 0) | (ids >= n_nodes)]
    if len(bad):
        raise UnknownNodeError(int(bad[0]), n_nodes)
    return ids
