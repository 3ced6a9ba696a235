from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.sparse import csr_array
from scipy.sparse.csgraph import dijkstra

from headway.network import (
    DijkstraRouter,
    InvalidTrafficError,
    MapFrame,
    RoadClass,
    RoadNetwork,
    Route,
    Router,
    UnknownNodeError,
    route_between_points,
)

PAIRS = 200


def _reference_times(net: RoadNetwork, weights: np.ndarray, origins: np.ndarray) -> np.ndarray:
    """Plain Dijkstra from scipy on a matrix built here, keeping the cheapest parallel edge."""
    best: dict[tuple[int, int], float] = {}
    for u, v, w in zip(net.edge_src.tolist(), net.edge_dst.tolist(), weights.tolist(), strict=True):
        if math.isfinite(w) and w < best.get((u, v), math.inf):
            best[u, v] = w
    rows, cols = zip(*best, strict=True)
    matrix = csr_array((list(best.values()), (rows, cols)), shape=(net.n_nodes,) * 2)
    return np.asarray(dijkstra(matrix, directed=True, indices=origins))


def _check_route(net: RoadNetwork, route: Route, weights: np.ndarray) -> None:
    assert len(route.nodes) == len(route.edges) + 1
    for i, e in enumerate(route.edges):
        assert net.edge_src[e] == route.nodes[i]
        assert net.edge_dst[e] == route.nodes[i + 1]
    edges = list(route.edges)
    assert route.time_s == pytest.approx(float(weights[edges].sum()), rel=1e-12)
    assert route.length_m == pytest.approx(float(net.edge_length_m[edges].sum()), rel=1e-12)


def _pairs(net: RoadNetwork, seed: int, n: int = PAIRS) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, net.n_nodes, size=(n, 2))


def test_dijkstra_router_is_a_router(router: DijkstraRouter) -> None:
    port: Router = router
    assert port.route(0, 0) == Route((0,), (), 0.0, 0.0)


def test_routes_match_plain_dijkstra_on_200_pairs(
    city: RoadNetwork, router: DijkstraRouter
) -> None:
    pairs = _pairs(city, seed=11)
    expected = _reference_times(city, city.edge_time_s, pairs[:, 0])
    for k, (origin, target) in enumerate(pairs.tolist()):
        route = router.route(origin, target)
        assert route is not None
        assert route.time_s == pytest.approx(expected[k, target], rel=1e-9, abs=1e-12)
        assert route.nodes[0] == origin
        assert route.nodes[-1] == target
        _check_route(city, route, city.edge_time_s)


def test_travel_times_from_match_plain_dijkstra(city: RoadNetwork, router: DijkstraRouter) -> None:
    origins = _pairs(city, seed=12, n=20)[:, 0]
    expected = _reference_times(city, city.edge_time_s, origins)
    for k, origin in enumerate(origins.tolist()):
        times = router.travel_times_from(origin)
        assert times.shape == (city.n_nodes,)
        np.testing.assert_allclose(times, expected[k], rtol=1e-9)


def test_travel_times_agree_with_routes(city: RoadNetwork, router: DijkstraRouter) -> None:
    origin, target = 17, 3001
    route = router.route(origin, target)
    assert route is not None
    assert router.travel_times_from(origin)[target] == pytest.approx(route.time_s, rel=1e-9)
    assert router.travel_times_to(target)[origin] == pytest.approx(route.time_s, rel=1e-9)


def test_limit_cuts_one_to_all_searches(router: DijkstraRouter) -> None:
    times = router.travel_times_from(0, limit_s=120.0)
    reached = np.isfinite(times)
    assert 1 < reached.sum() < len(times)
    assert times[reached].max() <= 120.0


def test_uniform_traffic_scales_every_route(city: RoadNetwork, router: DijkstraRouter) -> None:
    free = [router.route(o, t) for o, t in _pairs(city, seed=13, n=30).tolist()]
    router.set_traffic(np.full(city.n_edges, 1.5))
    for before, (o, t) in zip(free, _pairs(city, seed=13, n=30).tolist(), strict=True):
        after = router.route(o, t)
        assert before is not None
        assert after is not None
        assert after.time_s == pytest.approx(1.5 * before.time_s, rel=1e-9)
    router.set_traffic(None)
    assert (router.traffic == 1.0).all()


