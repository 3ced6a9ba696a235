"""Real OpenStreetMap extracts from ../shared/data: import, exact routing, a demo city.

No services needed; these are here because importing and checking a whole city takes a
few seconds, not milliseconds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.sparse.csgraph import dijkstra

from headway.entrypoints.demo import load_network
from headway.network import RoadNetwork
from headway.network.cch_router import CCHRouter
from headway.network.matching import match_trace
from headway.network.osm_import import import_osm
from headway.network.traces import simulate_trace

OSM = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "osm"
HEIDELBERG = OSM / "heidelberg.osm.pbf"
KREMS = OSM / "krems-at.osm.gz"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not HEIDELBERG.exists(), reason="shared OSM data absent"),
]


@pytest.fixture(scope="module")
def heidelberg() -> RoadNetwork:
    network, report = import_osm(HEIDELBERG)
    assert report.components_dropped > 0
    assert 0.8 < report.share_kept < 1.0
    return network


@pytest.fixture(scope="module")
def router(heidelberg: RoadNetwork) -> CCHRouter:
    return CCHRouter(heidelberg)


def test_heidelberg_imports_as_a_plausible_city(heidelberg: RoadNetwork) -> None:
    assert 5_000 < heidelberg.n_nodes < 50_000
    assert heidelberg.road_km > 500
    lat, lon = heidelberg.frame.to_wgs84(*heidelberg.node_xy.mean(axis=0))
    assert 49.2 < lat < 49.6
    assert 8.3 < lon < 9.0
    assert len(heidelberg.stops) > 100
    assert len(heidelberg.depots) >= 2
    assert len(heidelberg.chargers) >= 4
    names = set(heidelberg.edge_name)
    assert {"Hauptstraße", "Bergheimer Straße"} <= names


def test_1000_random_pairs_equal_plain_dijkstra(heidelberg: RoadNetwork, router: CCHRouter) -> None:
    pairs = np.random.default_rng(17).integers(0, heidelberg.n_nodes, size=(1000, 2))
    reference = dijkstra(heidelberg.sparse_matrix(), directed=True, indices=pairs[:, 0])
    got = np.array([router.travel_time(a, b) for a, b in pairs.tolist()])
    expected = reference[np.arange(len(pairs)), pairs[:, 1]]
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=0.0)


def test_matrix_and_traffic_match_dijkstra(heidelberg: RoadNetwork) -> None:
    router = CCHRouter(heidelberg)
    rng = np.random.default_rng(3)
    factors = rng.uniform(1.0, 3.0, heidelberg.n_edges)
    router.set_traffic(factors)
    origins = rng.integers(0, heidelberg.n_nodes, 50)
    targets = rng.integers(0, heidelberg.n_nodes, 50)
    weights = heidelberg.edge_time_s * factors
    expected = dijkstra(heidelberg.sparse_matrix(weights), indices=origins)[:, targets]
    np.testing.assert_allclose(
        router.travel_time_matrix(origins, targets), expected, rtol=1e-6, atol=1e-3
    )


def test_map_matching_on_heidelberg(heidelberg: RoadNetwork, router: CCHRouter) -> None:
    rng = np.random.default_rng(11)
    right = total = 0
    for _ in range(3):
        trace = simulate_trace(heidelberg, router, rng, legs=2, interval_s=1.0, sigma_m=15.0)
        right += int((match_trace(heidelberg, trace.xy, trace.ts) == trace.edges).sum())
        total += len(trace.ts)
    assert right / total > 0.85  # the bench prints the real figure


def test_krems_xml_imports() -> None:
    network, report = import_osm(KREMS)
    assert network.n_edges > 600
    assert report.source.endswith("krems-at.osm.gz")
    assert network.frame.map_id == "krems-at"


def test_demo_loads_an_osm_file_or_a_network_file(tmp_path: Path) -> None:
    city = load_network(7, str(KREMS))
    assert city.frame.map_id == "krems-at"
    saved = city.save(tmp_path / "krems.npz")
    again = load_network(7, str(saved))
    assert again.n_edges == city.n_edges
    assert again.stops == city.stops
