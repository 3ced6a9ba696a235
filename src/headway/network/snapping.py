"""Nearest-road queries over the edge polylines of a road network.

A k-d tree holds points sampled every few metres along every edge segment. The sample
nearest to a query point bounds the distance to the nearest road, so only segments with
a sample inside that bound (plus half the sample spacing) can hold the answer: a snap
costs one tree query, one small ball query and an exact point-to-segment test on a
handful of candidates, whatever the size of the network.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

SAMPLE_SPACING_M = 10.0
"""Distance between sample points along a segment; smaller is faster to query, bigger
to build."""

HEADING_PENALTY_M = 25.0
"""Extra distance charged to a road running against the given heading. A position fix
is moved to a road up to this much farther away if that road agrees with the direction
of travel, which picks the right carriageway of a two-way road without ever jumping to
a distant street."""

_TIE_M = 1e-9
_NEIGHBOURS = 16


@dataclass(frozen=True, slots=True)
class SegmentHit:
    """The closest point of one edge segment to a query point."""

    segment: int
    edge: int
    offset_m: float
    distance_m: float
    x: float
    y: float


class EdgeIndex:
    """Spatial index over the straight segments that make up each edge's shape."""

    def __init__(
        self, shape_xy: FloatArray, shape_offsets: IntArray, shape_cum_m: FloatArray
    ) -> None:
        n_edges = len(shape_offsets) - 1
        counts = np.diff(shape_offsets)
        point_edge = np.repeat(np.arange(n_edges, dtype=np.int64), counts)
        # A segment starts at every shape point except each edge's last one.
        is_start = np.ones(len(shape_xy), dtype=bool)
        is_start[shape_offsets[1:] - 1] = False
        starts = np.flatnonzero(is_start)
        self.seg_a = shape_xy[starts]
        self.seg_b = shape_xy[starts + 1]
        self.seg_edge = point_edge[starts]
        self.seg_offset_m = shape_cum_m[starts]
        delta = self.seg_b - self.seg_a
        self.seg_dx = delta[:, 0].copy()
        self.seg_dy = delta[:, 1].copy()
        self.seg_len2 = self.seg_dx * self.seg_dx + self.seg_dy * self.seg_dy
        self.seg_heading = np.arctan2(self.seg_dy, self.seg_dx)

        pieces = np.maximum(1, np.ceil(np.sqrt(self.seg_len2) / SAMPLE_SPACING_M)).astype(np.int64)
        per_seg = pieces + 1
        sample_seg = np.repeat(np.arange(len(starts), dtype=np.int64), per_seg)
        first = np.cumsum(per_seg) - per_seg
        step = np.arange(len(sample_seg), dtype=np.int64) - np.repeat(first, per_seg)
        t = step / np.repeat(pieces, per_seg)
        samples = self.seg_a[sample_seg] + t[:, None] * delta[sample_seg]
        self._sample_seg = sample_seg
        self._half_spacing = float(
            np.max(np.sqrt(self.seg_len2) / pieces) / 2.0 if len(pieces) else 0.0
        )
        self._tree = cKDTree(samples)
        self._n_samples = len(samples)

    def nearest(self, x: float, y: float, heading_rad: float | None = None) -> SegmentHit:
        """The segment closest to (x, y), charging HEADING_PENALTY_M to roads that run
        against heading_rad (radians, counter-clockwise from east) when it is given."""
        d0, _ = self._tree.query((x, y))
        radius = float(d0) + self._half_spacing + 1e-6
        if heading_rad is not None:
            radius += HEADING_PENALTY_M
        found = self._tree.query_ball_point((x, y), radius)
        segs = np.unique(self._sample_seg[np.asarray(found, dtype=np.int64)])
        dist, t = self._distances(np.float64(x), np.float64(y), segs)
        score = dist
        if heading_rad is not None:
            agreement = np.cos(self.seg_heading[segs] - heading_rad)
            score = dist + HEADING_PENALTY_M * (1.0 - agreement) / 2.0
        pick = int(np.flatnonzero(score <= score.min() + _TIE_M)[0])
        return self._hit(int(segs[pick]), float(t[pick]), float(dist[pick]))

    def within(
        self, x: float, y: float, radius_m: float
    ) -> tuple[IntArray, FloatArray, FloatArray, FloatArray]:
        """Every edge with a point within radius_m of (x, y): edge ids, the offset of
        each edge's closest point, its distance and the edge's heading there, nearest
        first."""
        found = self._tree.query_ball_point((x, y), radius_m + self._half_spacing)
        if not found:
            return (np.empty(0, dtype=np.int64), np.empty(0), np.empty(0), np.empty(0))
        segs = np.unique(self._sample_seg[np.asarray(found, dtype=np.int64)])
        dist, t = self._distances(np.float64(x), np.float64(y), segs)
        order = np.lexsort((self.seg_edge[segs], dist))
        segs, dist, t = segs[order], dist[order], t[order]
        edges = self.seg_edge[segs]
        _, first = np.unique(edges, return_index=True)
        first = np.sort(first)
        first = first[dist[first] <= radius_m]
        picked = segs[first]
        offsets = self.seg_offset_m[picked] + t[first] * np.sqrt(self.seg_len2[picked])
        return edges[first], offsets, dist[first], self.seg_heading[picked]

    def within_many(
        self, xy: FloatArray, radius_m: float
    ) -> list[tuple[IntArray, FloatArray, FloatArray, FloatArray]]:
        """within() for each row of xy, in one pass: the same answers, at a fraction
        of the cost per point (one tree query and a few array operations for all of
        them, where within() pays numpy's per-call overhead some thirty times a point)."""
        n = len(xy)
        if n == 0:
            return []
        # For many points the tree answers an object array of lists.
        found: list[list[int]] = list(
            self._tree.query_ball_point(xy, radius_m + self._half_spacing)  # type: ignore[arg-type]
        )
        counts = np.fromiter((len(f) for f in found), dtype=np.int64, count=n)
        flat = np.fromiter(itertools.chain.from_iterable(found), np.int64, int(counts.sum()))
        n_segs = len(self.seg_edge)
        # Each (point, segment) once, by point then segment, as within() has them.
        key = np.unique(
            np.repeat(np.arange(n, dtype=np.int64), counts) * n_segs + self._sample_seg[flat]
        )
        owner, segs = key // n_segs, key % n_segs
        dist, t = self._distances(xy[owner, 0], xy[owner, 1], segs)
        edges = self.seg_edge[segs]
        # The nearest segment of each (point, edge): first by distance, then segment.
        order = np.lexsort((dist, edges, owner))
        owner, segs, dist, t, edges = owner[order], segs[order], dist[order], t[order], edges[order]
        first = np.ones(len(owner), dtype=bool)
        first[1:] = (owner[1:] != owner[:-1]) | (edges[1:] != edges[:-1])
        keep = first & (dist <= radius_m)
        owner, segs, dist, t, edges = owner[keep], segs[keep], dist[keep], t[keep], edges[keep]
        # Per point, nearest first (ties by edge id).
        order = np.lexsort((edges, dist, owner))
        owner, segs, dist, t, edges = owner[order], segs[order], dist[order], t[order], edges[order]
        offsets = self.seg_offset_m[segs] + t * np.sqrt(self.seg_len2[segs])
        headings = self.seg_heading[segs]
        bounds = np.searchsorted(owner, np.arange(n + 1)).tolist()
        return [
            (edges[a:b], offsets[a:b], dist[a:b], headings[a:b])
            for a, b in itertools.pairwise(bounds)
        ]

    def nearest_many(self, xy: FloatArray) -> IntArray:
        """Edge ids nearest to each row of xy, the same as nearest() without heading."""
        n = len(xy)
        if n == 0:
            return np.empty(0, dtype=np.int64)
        k = min(_NEIGHBOURS, self._n_samples)
        d, i = self._tree.query(xy, k=k)
        d = np.asarray(d, dtype=np.float64).reshape(n, k)
        i = np.asarray(i, dtype=np.int64).reshape(n, k)
        segs = self._sample_seg[i]
        dist, _ = self._distances(xy[:, 0:1], xy[:, 1:2], segs)
        best = dist.min(axis=1, keepdims=True)
        big = np.iinfo(np.int64).max
        chosen = np.where(dist <= best + _TIE_M, segs, big).min(axis=1)
        edges: IntArray = self.seg_edge[chosen]
        # Rows whose k nearest samples may miss a candidate fall back to the exact query.
        if k < self._n_samples:
            unsure = np.flatnonzero(d[:, -1] <= d[:, 0] + self._half_spacing + 1e-6)
            for row in unsure:
                edges[row] = self.nearest(float(xy[row, 0]), float(xy[row, 1])).edge
        return edges

    def _distances(
        self,
        px: np.float64 | FloatArray,
        py: np.float64 | FloatArray,
        segs: IntArray,
    ) -> tuple[FloatArray, FloatArray]:
        ax = self.seg_a[segs, 0]
        ay = self.seg_a[segs, 1]
        dx = self.seg_dx[segs]
        dy = self.seg_dy[segs]
        len2 = self.seg_len2[segs]
        safe = np.where(len2 > 0.0, len2, 1.0)
        t = np.clip(((px - ax) * dx + (py - ay) * dy) / safe, 0.0, 1.0)
        ex = ax + t * dx - px
        ey = ay + t * dy - py
        return np.sqrt(ex * ex + ey * ey), t

    def _hit(self, seg: int, t: float, dist: float) -> SegmentHit:
        ax, ay = float(self.seg_a[seg, 0]), float(self.seg_a[seg, 1])
        dx, dy = float(self.seg_dx[seg]), float(self.seg_dy[seg])
        return SegmentHit(
            segment=seg,
            edge=int(self.seg_edge[seg]),
            offset_m=float(self.seg_offset_m[seg]) + t * math.sqrt(float(self.seg_len2[seg])),
            distance_m=dist,
            x=ax + t * dx,
            y=ay + t * dy,
        )
