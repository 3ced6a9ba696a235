from __future__ import annotations

import itertools

import numpy as np
import pytest

from headway.network import DijkstraRouter, RoadNetwork
from headway.network.along_track import refine_path
from headway.network.matching import (
    FleetMatcher,
    LengthGraph,
    MatchParams,
    OnlineMatcher,
    match_trace,
)
from headway.network.traces import simulate_trace


def _traces(city: RoadNetwork, n: int, seed: int) -> list:  # type: ignore[type-arg]
    router = DijkstraRouter(city)
    rng = np.random.default_rng(seed)
    return [
        simulate_trace(city, router, rng, legs=2, interval_s=1.0, sigma_m=15.0) for _ in range(n)
    ]


def test_noisy_traces_match_mostly_to_the_true_road(city: RoadNetwork) -> None:
    right = online_right = snapped = total = 0
    for trace in _traces(city, 4, seed=21):
        right += int((match_trace(city, trace.xy, trace.ts) == trace.edges).sum())
        online = match_trace(city, trace.xy, trace.ts, online=True)
        online_right += int((online == trace.edges).sum())
        snapped += int((city.snap_many(trace.xy) == trace.edges).sum())
        total += len(trace.ts)
    # The bench measures the real figures; these floors only catch a broken matcher.
    assert right / total > 0.85
    assert online_right / total > 0.83  # 0.76 without filtering the fixes in time
    assert online_right > 1.3 * snapped


def test_without_noise_the_match_is_exact(city: RoadNetwork) -> None:
    router = DijkstraRouter(city)
    trace = simulate_trace(city, router, np.random.default_rng(4), sigma_m=0.01, interval_s=3.0)
    exact = MatchParams(gps_sigma_m=3.0, smooth_fixes=0)
    assert (match_trace(city, trace.xy, trace.ts, exact) == trace.edges).mean() > 0.97


def test_far_fix_is_skipped_and_gap_restarts(city: RoadNetwork) -> None:
    matcher = OnlineMatcher(city)
    e = 10
    x, y, _ = city.position_at(e, 5.0)
    first = matcher.push(x, y, 0.0)
    assert first is not None
    assert first.restarted
    assert matcher.push(x + 1e6, y, 1.0) is None  # nowhere near a road
    x2, y2, _ = city.position_at(e, 15.0)
    second = matcher.push(x2, y2, 2.0)
    assert second is not None
    assert not second.restarted
    assert second.edge == e
    later = matcher.push(x2, y2, 2.0 + MatchParams().reset_after_s + 1.0)
    assert later is not None
    assert later.restarted
    assert matcher.smoothed(0) is not None
    assert matcher.smoothed(10_000) is None


def test_fleet_matcher_keeps_state_per_vehicle(city: RoadNetwork) -> None:
    traces = _traces(city, 2, seed=8)
    fleet = FleetMatcher(city)
    n = min(len(t.ts) for t in traces)
    ids, xy, ts, truth = [], [], [], []
    for i in range(n):  # interleave the two vehicles, as a stream would
        for k, trace in enumerate(traces):
            ids.append(f"v{k}")
            xy.append(trace.xy[i])
            ts.append(float(trace.ts[i]))
            truth.append(int(trace.edges[i]))
    got = np.concatenate(
        [fleet.match(ids[j : j + 7], xy[j : j + 7], ts[j : j + 7]) for j in range(0, len(ids), 7)]
    )
    assert len(fleet) == 2
    assert (got == np.array(truth)).mean() > 0.6
    far = fleet.match(["v9"], [(1e6, 1e6)], [0.0])
    assert 0 <= far[0] < city.n_edges  # nothing near: falls back to the nearest road


def test_roads_within_lists_nearest_first(city: RoadNetwork) -> None:
    x, y, _ = city.position_at(3, 2.0)
    edges, offsets, dists = city.roads_within(x, y, 40.0)
    assert 3 in edges.tolist()
    assert np.all(np.diff(dists) >= 0)
    assert dists.max() <= 40.0
    assert offsets[edges.tolist().index(3)] == pytest.approx(2.0, abs=1e-6)


def test_an_implausible_jump_restarts_instead_of_searching_the_graph(city: RoadNetwork) -> None:
    matcher = OnlineMatcher(city)
    a, b = (
        city.node_xy[0],
        city.node_xy[int(np.argmax(np.hypot(*(city.node_xy - city.node_xy[0]).T)))],
    )
    first = matcher.push(float(a[0]), float(a[1]), ts=0.0)
    assert first is not None
    jumped = matcher.push(float(b[0]), float(b[1]), ts=1.0)  # kilometres in one second
    assert jumped is not None
    assert jumped.restarted
    near = matcher.push(float(b[0]) + 5.0, float(b[1]), ts=2.0)
    assert near is not None
    assert not near.restarted


def _reported_traces(city: RoadNetwork, n: int, seed: int) -> list:  # type: ignore[type-arg]
    router = DijkstraRouter(city)
    rng, reports = np.random.default_rng(seed), np.random.default_rng([seed, 1])
    return [
        simulate_trace(city, router, rng, legs=2, interval_s=1.0, report_rng=reports)
        for _ in range(n)
    ]


