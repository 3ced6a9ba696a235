from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

from headway.network import (
    CityParams,
    InvalidNetworkError,
    RoadClass,
    RoadNetwork,
    generate_city,
)


def _strong_components(net: RoadNetwork) -> int:
    ones = np.ones(net.n_edges)
    graph = coo_array((ones, (net.edge_src, net.edge_dst)), shape=(net.n_nodes,) * 2)
    n, _ = connected_components(graph.tocsr(), directed=True, connection="strong")
    return int(n)


def _road_km(net: RoadNetwork) -> float:
    twin = net.edge_twin
    once = (twin < 0) | (np.arange(net.n_edges) < twin)
    return float(net.edge_length_m[once].sum()) / 1000.0


def _same(a: RoadNetwork, b: RoadNetwork) -> bool:
    return (
        np.array_equal(a.node_xy, b.node_xy)
        and np.array_equal(a.edge_src, b.edge_src)
        and np.array_equal(a.edge_dst, b.edge_dst)
        and np.array_equal(a.edge_time_s, b.edge_time_s)
        and a.edge_class == b.edge_class
        and a.edge_name == b.edge_name
        and a.stops == b.stops
        and a.depots == b.depots
        and a.chargers == b.chargers
    )


def test_every_node_reaches_every_other(city: RoadNetwork) -> None:
    assert _strong_components(city) == 1


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_other_seeds_and_sizes_are_strongly_connected(seed: int) -> None:
    net = generate_city(CityParams(seed=seed, size_km=4.0, depots=2, chargers=6))
    assert _strong_components(net) == 1
    assert len(net.depots) == 2
    assert len(net.chargers) == 6


def test_same_seed_same_city(city: RoadNetwork) -> None:
    assert _same(city, generate_city(CityParams(seed=7)))


def test_other_seed_other_city(city: RoadNetwork) -> None:
    other = generate_city(CityParams(seed=8))
    assert not _same(city, other)
    assert other.n_nodes != city.n_nodes or not np.array_equal(other.node_xy, city.node_xy)


def test_size_is_plausible_for_an_8_km_suburb(city: RoadNetwork) -> None:
    assert 3000 <= city.n_nodes <= 8000
    assert 400 <= _road_km(city) <= 1200
    extent = city.node_xy.max(axis=0) - city.node_xy.min(axis=0)
    assert np.all((extent > 7600) & (extent < 8800))
    assert 300 <= len(city.stops) <= 1500
    assert 2 <= len(city.depots) <= 4
    assert 6 <= len(city.chargers) <= 12


def test_there_are_arterials_collectors_and_residential_streets(city: RoadNetwork) -> None:
    counts = {c: city.edge_class.count(c) for c in set(city.edge_class)}
    assert counts[RoadClass.ARTERIAL] > 500
    assert counts[RoadClass.COLLECTOR] > 500
    assert counts[RoadClass.RESIDENTIAL] > counts[RoadClass.ARTERIAL]


def test_speed_limits_follow_the_road_class(city: RoadNetwork) -> None:
    expected_kmh = {RoadClass.ARTERIAL: 50, RoadClass.COLLECTOR: 40, RoadClass.RESIDENTIAL: 30}
    for e in range(city.n_edges):
        kmh = expected_kmh.get(city.edge_class[e])
        if kmh is not None:
            assert city.edge_speed_mps[e] * 3.6 == pytest.approx(kmh)
    np.testing.assert_allclose(city.edge_time_s, city.edge_length_m / city.edge_speed_mps)


def test_edges_are_straight_named_and_of_sensible_length(city: RoadNetwork) -> None:
    straight = np.hypot(*(city.node_xy[city.edge_dst] - city.node_xy[city.edge_src]).T)
    np.testing.assert_allclose(city.edge_length_m, straight)
    assert city.edge_length_m.min() >= 1.0
    assert city.edge_length_m.max() < 1100.0
    assert all(city.edge_name)


def test_central_arterials_run_as_one_way_pairs(city: RoadNetwork) -> None:
    oneway = np.flatnonzero(city.edge_oneway)
    assert len(oneway) > 20
    assert all(city.edge_class[e] == RoadClass.ARTERIAL for e in oneway)
    direction = city.node_xy[city.edge_dst[oneway]] - city.node_xy[city.edge_src[oneway]]
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    middle = (city.node_xy[city.edge_dst[oneway]] + city.node_xy[city.edge_src[oneway]]) / 2
    paired_names = set()
    for i, e in enumerate(oneway):
        opposite = direction @ direction[i] < -0.95
        near = np.linalg.norm(middle - middle[i], axis=1) < 150.0
        same_name = np.array([city.edge_name[f] == city.edge_name[e] for f in oneway])
        if np.any(opposite & near & same_name):
            paired_names.add(city.edge_name[e])
    assert "Main Street" in paired_names
    assert len(paired_names) >= 2


