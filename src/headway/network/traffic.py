"""Observed speeds on road segments turned into the per-edge factors routing uses.

An observation is (edge, speed, time) from any source: a vehicle crossing the edge now,
a camera later. Its factor is free-flow speed over observed speed (2.0: twice as slow),
clamped to [min_factor, max_factor] so one bogus reading cannot close a road or make it
faster than free flow allows. Each edge keeps an exponentially smoothed factor whose
weight halves every `half_life_s`; without fresh observations it relaxes back to 1.0 at
the same rate, so stale congestion fades.

Pure: numpy in, numpy out, the caller's clock. Not thread-safe; one writer feeds it
and hands `factors(now)` to `router.set_traffic` (which is safe for readers).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from headway.network.errors import InvalidTrafficError
from headway.network.graph import RoadNetwork

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class TrafficParams:
    half_life_s: float = 300.0
    min_factor: float = 0.8
    """Below 1: observed faster than the speed limit; allowed a little, not much."""
    max_factor: float = 10.0
    min_speed_mps: float = 0.5
    """Slower readings are dropped: a vehicle standing at a stop or a light says
    nothing about the road's speed."""


class TrafficEstimator:
    """Per-edge smoothed travel-time factors from speed observations."""

    def __init__(self, network: RoadNetwork, params: TrafficParams | None = None) -> None:
        self.params = params or TrafficParams()
        p = self.params
        if not (0 < p.min_factor <= 1.0 <= p.max_factor) or p.half_life_s <= 0:
            raise InvalidTrafficError("need 0 < min_factor <= 1 <= max_factor, half_life_s > 0")
        self._free_mps = network.edge_speed_mps
        n = network.n_edges
        self._factor = np.ones(n, dtype=np.float64)
        self._at = np.full(n, -np.inf, dtype=np.float64)
        self.observations = 0

    def observe(self, edges: ArrayLike, speeds_mps: ArrayLike, ts: ArrayLike | float) -> int:
        """Fold in observations (in time order per edge); returns how many were used."""
        e = np.asarray(edges, dtype=np.int64).reshape(-1)
        v = np.asarray(speeds_mps, dtype=np.float64).reshape(-1)
        t = np.broadcast_to(np.asarray(ts, dtype=np.float64), e.shape)
        if v.shape != e.shape:
            raise InvalidTrafficError("give one speed per edge observation")
        n = len(self._factor)
        ok = (e >= 0) & (e < n) & np.isfinite(v) & (v >= self.params.min_speed_mps)
        ok &= np.isfinite(t)
        p = self.params
        for edge, speed, at in zip(e[ok].tolist(), v[ok].tolist(), t[ok].tolist(), strict=True):
            observed = min(max(self._free_mps[edge] / speed, p.min_factor), p.max_factor)
            current = self._decayed(edge, at)
            w = 1.0 - 0.5 ** (max(at - self._at[edge], 0.0) / p.half_life_s)
            self._factor[edge] = current + (observed - current) * max(w, 0.2)
            self._at[edge] = max(at, self._at[edge])
        used = int(ok.sum())
        self.observations += used
        return used

    def factors(self, now: float) -> FloatArray:
        """(n_edges,) factors at time now, for Router.set_traffic; 1.0 where unobserved."""
        age = np.maximum(now - self._at, 0.0)
        keep = np.where(np.isfinite(age), 0.5 ** (age / self.params.half_life_s), 0.0)
        out = 1.0 + (self._factor - 1.0) * keep
        return np.clip(out, self.params.min_factor, self.params.max_factor)

    def observed_at(self) -> FloatArray:
        """(n_edges,) time of each edge's newest observation; -inf where never observed.
        Lets factors from several estimators (one per processor) be merged per edge."""
        out: FloatArray = self._at.copy()
        return out

    def _decayed(self, edge: int, now: float) -> float:
        at = self._at[edge]
        if not np.isfinite(at):
            return 1.0
        keep = 0.5 ** (max(now - at, 0.0) / self.params.half_life_s)
        return float(1.0 + (self._factor[edge] - 1.0) * keep)