def test_report_noise_has_its_own_generator(city: RoadNetwork) -> None:
    router = DijkstraRouter(city)
    plain = simulate_trace(city, router, np.random.default_rng(5), legs=1)
    noisy = simulate_trace(
        city, router, np.random.default_rng(5), legs=1, report_rng=np.random.default_rng(9)
    )
    np.testing.assert_array_equal(plain.xy, noisy.xy)  # same positions for the same seed
    assert np.all(plain.speed_mps == city.edge_speed_mps[plain.edges])
    assert not np.array_equal(plain.heading_rad, noisy.heading_rad)


def test_reported_heading_and_speed_make_matching_better(city: RoadNetwork) -> None:
    got = dict.fromkeys(("online", "online_rep", "offline", "offline_rep"), 0)
    total = 0
    for trace in _reported_traces(city, 4, seed=31):
        reported = {"headings": trace.heading_rad, "speeds": trace.speed_mps}
        runs = {
            "online": match_trace(city, trace.xy, trace.ts, online=True),
            "online_rep": match_trace(city, trace.xy, trace.ts, online=True, **reported),
            "offline": match_trace(city, trace.xy, trace.ts),
            "offline_rep": match_trace(city, trace.xy, trace.ts, **reported),
        }
        for key, edges in runs.items():
            got[key] += int((edges == trace.edges).sum())
        total += len(trace.ts)
    assert got["online_rep"] > got["online"] + 0.05 * total
    assert got["offline_rep"] > got["offline"]


def test_a_reported_heading_picks_the_carriageway_at_the_first_fix(city: RoadNetwork) -> None:
    e = next(int(e) for e in range(city.n_edges) if city.edge_twin[e] >= 0)
    twin = int(city.edge_twin[e])
    length = float(city.edge_length_m[e])
    for edge in (e, twin):
        x, y, heading = city.position_at(edge, length / 2)
        hit = OnlineMatcher(city).push(x, y, 0.0, heading_rad=heading, speed_mps=8.0)
        assert hit is not None
        assert hit.edge == edge
        # Standing still, a heading says nothing: both carriageways stay possible.
        still = OnlineMatcher(city).push(x, y, 0.0, heading_rad=heading, speed_mps=0.0)
        assert still is not None
        assert still.edge in (e, twin)


def test_fleet_matcher_takes_reported_heading_and_speed(city: RoadNetwork) -> None:
    traces = _reported_traces(city, 1, seed=12)
    trace = traces[0]
    ids, ts = ["v"] * len(trace.ts), trace.ts.tolist()
    plain = FleetMatcher(city).match(ids, trace.xy, ts)
    reported = FleetMatcher(city).match(
        ids, trace.xy, ts, trace.heading_rad.tolist(), trace.speed_mps.tolist()
    )
    assert (reported == trace.edges).mean() > (plain == trace.edges).mean()
    partial = FleetMatcher(city).match(ids, trace.xy, ts, [None] * len(ts), [None] * len(ts))
    np.testing.assert_array_equal(partial, plain)


def test_along_track_places_fixes_on_a_short_edge_the_path_skipped(city: RoadNetwork) -> None:
    graph = LengthGraph(city)
    # Three edges in a row, the middle one short: the path names only the outer two.
    a, b, c = next(
        (int(a), int(b), int(c))
        for a in range(city.n_edges)
        for b in city.out_edges(int(city.edge_dst[a])).tolist()
        if b != city.edge_twin[a] and 8.0 < city.edge_length_m[b] < 30.0
        for c in city.out_edges(int(city.edge_dst[b])).tolist()
        if c != city.edge_twin[b]
    )
    speed = 5.0
    route = [a, b, c]
    lengths = city.edge_length_m[route]
    total = float(lengths.sum())
    t = np.arange(0.0, total / speed, 1.0)
    dist = t * speed
    which = np.minimum(np.searchsorted(np.cumsum(lengths), dist, side="right"), 2)
    starts = np.concatenate([[0.0], np.cumsum(lengths)[:-1]])
    xy = np.array(
        [city.position_at(route[k], d - starts[k])[:2] for k, d in zip(which, dist, strict=True)]
    )
    truth = [route[k] for k in which]
    states = [
        (a if k < 2 else c, float(d if k < 2 else 0.0), float(tt))
        for k, d, tt in zip(which, dist, t, strict=True)
    ]
    got = refine_path(graph, states, xy, sigma_m=2.0, accel_noise=1.0)
    assert b in got
    assert np.mean(np.array(got) == np.array(truth)) > 0.9


def test_length_graph_path_is_connected_and_bounded(city: RoadNetwork) -> None:
    graph = LengthGraph(city)
    route = DijkstraRouter(city).route(0, 50)
    assert route is not None
    edges = graph.path(0, 50, route.length_m * 3)
    assert edges is not None
    assert int(city.edge_src[edges[0]]) == 0
    assert int(city.edge_dst[edges[-1]]) == 50
    assert all(city.edge_dst[p] == city.edge_src[q] for p, q in itertools.pairwise(edges))
    assert graph.path(0, 50, 1.0) is None
    assert graph.path(7, 7, 0.0) == []
