"""Simulated GPS traces with known truth, to test and measure map matching.

A vehicle drives the fastest route between random nodes at each edge's speed; every
`interval_s` it reports its position plus Gaussian noise. The edge it was really on is
kept beside each fix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from headway.network.graph import RoadNetwork
from headway.network.routing import Router


@dataclass(frozen=True, slots=True)
class Trace:
    xy: NDArray[np.float64]
    """(n, 2) noisy fixes in frame metres."""
    ts: NDArray[np.float64]
    edges: NDArray[np.int64]
    """(n,) the edge the vehicle was on at each fix."""


def simulate_trace(
    network: RoadNetwork,
    router: Router,
    rng: np.random.Generator,
    *,
    legs: int = 3,
    interval_s: float = 2.0,
    sigma_m: float = 15.0,
) -> Trace:
    """A trace over `legs` consecutive routes between random nodes."""
    edges: list[int] = []
    node = int(rng.integers(network.n_nodes))
    while len(edges) == 0 or legs > 0:
        target = int(rng.integers(network.n_nodes))
        route = router.route(node, target)
        if route is None or not route.edges:
            continue
        edges.extend(int(e) for e in route.edges)
        node = target
        legs -= 1
    times = network.edge_time_s[edges]
    ends = np.cumsum(times)
    sample_t = np.arange(0.0, float(ends[-1]), interval_s)
    which = np.searchsorted(ends, sample_t, side="right")
    starts = ends - times
    xy = np.empty((len(sample_t), 2))
    for i, (k, t) in enumerate(zip(which.tolist(), sample_t.tolist(), strict=True)):
        e = edges[k]
        offset = (t - starts[k]) * float(network.edge_speed_mps[e])
        x, y, _ = network.position_at(e, offset)
        xy[i] = (x, y)
    noisy = xy + rng.normal(0.0, sigma_m, size=xy.shape)
    return Trace(noisy, sample_t, np.asarray([edges[k] for k in which.tolist()], dtype=np.int64))
