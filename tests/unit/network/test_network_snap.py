from __future__ import annotations

import math

import numpy as np
import pytest

from headway.network import MapFrame, RoadClass, RoadNetwork, Snap, UnknownEdgeError


def _brute_force(net: RoadNetwork, x: float, y: float) -> float:
    """Distance from (x, y) to the nearest edge, checking every segment of every shape."""
    a = np.concatenate([net.edge_shape(e)[:-1] for e in range(net.n_edges)])
    b = np.concatenate([net.edge_shape(e)[1:] for e in range(net.n_edges)])
    ab = b - a
    p = np.array([x, y])
    t = np.clip(((p - a) * ab).sum(axis=1) / np.maximum((ab * ab).sum(axis=1), 1e-300), 0, 1)
    return float(np.linalg.norm(a + t[:, None] * ab - p, axis=1).min())


def _long_two_way_edge(city: RoadNetwork, min_length: float = 150.0) -> int:
    for e in range(city.n_edges):
        if city.edge_twin[e] >= 0 and city.edge_length_m[e] > min_length:
            return e
    raise AssertionError("the city has no long two-way edge")


def _beside(city: RoadNetwork, edge: int, offset: float, side_m: float) -> tuple[float, float]:
    x, y, heading = city.position_at(edge, offset)
    # Positive side_m is to the left of the direction of travel.
    return x - side_m * math.sin(heading), y + side_m * math.cos(heading)


def test_a_point_10_m_off_a_road_snaps_to_it(city: RoadNetwork) -> None:
    e = _long_two_way_edge(city)
    half = float(city.edge_length_m[e]) / 2
    x, y = _beside(city, e, half, -10.0)
    snap = city.snap(x, y)
    assert snap.edge in (e, int(city.edge_twin[e]))
    assert snap.distance_m == pytest.approx(10.0, abs=1e-6)
    mx, my, _ = city.position_at(e, half)
    assert (snap.x, snap.y) == pytest.approx((mx, my), abs=1e-6)
    along = half if snap.edge == e else float(city.edge_length_m[e]) - half
    assert snap.offset_m == pytest.approx(along, abs=1e-6)


def test_heading_picks_the_carriageway_of_a_two_way_road(city: RoadNetwork) -> None:
    e = _long_two_way_edge(city)
    twin = int(city.edge_twin[e])
    x, y, heading = city.position_at(e, 40.0)
    assert city.snap(x + 3.0, y - 3.0, heading).edge == e
    assert city.snap(x + 3.0, y - 3.0, heading + math.pi).edge == twin
    # A heading a little off the road still picks the right direction.
    assert city.snap(x, y, heading + 0.4).edge == e
    assert city.snap(x, y, heading + math.pi - 0.4).edge == twin


def test_heading_never_pulls_a_fix_onto_a_far_road(city: RoadNetwork) -> None:
    oneway = int(np.flatnonzero(city.edge_oneway)[0])
    x, y, heading = city.position_at(oneway, float(city.edge_length_m[oneway]) / 2)
    assert city.snap(x, y, heading + math.pi).edge == oneway


def test_snap_finds_the_true_nearest_road(city: RoadNetwork) -> None:
    rng = np.random.default_rng(21)
    for x, y in rng.uniform(-4300, 4300, size=(40, 2)):
        snap = city.snap(x, y)
        assert snap.distance_m == pytest.approx(_brute_force(city, x, y), abs=1e-9)
        assert math.dist((snap.x, snap.y), (x, y)) == pytest.approx(snap.distance_m)
        px, py, _ = city.position_at(snap.edge, snap.offset_m)
        assert (px, py) == pytest.approx((snap.x, snap.y), abs=1e-6)


def test_snap_many_agrees_with_snap(city: RoadNetwork) -> None:
    rng = np.random.default_rng(22)
    points = np.concatenate(
        (
            rng.uniform(-4300, 4300, size=(1500, 2)),
            city.node_xy[rng.integers(0, city.n_nodes, 300)],  # exactly on junctions
            rng.uniform(-9000, 9000, size=(200, 2)),  # far outside the city
        )
    )
    edges = city.snap_many(points)
    assert edges.shape == (len(points),)
    assert list(edges) == [city.snap(x, y).edge for x, y in points]
    assert city.snap_many(np.empty((0, 2))).shape == (0,)


def test_nearest_node_is_the_closest_one(city: RoadNetwork) -> None:
    rng = np.random.default_rng(23)
    for x, y in rng.uniform(-4000, 4000, size=(50, 2)):
        expected = int(np.argmin(np.hypot(*(city.node_xy - (x, y)).T)))
        assert city.nearest_node(x, y) == expected


def test_position_at_walks_along_the_edge(city: RoadNetwork) -> None:
    e = _long_two_way_edge(city)
    (sx, sy), (dx, dy) = city.edge_shape(e)
    length = float(city.edge_length_m[e])
    assert city.position_at(e, 0.0)[:2] == pytest.approx((sx, sy))
    assert city.position_at(e, length)[:2] == pytest.approx((dx, dy))
    assert city.position_at(e, -5.0)[:2] == pytest.approx((sx, sy))
    assert city.position_at(e, length + 5.0)[:2] == pytest.approx((dx, dy))
    x, y, heading = city.position_at(e, length / 4)
    assert (x, y) == pytest.approx((sx + (dx - sx) / 4, sy + (dy - sy) / 4))
    assert heading == pytest.approx(math.atan2(dy - sy, dx - sx))
    with pytest.raises(UnknownEdgeError):
        city.position_at(city.n_edges, 0.0)


def _bent_road() -> RoadNetwork:
    """One two-way road with a bend: (0,0) -> (100,0) -> (100,100)."""
    shape = np.array([(0.0, 0.0), (100.0, 0.0), (100.0, 100.0)])
    return RoadNetwork(
        MapFrame("test", 48.2, 11.6),
        [(0.0, 0.0), (100.0, 100.0)],
        [0, 1],
        [1, 0],
        [10.0, 10.0],
        [RoadClass.RESIDENTIAL] * 2,
        ["Bend Road"] * 2,
        [False, False],
        edge_shapes=[shape, shape[::-1]],
    )


def test_polyline_edges_measure_snap_and_walk_along_their_shape() -> None:
    net = _bent_road()
    assert net.edge_length_m.tolist() == [200.0, 200.0]
    assert net.edge_twin.tolist() == [1, 0]
    assert net.position_at(0, 150.0) == pytest.approx((100.0, 50.0, math.pi / 2))
    assert net.position_at(1, 150.0) == pytest.approx((50.0, 0.0, math.pi))
    assert net.snap(90.0, 50.0, heading_rad=math.pi / 2) == Snap(0, 150.0, 10.0, 100.0, 50.0)
    assert net.snap(90.0, 50.0, heading_rad=-math.pi / 2) == Snap(1, 50.0, 10.0, 100.0, 50.0)
    assert net.snap_many(np.array([(50.0, -5.0), (105.0, 80.0)])).tolist() == [0, 0]
    assert net.nearest_road_node(10.0, 3.0) == 0
    assert net.nearest_road_node(103.0, 90.0) == 1
