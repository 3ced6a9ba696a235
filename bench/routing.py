"""Routing, matrices, traffic re-customisation and map matching on a real city.

Runs on its own: ``python bench/routing.py [--osm FILE] [--pairs N]``. Imports the map
(Heidelberg from ../shared/data by default), then measures the CCH router beside scipy's
Dijkstra in the same run: point-to-point median and p99, a 100x100 matrix, traffic
re-customisation; checks the CCH times against Dijkstra's; and matches simulated noisy
GPS traces (sigma 15 m, one fix a second). Prints one JSON object as its last line.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from scipy.sparse.csgraph import dijkstra

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from headway.network.cch_router import CCHRouter  # noqa: E402
from headway.network.matching import FleetMatcher, match_trace  # noqa: E402
from headway.network.osm_import import import_osm  # noqa: E402
from headway.network.routing import DijkstraRouter  # noqa: E402
from headway.network.traces import simulate_trace  # noqa: E402

DEFAULT_OSM = REPO.parent / "shared" / "data" / "osm" / "heidelberg.osm.pbf"


def _ms(seconds: float) -> float:
    return round(seconds * 1000.0, 4)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--osm", default=str(DEFAULT_OSM))
    parser.add_argument("--pairs", type=int, default=2000)
    parser.add_argument("--traces", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)

    started = time.perf_counter()
    network, report = import_osm(args.osm)
    import_s = time.perf_counter() - started
    print(f"imported {args.osm}: {network.n_nodes} nodes, {network.n_edges} edges", flush=True)

    started = time.perf_counter()
    router = CCHRouter(network)
    preprocess_s = time.perf_counter() - started
    matrix = network.sparse_matrix()

    pairs = rng.integers(0, network.n_nodes, size=(args.pairs, 2))
    for a, b in pairs[:200].tolist():  # warm caches and per-thread query objects
        router.route(a, b)
    cch_s = np.empty(len(pairs))
    cch_t = np.empty(len(pairs))
    for k, (a, b) in enumerate(pairs.tolist()):
        t0 = time.perf_counter()
        route = router.route(a, b)
        cch_s[k] = time.perf_counter() - t0
        cch_t[k] = np.inf if route is None else route.time_s

    # scipy's Dijkstra answers a point-to-point query by searching from the origin
    # (it has no early exit); DijkstraRouter stops at the target, in pure Python.
    dij_pairs = pairs[: min(200, len(pairs))]
    dij_s = np.empty(len(dij_pairs))
    ref_s = np.empty(len(dij_pairs))
    plain = DijkstraRouter(network)
    for k, (a, b) in enumerate(dij_pairs.tolist()):
        t0 = time.perf_counter()
        dijkstra(matrix, directed=True, indices=a)
        dij_s[k] = time.perf_counter() - t0
        t0 = time.perf_counter()
        plain.route(a, b)
        ref_s[k] = time.perf_counter() - t0
    reference = dijkstra(matrix, directed=True, indices=pairs[:, 0])
    expected = reference[np.arange(len(pairs)), pairs[:, 1]]
    rel = np.abs(cch_t - expected) / np.maximum(expected, 1e-12)
    mismatches = int((rel > 1e-6).sum())

    origins = rng.integers(0, network.n_nodes, 100)
    targets = rng.integers(0, network.n_nodes, 100)
    router.travel_time_matrix(origins[:5], targets)  # pin targets once, as a warm-up
    t0 = time.perf_counter()
    cch_matrix = router.travel_time_matrix(origins, targets)
    matrix_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    dij_matrix = dijkstra(matrix, directed=True, indices=origins)[:, targets]
    dij_matrix_s = time.perf_counter() - t0
    matrix_rel = float(np.max(np.abs(cch_matrix - dij_matrix) / np.maximum(dij_matrix, 1e-9)))

    custom = []
    for _ in range(5):
        factors = rng.uniform(1.0, 3.0, network.n_edges)
        t0 = time.perf_counter()
        router.set_traffic(factors)
        custom.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    plain.set_traffic(factors)  # scipy needs only a new matrix: no preprocessing
    dij_traffic_s = time.perf_counter() - t0
    router.set_traffic(None)

    correct = correct_online = fixes = 0
    match_s = 0.0
    for _ in range(args.traces):
        trace = simulate_trace(network, router, rng, legs=2, interval_s=1.0, sigma_m=15.0)
        t0 = time.perf_counter()
        offline = match_trace(network, trace.xy, trace.ts)
        match_s += time.perf_counter() - t0
        online = FleetMatcher(network).match(["v"] * len(trace.ts), trace.xy, trace.ts.tolist())
        correct += int((offline == trace.edges).sum())
        correct_online += int((online == trace.edges).sum())
        fixes += len(trace.ts)

    figures = {
        "map": Path(args.osm).name,
        "nodes": network.n_nodes,
        "edges": network.n_edges,
        "import_s": round(import_s, 3),
        "share_kept": round(report.share_kept, 4),
        "cch_preprocess_s": round(preprocess_s, 3),
        "pairs": len(pairs),
        "p2p_median_ms": _ms(float(np.median(cch_s))),
        "p2p_p99_ms": _ms(float(np.percentile(cch_s, 99))),
        "dijkstra_p2p_median_ms": _ms(float(np.median(dij_s))),
        "dijkstra_p2p_p99_ms": _ms(float(np.percentile(dij_s, 99))),
        "p2p_speedup": round(float(np.median(dij_s) / np.median(cch_s)), 1),
        "dijkstra_router_p2p_median_ms": _ms(float(np.median(ref_s))),
        "p2p_mismatches_over_1e-6": mismatches,
        "matrix_100x100_ms": _ms(matrix_s),
        "dijkstra_matrix_100x100_ms": _ms(dij_matrix_s),
        "matrix_max_rel_error": matrix_rel,
        "traffic_customise_median_ms": _ms(float(np.median(custom))),
        "dijkstra_traffic_apply_ms": _ms(dij_traffic_s),
        "matching_fixes": fixes,
        "matching_sigma_m": 15.0,
        "matching_correct_share": round(correct / fixes, 4),
        "matching_online_correct_share": round(correct_online / fixes, 4),
        "matching_us_per_fix": round(match_s / fixes * 1e6, 1),
    }
    print(json.dumps(figures), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
