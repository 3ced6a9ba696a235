from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.sparse.csgraph import dijkstra

from headway.network import RoadNetwork, Router, UnknownNodeError
from headway.network.cch_router import CCHRouter
from headway.network.errors import InvalidTrafficError
from headway.network.routing import route_geometry


@pytest.fixture(scope="module")
def cch(city: RoadNetwork) -> CCHRouter:
    return CCHRouter(city)


def _check_path(net: RoadNetwork, edges: tuple[int, ...], nodes: tuple[int, ...]) -> None:
    assert len(nodes) == len(edges) + 1
    for i, e in enumerate(edges):
        assert net.edge_src[e] == nodes[i]
        assert net.edge_dst[e] == nodes[i + 1]


def test_is_a_router(cch: CCHRouter) -> None:
    port: Router = cch
    assert port.route(3, 3) is not None


def test_1000_random_pairs_equal_plain_dijkstra(city: RoadNetwork, cch: CCHRouter) -> None:
    pairs = np.random.default_rng(5).integers(0, city.n_nodes, size=(1000, 2))
    reference = dijkstra(city.sparse_matrix(), directed=True, indices=pairs[:, 0])
    for k, (a, b) in enumerate(pairs.tolist()):
        route = cch.route(a, b)
        assert route is not None
        expected = reference[k, b]
        assert route.time_s == pytest.approx(expected, rel=1e-6, abs=1e-9)
        _check_path(city, route.edges, route.nodes)
        edges = list(route.edges)
        assert route.length_m == pytest.approx(float(city.edge_length_m[edges].sum()))


def test_matrices_equal_dijkstra(city: RoadNetwork, cch: CCHRouter) -> None:
    rng = np.random.default_rng(9)
    origins = rng.integers(0, city.n_nodes, 40)
    targets = rng.integers(0, city.n_nodes, 60)
    expected = dijkstra(city.sparse_matrix(), directed=True, indices=origins)[:, targets]
    got = cch.travel_time_matrix(origins, targets)
    assert got.shape == (40, 60)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-3)
    np.testing.assert_allclose(
        cch.travel_times_one_to_many(int(origins[0]), targets), expected[0], rtol=1e-6, atol=1e-3
    )
    # Asking again with other targets re-pins them.
    again = cch.travel_time_matrix(origins[:3], targets[:5])
    np.testing.assert_allclose(again, expected[:3, :5], rtol=1e-6, atol=1e-3)
    assert cch.travel_time_matrix(origins, []).shape == (40, 0)


def test_one_to_all_both_ways(city: RoadNetwork, cch: CCHRouter) -> None:
    matrix = city.sparse_matrix()
    np.testing.assert_allclose(cch.travel_times_from(7), dijkstra(matrix, indices=7))
    np.testing.assert_allclose(cch.travel_times_to(7), dijkstra(matrix.T, indices=7))


def test_traffic_is_applied_and_closures_respected(city: RoadNetwork) -> None:
    router = CCHRouter(city)
    rng = np.random.default_rng(2)
    factors = rng.uniform(1.0, 4.0, city.n_edges)
    closed = rng.choice(city.n_edges, 200, replace=False)
    factors[closed] = np.inf
    router.set_traffic(factors)
    times = city.edge_time_s * factors
    reference = dijkstra(city.sparse_matrix(times), directed=True, indices=np.arange(0, 200, 10))
    for k, a in enumerate(range(0, 200, 10)):
        for b in rng.integers(0, city.n_nodes, 20).tolist():
            route = router.route(a, b)
            if math.isinf(reference[k, b]):
                assert route is None
                continue
            assert route is not None
            assert not set(route.edges) & set(closed.tolist())
            assert route.time_s == pytest.approx(reference[k, b], rel=1e-6)
    assert router.traffic[closed[0]] == math.inf
    router.set_traffic(None)
    assert (router.traffic == 1.0).all()


@pytest.mark.parametrize("bad", [np.zeros(3), "shape", -1.0, np.nan])
def test_bad_traffic_is_refused(city: RoadNetwork, cch: CCHRouter, bad: object) -> None:
    factors = np.ones(city.n_edges)
    if isinstance(bad, float):
        factors[0] = bad
    else:
        factors = np.zeros(3)
    with pytest.raises(InvalidTrafficError):
        cch.set_traffic(factors)


def test_unknown_nodes(city: RoadNetwork, cch: CCHRouter) -> None:
    with pytest.raises(UnknownNodeError):
        cch.route(0, city.n_nodes)
    with pytest.raises(UnknownNodeError):
        cch.travel_time_matrix([0, -1], [1])


def test_route_geometry_follows_the_edges(city: RoadNetwork, cch: CCHRouter) -> None:
    route = cch.route(0, city.n_nodes - 1)
    assert route is not None
    line = route_geometry(city, route)
    assert np.allclose(line[0], city.node_xy[0])
    assert np.allclose(line[-1], city.node_xy[-1])
    seg = np.diff(line, axis=0)
    assert np.hypot(seg[:, 0], seg[:, 1]).sum() == pytest.approx(route.length_m)
