"""Drawing primitives for the synthetic city: nodes, roads, attachable lines and blocks.

Streets are laid out block by block, yet two blocks sharing a road must meet it at the
same nodes, or the road would be split into overlapping pieces. A `Line` is therefore a
straight road that hands out junction nodes on request (reusing one that is close) and
is only cut into edges once every block has attached to it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal

import numpy as np

from headway.network.graph import RoadClass

Side = Literal["S", "E", "N", "W"]
Point = tuple[float, float]

MIN_ROAD_M = 1.0
"""Roads shorter than this are not drawn: they would be zero-length edges."""


@dataclass(frozen=True, slots=True)
class Road:
    """An undirected road between two nodes, or a one-way road from a to b."""

    a: int
    b: int
    road_class: RoadClass
    name: str
    oneway: bool


class CityBuilder:
    """Collects nodes and roads, then turns them into directed edge arrays."""

    def __init__(self) -> None:
        self.xs: list[float] = []
        self.ys: list[float] = []
        self.roads: list[Road] = []
        self.lines: list[Line] = []

    def node(self, p: Point) -> int:
        self.xs.append(p[0])
        self.ys.append(p[1])
        return len(self.xs) - 1

    def xy(self, node: int) -> Point:
        return self.xs[node], self.ys[node]

    def road(
        self, a: int, b: int, road_class: RoadClass, name: str, *, oneway: bool = False
    ) -> None:
        """Draw a road (one-way from a to b when oneway)."""
        ax, ay = self.xy(a)
        bx, by = self.xy(b)
        if a != b and math.hypot(bx - ax, by - ay) >= MIN_ROAD_M:
            self.roads.append(Road(a, b, road_class, name, oneway))

    def line(self, a: int, b: int, road_class: RoadClass, name: str, *, direction: int = 0) -> Line:
        """A straight road from a to b that blocks can attach to; direction 0 is two-way,
        +1 one-way from a to b, -1 one-way from b to a."""
        line = Line(self, a, b, road_class, name, direction)
        self.lines.append(line)
        return line

    def finish_lines(self) -> None:
        for line in self.lines:
            line.finish()
        self.lines.clear()

    def directed_edges(self) -> DirectedEdges:
        src: list[int] = []
        dst: list[int] = []
        classes: list[RoadClass] = []
        names: list[str] = []
        oneway: list[bool] = []
        for r in self.roads:
            src.append(r.a)
            dst.append(r.b)
            classes.append(r.road_class)
            names.append(r.name)
            oneway.append(r.oneway)
            if not r.oneway:
                src.append(r.b)
                dst.append(r.a)
                classes.append(r.road_class)
                names.append(r.name)
                oneway.append(False)
        return DirectedEdges(
            node_xy=np.column_stack((self.xs, self.ys)).astype(np.float64),
            src=np.asarray(src, dtype=np.int64),
            dst=np.asarray(dst, dtype=np.int64),
            road_class=classes,
            name=names,
            oneway=np.asarray(oneway, dtype=bool),
        )


@dataclass(frozen=True, slots=True)
class DirectedEdges:
    node_xy: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    road_class: list[RoadClass]
    name: list[str]
    oneway: np.ndarray


class Line:
    """A straight road that other roads join at nodes handed out by attach()."""

    def __init__(
        self,
        builder: CityBuilder,
        a: int,
        b: int,
        road_class: RoadClass,
        name: str,
        direction: int,
    ) -> None:
        self._builder = builder
        self.a, self.b = a, b
        self.road_class = road_class
        self.name = name
        self.direction = direction
        self.start = builder.xy(a)
        self.end = builder.xy(b)
        self.length = math.hypot(self.end[0] - self.start[0], self.end[1] - self.start[1])
        self._joints: list[tuple[float, int]] = [(0.0, a), (1.0, b)]

    def point(self, t: float) -> Point:
        return (
            self.start[0] + t * (self.end[0] - self.start[0]),
            self.start[1] + t * (self.end[1] - self.start[1]),
        )

    @property
    def heading(self) -> float:
        """Direction from a to b, radians counter-clockwise from east."""
        return math.atan2(self.end[1] - self.start[1], self.end[0] - self.start[0])

    def attach(self, t: float, min_gap_m: float = 25.0) -> int:
        """The node at fraction t along the line, reusing a joint nearer than min_gap_m."""
        t = min(max(t, 0.0), 1.0)
        gap, node = min((abs(tj - t) * self.length, nj) for tj, nj in self._joints)
        if gap < min_gap_m:
            return node
        node = self._builder.node(self.point(t))
        self._joints.append((t, node))
        return node

    def finish(self) -> None:
        joints = sorted(self._joints)
        for (_, n0), (_, n1) in pairwise(joints):
            if self.direction >= 0:
                self._builder.road(n0, n1, self.road_class, self.name, oneway=self.direction > 0)
            else:
                self._builder.road(n1, n0, self.road_class, self.name, oneway=True)


class Quad:
    """A four-sided block whose sides are (parts of) Lines.

    Points inside are addressed by (s, t) in the unit square, mapped bilinearly onto the
    corners, so streets laid out on a regular pattern follow the block's real shape. The
    S and N sides run with s, the W and E sides with t.
    """

    def __init__(
        self,
        corners: tuple[Point, Point, Point, Point],
        sides: dict[Side, tuple[Line, float, float]],
    ) -> None:
        self.c00, self.c10, self.c11, self.c01 = corners
        self.sides = sides

    def pt(self, s: float, t: float) -> Point:
        w00, w10, w11, w01 = (1 - s) * (1 - t), s * (1 - t), s * t, (1 - s) * t
        return (
            w00 * self.c00[0] + w10 * self.c10[0] + w11 * self.c11[0] + w01 * self.c01[0],
            w00 * self.c00[1] + w10 * self.c10[1] + w11 * self.c11[1] + w01 * self.c01[1],
        )

    def attach(self, side: Side, p: float, min_gap_m: float = 25.0) -> int:
        """The node at fraction p along a side (p runs with s or t)."""
        line, t0, t1 = self.sides[side]
        return line.attach(t0 + p * (t1 - t0), min_gap_m)

    def side_class(self, side: Side) -> RoadClass:
        return self.sides[side][0].road_class
