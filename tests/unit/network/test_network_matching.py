from __future__ import annotations

import numpy as np
import pytest

from headway.network import DijkstraRouter, RoadNetwork
from headway.network.matching import FleetMatcher, MatchParams, OnlineMatcher, match_trace
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
    assert online_right / total > 0.6
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
