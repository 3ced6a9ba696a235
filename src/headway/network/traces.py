"""Simulated GPS traces with known truth, to test and measure map matching.

A vehicle drives the fastest route between random nodes at each edge's speed; every
`interval_s` it reports its position plus Gaussian noise. The edge it was really on is
kept beside each fix. It also reports its heading and speed, as a vehicle's state does:
exact (as Headway's simulator reports them), or with Gaussian noise drawn from
`report_rng`, a generator of their own so the positions stay those of the same seed.
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
    heading_rad: NDArray[np.float64]
    """(n,) reported heading, radians counter-clockwise from east."""
    speed_mps: NDArray[np.float64]
    """(n,) reported speed."""


def simulate_trace(
    network: RoadNetwork,
    router: Router,
    rng: np.random.Generator,
    *,
    legs: int = 3,
    interval_s: float = 2.0,
    sigma_m: float = 15.0,
    report_rng: np.random.Generator | None = None,
    heading_sigma_rad: float = 0.1,
    speed_sigma_mps: float = 0.5,
) -> Trace:
    """A trace over `legs` consecutive routes between random nodes; heading and speed
    carry noise only when report_rng is given."""
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
    heading = np.empty(len(sample_t))
    for i, (k, t) in enumerate(zip(which.tolist(), sample_t.tolist(), strict=True)):
        e = edges[k]
        offset = (t - starts[k]) * float(network.edge_speed_mps[e])
        x, y, heading[i] = network.position_at(e, offset)
        xy[i] = (x, y)
    noisy = xy + rng.normal(0.0, sigma_m, size=xy.shape)
    on = np.asarray([edges[k] for k in which.tolist()], dtype=np.int64)
    speed = network.edge_speed_mps[on].astype(np.float64)
    if report_rng is not None:
        heading = heading + report_rng.normal(0.0, heading_sigma_rad, size=heading.shape)
        heading = np.remainder(heading + np.pi, 2 * np.pi) - np.pi
        speed = np.maximum(speed + report_rng.normal(0.0, speed_sigma_mps, size=speed.shape), 0.0)
    return Trace(noisy, sample_t, on, heading, speed)