def test_cul_de_sacs_are_two_way(city: RoadNetwork) -> None:
    neighbours: list[set[int]] = [set() for _ in range(city.n_nodes)]
    for u, v in zip(city.edge_src.tolist(), city.edge_dst.tolist(), strict=True):
        neighbours[u].add(v)
        neighbours[v].add(u)
    dead_ends = [n for n in range(city.n_nodes) if len(neighbours[n]) == 1]
    assert len(dead_ends) > 300
    for node in dead_ends:
        (leave,) = city.out_edges(node)
        (enter,) = city.in_edges(node)
        assert city.edge_twin[leave] == enter
        assert not city.edge_oneway[leave]


def test_stops_lie_at_the_kerb_of_arterials(city: RoadNetwork) -> None:
    arterial = np.array([c == RoadClass.ARTERIAL for c in city.edge_class])
    a = city.node_xy[city.edge_src[arterial]]
    b = city.node_xy[city.edge_dst[arterial]]
    ab = b - a
    for stop in city.stops:
        p = np.array([stop.x, stop.y])
        t = np.clip(((p - a) * ab).sum(axis=1) / (ab * ab).sum(axis=1), 0.0, 1.0)
        assert np.linalg.norm(a + t[:, None] * ab - p, axis=1).min() < 10.0
        assert math.dist((stop.x, stop.y), city.node_xy[stop.node]) < 10.0


def test_stops_face_their_direction_of_travel(city: RoadNetwork) -> None:
    ids = [s.id for s in city.stops]
    assert len(set(ids)) == len(ids)
    for stop in city.stops:
        assert stop.edge is not None
        assert city.edge_dst[stop.edge] == stop.node
        assert city.edge_class[stop.edge] == RoadClass.ARTERIAL
        sx, sy = city.node_xy[city.edge_src[stop.edge]]
        nx, ny = city.node_xy[stop.node]
        # On the right-hand side of the arriving edge: negative cross product.
        assert (nx - sx) * (stop.y - ny) - (ny - sy) * (stop.x - nx) < 0
        assert " / " in stop.name


def test_stops_are_about_400_m_apart_along_each_arterial(city: RoadNetwork) -> None:
    by_node: dict[int, int] = {}
    for stop in city.stops:
        by_node[stop.node] = by_node.get(stop.node, 0) + 1
    assert set(by_node.values()) <= {1, 2}
    arterial_km = sum(
        city.edge_length_m[e] / 1000.0
        for e in range(city.n_edges)
        if city.edge_class[e] == RoadClass.ARTERIAL
    )
    # Each direction of travel gets a stop about every 400 m.
    assert len(city.stops) / arterial_km == pytest.approx(2.5, rel=0.25)


def test_depots_sit_at_the_edge_and_chargers_spread_out(city: RoadNetwork) -> None:
    half = 4000.0
    for depot in city.depots:
        assert max(abs(depot.x), abs(depot.y)) > 0.95 * half
        assert 0 <= depot.node < city.n_nodes
        assert depot.capacity > 0
        assert math.dist((depot.x, depot.y), city.node_xy[depot.node]) < 1.0
    xy = np.array([(c.x, c.y) for c in city.chargers])
    gaps = np.linalg.norm(xy[:, None] - xy[None], axis=2) + np.eye(len(xy)) * 1e9
    assert gaps.min() > 800.0
    for charger in city.chargers:
        assert 2 <= charger.plugs <= 6
        assert charger.power_kw > 0
        assert math.dist((charger.x, charger.y), city.node_xy[charger.node]) < 1.0
    nodes = [d.node for d in city.depots] + [c.node for c in city.chargers]
    assert len(set(nodes)) == len(nodes)


def test_frame_is_a_fictional_place_near_munich(city: RoadNetwork) -> None:
    assert city.frame.map_id == "headway-city"
    assert (city.frame.origin_lat, city.frame.origin_lon) == (48.20, 11.60)


@pytest.mark.parametrize(
    "changes",
    [{"size_km": 0.5}, {"depots": 0}, {"chargers": -1}, {"arterial_spacing_m": 100.0}],
)
def test_impossible_parameters_are_refused(changes: dict[str, float]) -> None:
    with pytest.raises(InvalidNetworkError):
        CityParams(**changes)  # type: ignore[arg-type]


def test_without_one_way_pairs_every_road_is_two_way() -> None:
    net = generate_city(CityParams(size_km=3.0, one_way_pairs=False))
    assert not net.edge_oneway.any()
    assert (net.edge_twin >= 0).all()
    assert _strong_components(net) == 1
