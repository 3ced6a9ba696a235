"""The road graph every other part of Headway plans, routes and matches positions on.

A RoadNetwork is built once (from the synthetic city or an OSM import) and then only
read, by many threads at once: its arrays are read-only, adjacency is kept as CSR arrays
so routers can walk it without Python objects per edge, and spatial queries go through
k-d trees built at construction.

Edges are directed. A two-way road is two edges, one per direction, that share a
geometry (each other's `edge_twin`); a one-way road is one edge with `edge_oneway` set.
Headings are radians counter-clockwise from the frame's x axis (east), as in VDA 5050.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from os import PathLike
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import csr_array
from scipy.spatial import cKDTree

from headway.network.errors import (
    InvalidNetworkError,
    NetworkError,
    UnknownEdgeError,
    UnknownNodeError,
)
from headway.network.frame import MapFrame
from headway.network.snapping import EdgeIndex

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
Int32Array = NDArray[np.int32]
BoolArray = NDArray[np.bool_]
_A = TypeVar("_A", bound=np.ndarray[Any, Any])


class RoadClass(StrEnum):
    """Functional class of a road, from the fastest to the slowest."""

    MOTORWAY = "motorway"
    TRUNK = "trunk"
    ARTERIAL = "arterial"
    COLLECTOR = "collector"
    RESIDENTIAL = "residential"
    LIVING_STREET = "living_street"
    SERVICE = "service"


DEFAULT_SPEED_KMH: Mapping[RoadClass, float] = MappingProxyType(
    {
        RoadClass.MOTORWAY: 100.0,
        RoadClass.TRUNK: 80.0,
        RoadClass.ARTERIAL: 50.0,
        RoadClass.COLLECTOR: 40.0,
        RoadClass.RESIDENTIAL: 30.0,
        RoadClass.LIVING_STREET: 10.0,
        RoadClass.SERVICE: 20.0,
    }
)
"""Speed limit assumed for a class when the source data gives none."""


@dataclass(frozen=True, slots=True)
class Stop:
    """A transit stop at a kerb.

    `edge`, when known, is the edge arriving at `node` on the stop's side of the road,
    so the two stops facing each other across a two-way street can be told apart.
    """

    id: str
    name: str
    x: float
    y: float
    node: int
    edge: int | None = None


@dataclass(frozen=True, slots=True)
class Depot:
    """Where vehicles are stored overnight; `capacity` is in vehicles."""

    id: str
    name: str
    x: float
    y: float
    node: int
    capacity: int


@dataclass(frozen=True, slots=True)
class Charger:
    """A charging station with `plugs` plugs of `power_kw` each."""

    id: str
    name: str
    x: float
    y: float
    node: int
    plugs: int
    power_kw: float


@dataclass(frozen=True, slots=True)
class Snap:
    """The nearest point on a road: `offset_m` along `edge` from its start, `distance_m`
    away from the query point, at (x, y)."""

    edge: int
    offset_m: float
    distance_m: float
    x: float
    y: float


class RoadNetwork:
    """Immutable directed road graph in a MapFrame.

    Edge lengths are the lengths of the edge shapes and edge times are length over
    speed, so they can never disagree with the geometry.
    """

    frame: MapFrame
    node_xy: FloatArray
    edge_src: Int32Array
    edge_dst: Int32Array
    edge_length_m: FloatArray
    edge_speed_mps: FloatArray
    edge_time_s: FloatArray
    edge_class: list[RoadClass]
    edge_name: list[str]
    edge_oneway: BoolArray
    edge_twin: Int32Array
    """The edge running the other way along the same road, or -1."""
    stops: tuple[Stop, ...]
    depots: tuple[Depot, ...]
    chargers: tuple[Charger, ...]
    out_offsets: IntArray
    """CSR: the edges leaving node v are out_edge_ids[out_offsets[v]:out_offsets[v + 1]]."""
    out_edge_ids: Int32Array
    in_offsets: IntArray
    in_edge_ids: Int32Array
    shape_xy: FloatArray
    """All edge shapes end to end; edge e is shape_xy[shape_offsets[e]:shape_offsets[e + 1]]."""
    shape_offsets: IntArray

    def __init__(
        self,
        frame: MapFrame,
        node_xy: ArrayLike,
        edge_src: ArrayLike,
        edge_dst: ArrayLike,
        edge_speed_mps: ArrayLike,
        edge_class: Sequence[RoadClass],
        edge_name: Sequence[str],
        edge_oneway: ArrayLike,
        *,
        edge_shapes: Sequence[ArrayLike] | None = None,
        stops: Sequence[Stop] = (),
        depots: Sequence[Depot] = (),
        chargers: Sequence[Charger] = (),
    ) -> None:
        self.frame = frame
        self.node_xy = _frozen(np.array(node_xy, dtype=np.float64, copy=True))
        if self.node_xy.ndim != 2 or self.node_xy.shape[1] != 2 or len(self.node_xy) == 0:
            raise InvalidNetworkError("node_xy must be a non-empty (n_nodes, 2) array")
        if not np.isfinite(self.node_xy).all():
            raise InvalidNetworkError("node_xy holds NaN or infinite coordinates")
        n_nodes = len(self.node_xy)
        self.edge_src = _frozen(np.array(edge_src, dtype=np.int32, copy=True))
        self.edge_dst = _frozen(np.array(edge_dst, dtype=np.int32, copy=True))
        n_edges = len(self.edge_src)
        self.edge_speed_mps = _frozen(np.array(edge_speed_mps, dtype=np.float64, copy=True))
        self.edge_oneway = _frozen(np.array(edge_oneway, dtype=bool, copy=True))
        self.edge_class = [RoadClass(c) for c in edge_class]
        self.edge_name = [str(n) for n in edge_name]
        for name, arr_len in (
            ("edge_dst", len(self.edge_dst)),
            ("edge_speed_mps", len(self.edge_speed_mps)),
            ("edge_oneway", len(self.edge_oneway)),
            ("edge_class", len(self.edge_class)),
            ("edge_name", len(self.edge_name)),
        ):
            if arr_len != n_edges:
                raise InvalidNetworkError(f"{name} has {arr_len} entries for {n_edges} edges")
        for name, ids in (("edge_src", self.edge_src), ("edge_dst", self.edge_dst)):
            if n_edges and (ids.min() < 0 or ids.max() >= n_nodes):
                raise InvalidNetworkError(f"{name} refers to nodes outside 0..{n_nodes - 1}")
        if not (np.isfinite(self.edge_speed_mps).all() and (self.edge_speed_mps > 0).all()):
            raise InvalidNetworkError("every edge needs a finite speed above 0 m/s")

        self.shape_xy, self.shape_offsets = self._pack_shapes(edge_shapes)
        seg = np.diff(self.shape_xy, axis=0)
        seg_len = np.hypot(seg[:, 0], seg[:, 1])
        seg_len[self.shape_offsets[1:-1] - 1] = 0.0  # no segment between consecutive edges
        cum = np.concatenate(([0.0], np.cumsum(seg_len)))
        self._shape_cum_m = _frozen(
            cum - np.repeat(cum[self.shape_offsets[:-1]], np.diff(self.shape_offsets))
        )
        self.edge_length_m = _frozen(cum[self.shape_offsets[1:] - 1] - cum[self.shape_offsets[:-1]])
        if n_edges and not (self.edge_length_m > 0).all():
            bad = int(np.flatnonzero(self.edge_length_m <= 0)[0])
            raise InvalidNetworkError(f"edge {bad} has zero length; drop it or move its nodes")
        self.edge_time_s = _frozen(self.edge_length_m / self.edge_speed_mps)

        self.out_offsets, self.out_edge_ids = _csr(self.edge_src, n_nodes)
        self.in_offsets, self.in_edge_ids = _csr(self.edge_dst, n_nodes)
        self.edge_twin = _frozen(self._find_twins())

        self.stops = tuple(stops)
        self.depots = tuple(depots)
        self.chargers = tuple(chargers)
        self._check_places()

        self._node_tree = cKDTree(self.node_xy)
        self._edge_index = EdgeIndex(self.shape_xy, self.shape_offsets, self._shape_cum_m)

    @property
    def n_nodes(self) -> int:
        return len(self.node_xy)

    @property
    def n_edges(self) -> int:
        return len(self.edge_src)

    @classmethod
    def load(cls, path: str | PathLike[str]) -> RoadNetwork:
        """Read a network file (see storage.py); NetworkFileError when that fails."""
        from headway.network.storage import load_network

        return load_network(path)

    def save(self, path: str | PathLike[str], meta: Mapping[str, Any] | None = None) -> Path:
        """Write the network to a network file (see storage.py); returns its path."""
        from headway.network.storage import save_network

        return save_network(self, path, dict(meta or {}))

    @property
    def road_km(self) -> float:
        """Kilometres of road, each two-way road counted once."""
        once = (self.edge_twin < 0) | (np.arange(self.n_edges) < self.edge_twin)
        return float(self.edge_length_m[once].sum()) / 1000.0

    def with_places(
        self,
        stops: Sequence[Stop] = (),
        depots: Sequence[Depot] = (),
        chargers: Sequence[Charger] = (),
    ) -> RoadNetwork:
        """The same roads with other stops, depots and chargers; the read-only arrays and
        indexes are shared, not rebuilt."""
        other = copy.copy(self)
        other.stops = tuple(stops)
        other.depots = tuple(depots)
        other.chargers = tuple(chargers)
        other._check_places()
        return other

    def edge_shape(self, edge: int) -> FloatArray:
        """(k, 2) polyline of the edge in frame metres, from its source to its target."""
        self._check_edge(edge)
        return self.shape_xy[self.shape_offsets[edge] : self.shape_offsets[edge + 1]]

    def out_edges(self, node: int) -> Int32Array:
        """Ids of the edges leaving node."""
        self._check_node(node)
        return self.out_edge_ids[self.out_offsets[node] : self.out_offsets[node + 1]]

    def in_edges(self, node: int) -> Int32Array:
        """Ids of the edges arriving at node."""
        self._check_node(node)
        return self.in_edge_ids[self.in_offsets[node] : self.in_offsets[node + 1]]

    def nearest_node(self, x: float, y: float) -> int:
        """The node closest to (x, y), as the crow flies."""
        _, i = self._node_tree.query((x, y))
        return int(i)

    def nearest_road_node(self, x: float, y: float) -> int:
        """The nearer end of the road closest to (x, y).

        Unlike nearest_node this never picks a node of a street that is close in a
        straight line but only reachable the long way round (across a park, say).
        """
        hit = self.snap(x, y)
        if hit.offset_m <= self.edge_length_m[hit.edge] / 2.0:
            return int(self.edge_src[hit.edge])
        return int(self.edge_dst[hit.edge])

    def snap(self, x: float, y: float, heading_rad: float | None = None) -> Snap:
        """The nearest point on a road; with heading_rad, roads running the same way
        are preferred (see snapping.HEADING_PENALTY_M)."""
        self._check_has_roads()
        hit = self._edge_index.nearest(float(x), float(y), heading_rad)
        return Snap(hit.edge, hit.offset_m, hit.distance_m, hit.x, hit.y)

    def roads_within(
        self, x: float, y: float, radius_m: float
    ) -> tuple[IntArray, FloatArray, FloatArray]:
        """Edges passing within radius_m of (x, y), nearest first: (edge ids, offset of
        each edge's closest point along it, distance to it)."""
        edges, offsets, dists, _ = self.roads_within_headings(x, y, radius_m)
        return edges, offsets, dists

    def roads_within_headings(
        self, x: float, y: float, radius_m: float
    ) -> tuple[IntArray, FloatArray, FloatArray, FloatArray]:
        """As roads_within, plus each edge's heading at its closest point (radians,
        counter-clockwise from east)."""
        self._check_has_roads()
        return self._edge_index.within(float(x), float(y), float(radius_m))

    def roads_within_headings_many(
        self, xy: ArrayLike, radius_m: float
    ) -> list[tuple[IntArray, FloatArray, FloatArray, FloatArray]]:
        """roads_within_headings for each (x, y) row, in one pass."""
        pts = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        self._check_has_roads()
        return self._edge_index.within_many(np.ascontiguousarray(pts), float(radius_m))

    def snap_many(self, xy: ArrayLike) -> IntArray:
        """(n,) ids of the edges nearest to each (x, y) row; ties resolve as in snap."""
        pts = np.asarray(xy, dtype=np.float64)
        if pts.ndim != 2 or pts.shape[1] != 2:
            raise ValueError(f"xy must have shape (n, 2), got {pts.shape}")
        self._check_has_roads()
        return self._edge_index.nearest_many(np.ascontiguousarray(pts))

    def position_at(self, edge: int, offset_m: float) -> tuple[float, float, float]:
        """x, y and heading offset_m metres along the edge (clamped to the edge)."""
        self._check_edge(edge)
        start = int(self.shape_offsets[edge])
        stop = int(self.shape_offsets[edge + 1])
        length = float(self.edge_length_m[edge])
        offset = min(max(float(offset_m), 0.0), length)
        if stop - start == 2:
            seg = start
        else:
            cum = self._shape_cum_m[start:stop]
            seg = start + min(int(np.searchsorted(cum, offset, side="right")) - 1, stop - start - 2)
            while seg < stop - 2 and cum[seg - start + 1] == cum[seg - start]:
                seg += 1  # step over repeated points, which have no direction
        ax, ay = self.shape_xy[seg]
        bx, by = self.shape_xy[seg + 1]
        seg_len = math.hypot(bx - ax, by - ay)
        t = 0.0 if seg_len == 0.0 else (offset - float(self._shape_cum_m[seg])) / seg_len
        t = min(max(t, 0.0), 1.0)
        return (
            float(ax + t * (bx - ax)),
            float(ay + t * (by - ay)),
            math.atan2(float(by - ay), float(bx - ax)),
        )

    def sparse_matrix(self, weights: ArrayLike | None = None) -> csr_array:
        """(n_nodes, n_nodes) matrix for scipy.sparse.csgraph, by default of edge times.

        Parallel edges keep their smallest weight (scipy would add them up) and edges
        with an infinite weight are left out.
        """
        w = self.edge_time_s if weights is None else np.asarray(weights, dtype=np.float64)
        if w.shape != (self.n_edges,):
            raise ValueError(f"weights must have shape ({self.n_edges},), got {w.shape}")
        keep = np.isfinite(w)
        src, dst, w = self.edge_src[keep], self.edge_dst[keep], w[keep]
        order = np.lexsort((w, dst, src))
        src, dst, w = src[order], dst[order], w[order]
        first = np.ones(len(src), dtype=bool)
        first[1:] = (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])
        return csr_array((w[first], (src[first], dst[first])), shape=(self.n_nodes, self.n_nodes))

    def _pack_shapes(self, edge_shapes: Sequence[ArrayLike] | None) -> tuple[FloatArray, IntArray]:
        n_edges = len(self.edge_src)
        if edge_shapes is None:
            xy = np.empty((2 * n_edges, 2), dtype=np.float64)
            xy[0::2] = self.node_xy[self.edge_src]
            xy[1::2] = self.node_xy[self.edge_dst]
            offsets = np.arange(0, 2 * n_edges + 1, 2, dtype=np.int64)
            return _frozen(xy), _frozen(offsets)
        if len(edge_shapes) != n_edges:
            raise InvalidNetworkError(
                f"edge_shapes has {len(edge_shapes)} entries for {n_edges} edges"
            )
        shapes = [np.asarray(s, dtype=np.float64) for s in edge_shapes]
        for e, s in enumerate(shapes):
            if s.ndim != 2 or s.shape[1] != 2 or len(s) < 2:
                raise InvalidNetworkError(f"the shape of edge {e} must be a (k >= 2, 2) array")
            ends = np.array([self.node_xy[self.edge_src[e]], self.node_xy[self.edge_dst[e]]])
            if np.abs(s[[0, -1]] - ends).max() > 0.01:
                raise InvalidNetworkError(
                    f"the shape of edge {e} must start at its source node and end at its target"
                )
        offsets = np.zeros(n_edges + 1, dtype=np.int64)
        np.cumsum([len(s) for s in shapes], out=offsets[1:])
        xy = np.concatenate(shapes) if shapes else np.empty((0, 2), dtype=np.float64)
        if not np.isfinite(xy).all():
            raise InvalidNetworkError("edge_shapes hold NaN or infinite coordinates")
        return _frozen(xy), _frozen(offsets)

    def _find_twins(self) -> Int32Array:
        """Pair each two-way edge u->v with a v->u edge that has the reversed shape."""
        twin = np.full(self.n_edges, -1, dtype=np.int32)
        waiting: dict[tuple[int, int], list[int]] = {}
        for e in np.flatnonzero(~self.edge_oneway).tolist():
            u, v = int(self.edge_src[e]), int(self.edge_dst[e])
            if u == v:
                continue
            partners = waiting.get((v, u))
            if partners:
                shape = self.edge_shape(e)[::-1]
                for i, f in enumerate(partners):
                    other = self.edge_shape(f)
                    if other.shape == shape.shape and np.allclose(other, shape, atol=0.01):
                        twin[e], twin[f] = f, e
                        del partners[i]
                        break
                else:
                    waiting.setdefault((u, v), []).append(e)
            else:
                waiting.setdefault((u, v), []).append(e)
        return twin

    def _check_places(self) -> None:
        for kind, places in (
            ("stop", self.stops),
            ("depot", self.depots),
            ("charger", self.chargers),
        ):
            seen: set[str] = set()
            for p in places:
                if p.id in seen:
                    raise InvalidNetworkError(f"{kind} id {p.id!r} is used twice")
                seen.add(p.id)
                if not 0 <= p.node < self.n_nodes:
                    raise InvalidNetworkError(f"{kind} {p.id!r} refers to missing node {p.node}")
        for s in self.stops:
            if s.edge is not None and not (
                0 <= s.edge < self.n_edges and int(self.edge_dst[s.edge]) == s.node
            ):
                raise InvalidNetworkError(f"stop {s.id!r}: edge {s.edge} does not end at its node")

    def _check_has_roads(self) -> None:
        if len(self.edge_src) == 0:
            raise NetworkError("the network has no roads to snap to")

    def _check_node(self, node: int) -> None:
        if not 0 <= node < len(self.node_xy):
            raise UnknownNodeError(node, len(self.node_xy))

    def _check_edge(self, edge: int) -> None:
        if not 0 <= edge < len(self.edge_src):
            raise UnknownEdgeError(edge, len(self.edge_src))


def _frozen(arr: _A) -> _A:
    """Make arr read-only, so a shared network cannot be changed under its readers."""
    arr.flags.writeable = False
    return arr


def _csr(keys: Int32Array, n_nodes: int) -> tuple[IntArray, Int32Array]:
    order = np.argsort(keys, kind="stable").astype(np.int32)
    offsets = np.zeros(n_nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys, minlength=n_nodes), out=offsets[1:])
    return _frozen(offsets), _frozen(order)