def test_random_traffic_matches_plain_dijkstra(city: RoadNetwork, router: DijkstraRouter) -> None:
    factors = np.random.default_rng(14).uniform(1.0, 3.0, city.n_edges)
    router.set_traffic(factors)
    weights = city.edge_time_s * factors
    np.testing.assert_allclose(router.edge_time_s, weights)
    pairs = _pairs(city, seed=15, n=50)
    expected = _reference_times(city, weights, pairs[:, 0])
    for k, (origin, target) in enumerate(pairs.tolist()):
        route = router.route(origin, target)
        assert route is not None
        assert route.time_s == pytest.approx(expected[k, target], rel=1e-9)
        _check_route(city, route, weights)


def test_a_closed_road_is_avoided(city: RoadNetwork, router: DijkstraRouter) -> None:
    route = router.route(100, 4000)
    assert route is not None
    closed = route.edges[len(route.edges) // 2]
    factors = np.ones(city.n_edges)
    factors[closed] = math.inf
    router.set_traffic(factors)
    detour = router.route(100, 4000)
    assert detour is not None
    assert closed not in detour.edges
    assert detour.time_s >= route.time_s
    assert math.isfinite(router.travel_times_from(100)[4000])


def test_congestion_on_the_route_makes_it_slower(city: RoadNetwork, router: DijkstraRouter) -> None:
    route = router.route(250, 2500)
    assert route is not None
    factors = np.ones(city.n_edges)
    factors[list(route.edges)] = 4.0
    router.set_traffic(factors)
    slowed = router.route(250, 2500)
    assert slowed is not None
    assert route.time_s < slowed.time_s <= 4.0 * route.time_s + 1e-9


@pytest.mark.parametrize(
    "factors", [np.ones(3), np.zeros(1), np.full(1, np.nan), -np.ones(1)], ids=str
)
def test_bad_traffic_is_refused(city: RoadNetwork, factors: np.ndarray) -> None:
    router = DijkstraRouter(city)
    if len(factors) == 1:
        factors = np.full(city.n_edges, factors[0])
    with pytest.raises(InvalidTrafficError):
        router.set_traffic(factors)


def _island_network() -> RoadNetwork:
    """0 <-> 1 -> 2 -> 3, and 3 cannot get back."""
    return RoadNetwork(
        MapFrame("test", 48.2, 11.6),
        [(0.0, 0.0), (100.0, 0.0), (200.0, 0.0), (300.0, 0.0)],
        [0, 1, 1, 2],
        [1, 0, 2, 3],
        [10.0, 10.0, 10.0, 10.0],
        [RoadClass.RESIDENTIAL] * 4,
        ["A", "A", "B", "C"],
        [False, False, True, True],
    )


def test_unreachable_targets_give_none() -> None:
    router = DijkstraRouter(_island_network())
    assert router.route(3, 0) is None
    assert router.route(2, 1) is None
    route = router.route(0, 3)
    assert route is not None
    assert route.nodes == (0, 1, 2, 3)
    assert route.time_s == pytest.approx(30.0)
    times = router.travel_times_from(3)
    assert times[3] == 0.0
    assert np.isinf(times[:3]).all()


def test_unknown_nodes_are_refused(router: DijkstraRouter, city: RoadNetwork) -> None:
    with pytest.raises(UnknownNodeError, match="not in the network"):
        router.route(0, city.n_nodes)
    with pytest.raises(UnknownNodeError):
        router.travel_times_from(-1)


def test_route_between_points_uses_the_nearest_roads(
    city: RoadNetwork, router: DijkstraRouter
) -> None:
    a, b = 123, 4567
    ax, ay = city.node_xy[a]
    bx, by = city.node_xy[b]
    route = route_between_points(city, router, (ax + 0.5, ay - 0.5), (bx - 0.5, by + 0.5))
    assert route is not None
    assert route.nodes[0] == a
    assert route.nodes[-1] == b
    assert route == router.route(a, b)
