"""A small hand-made road network for the simulator's tests: fast to build, easy to reason
about, and built with the real ``RoadNetwork`` class so geometry and routing are real."""

from __future__ import annotations

import numpy as np

from headway.network.frame import MapFrame
from headway.network.graph import Charger, RoadClass, RoadNetwork, Stop

SIDE = 6
SPACING_M = 250.0
BEND_M = 25.0


def grid_city(plugs: int = 1, power_kw: float = 150.0) -> RoadNetwork:
    """A 6 x 6 grid of two-way streets 250 m apart; the streets of row 2 bow north, so
    positions must follow edge shapes, not straight node-to-node lines."""
    node_xy = [(col * SPACING_M, row * SPACING_M) for row in range(SIDE) for col in range(SIDE)]
    src: list[int] = []
    dst: list[int] = []
    speed: list[float] = []
    shapes: list[list[tuple[float, float]]] = []

    def road(a: int, b: int, fast: bool, bend: bool) -> None:
        (ax, ay), (bx, by) = node_xy[a], node_xy[b]
        shape = [(ax, ay), (bx, by)]
        if bend:
            shape.insert(1, ((ax + bx) / 2, (ay + by) / 2 + BEND_M))
        for u, v, line in ((a, b, shape), (b, a, shape[::-1])):
            src.append(u)
            dst.append(v)
            speed.append(13.9 if fast else 8.3)
            shapes.append(line)

    for row in range(SIDE):
        for col in range(SIDE - 1):
            a = row * SIDE + col
            road(a, a + 1, fast=row in (0, 3), bend=row == 2)
    for col in range(SIDE):
        for row in range(SIDE - 1):
            a = row * SIDE + col
            road(a, a + SIDE, fast=col in (0, 3), bend=False)

    stop_nodes = (1, 4, 8, 13, 16, 21, 26, 29, 31, 34)
    stops = [
        Stop(f"s{k}", f"Stop {k}", *node_xy[node], node=node) for k, node in enumerate(stop_nodes)
    ]
    chargers = [
        Charger(f"c{k}", f"Charger {k}", *node_xy[node], node=node, plugs=plugs, power_kw=power_kw)
        for k, node in enumerate((0, 35))
    ]
    n_edges = len(src)
    return RoadNetwork(
        MapFrame("test-grid", 49.41, 8.69),
        np.array(node_xy),
        src,
        dst,
        speed,
        [RoadClass.RESIDENTIAL] * n_edges,
        [f"street {e // 2}" for e in range(n_edges)],
        [False] * n_edges,
        edge_shapes=[np.array(s) for s in shapes],
        stops=stops,
        chargers=chargers,
    )
