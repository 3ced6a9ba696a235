"""Routing, matrices, traffic re-customisation and map matching on a real city.

Runs on its own: ``python bench/routing.py [--osm FILE] [--pairs N]``. Imports the map
(Heidelberg from ../shared/data by default), then measures the CCH router beside scipy's
Dijkstra in the same run: point-to-point median and p99, a 100x100 matrix, traffic
re-customisation; checks the CCH times against Dijkstra's; and matches simulated noisy
GPS traces (sigma 15 m, one fix a second): offline and online (fix by fix, as the stream
processor does), from positions alone and with the heading and speed vehicles report
(noise 0.1 rad and 0.5 m/s, from a generator of their own so the positions are those of
the same seed). The online matcher's CPU time per fix is measured beside nearest-road
snapping in the same run. Prints one JSON object as its last line, with the load
average (the figures are noisy on a shared machine).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from scipy.sparse.csgraph import dijkstra

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from headway.adapters.memory.traffic import MemoryTrafficStore  # noqa: E402
from headway.network.cch_router import CCHRouter  # noqa: E402
from headway.network.matching import FleetMatcher, match_trace  # noqa: E402
from headway.network.osm_import import import_osm  # noqa: E402
from headway.network.routing import DijkstraRouter  # noqa: E402
from headway.network.traces import simulate_trace  # noqa: E402
from headway.streaming.traffic_feed import TrafficFeed  # noqa: E402

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

    report_rng = np.random.default_rng([args.seed, 1])
    correct = dict.fromkeys(("offline", "online", "offline_rep", "online_rep", "snap"), 0)
    cpu = dict.fromkeys(("offline", "online", "online_rep", "snap", "traffic"), 0.0)
    fixes = 0
    feed = TrafficFeed(network, MemoryTrafficStore(), "bench")
    for k in range(args.traces):
        trace = simulate_trace(
            network, router, rng, legs=2, interval_s=1.0, sigma_m=15.0, report_rng=report_rng
        )
        ids, ts = ["v"] * len(trace.ts), trace.ts.tolist()
        reported = {"headings": trace.heading_rad, "speeds": trace.speed_mps}
        t0 = time.process_time()
        got = {"offline": match_trace(network, trace.xy, trace.ts)}
        t1 = time.process_time()
        got["online"] = FleetMatcher(network).match(ids, trace.xy, ts)
        t2 = time.process_time()
        got["online_rep"] = FleetMatcher(network).match(
            ids, trace.xy, ts, trace.heading_rad.tolist(), trace.speed_mps.tolist()
        )
        t3 = time.process_time()
        got["snap"] = network.snap_many(trace.xy)
        t4 = time.process_time()
        got["offline_rep"] = match_trace(network, trace.xy, trace.ts, **reported)
        # The processor's traffic hook on the same fixes, as one vehicle per trace.
        t5 = time.process_time()
        feed.add([f"v{k}"] * len(ts), got["online_rep"], ts, trace.xy, trace.speed_mps.tolist())
        cpu["traffic"] += time.process_time() - t5
        for key, (a, b) in {
            "offline": (t0, t1),
            "online": (t1, t2),
            "online_rep": (t2, t3),
            "snap": (t3, t4),
        }.items():
            cpu[key] += b - a
        for key, edges in got.items():
            correct[key] += int((edges == trace.edges).sum())
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
        "matching_correct_share": round(correct["offline"] / fixes, 4),
        "matching_online_correct_share": round(correct["online"] / fixes, 4),
        "matching_reported_correct_share": round(correct["offline_rep"] / fixes, 4),
        "matching_online_reported_correct_share": round(correct["online_rep"] / fixes, 4),
        "snapping_correct_share": round(correct["snap"] / fixes, 4),
        "matching_us_per_fix": round(cpu["offline"] / fixes * 1e6, 1),
        "matching_online_us_per_fix": round(cpu["online"] / fixes * 1e6, 1),
        "matching_online_reported_us_per_fix": round(cpu["online_rep"] / fixes * 1e6, 1),
        "snapping_us_per_fix": round(cpu["snap"] / fixes * 1e6, 1),
        "traffic_feed_us_per_fix": round(cpu["traffic"] / fixes * 1e6, 1),
        "traffic_observations": feed.estimator.observations,
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(figures), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
