"""Along-track refinement of a matched path: which side of a junction each fix lies on.

The Viterbi path says which roads a vehicle drove; noise along the road is what puts a
fix near a junction on the wrong side of it, and no model of position alone can undo
that. Smoothing in time can: a vehicle's distance along its path changes smoothly.

Along each run of the path (edges that join up, with short gaps the path skipped filled
by the shortest way between them, so a fix may land on an edge no candidate offered),
every fix gives a measurement of its distance along the run: its offset along the
tangent of the path at the current estimate. Using the tangent rather than the nearest
point keeps noise across the road out of the distance at corners. A Rauch-Tung-Striebel
smoother with a constant-velocity model (white acceleration noise, `accel_noise`) turns
those into a smoothed distance per fix, relinearised a few times; each fix then goes to
the edge holding its smoothed distance.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from headway.network.matching import LengthGraph

FloatArray = NDArray[np.float64]

GAP_FILL_M = 250.0
"""Longest skipped stretch filled in between two edges of the path; beyond, a new run."""


def refine_path(
    graph: LengthGraph,
    states: Sequence[tuple[int, float, float]],
    xy: FloatArray,
    sigma_m: float,
    accel_noise: float,
    speeds: Sequence[float | None] | None = None,
    speed_sigma_mps: float = 1.0,
    passes: int = 2,
) -> list[int]:
    """Edges of the fixes after along-track smoothing.

    states: (edge, offset, ts) of each fix on the likeliest path, in time order; xy:
    the fixes themselves (n, 2), whose noise sigma_m is along and across the road;
    speeds: what the vehicle reported with each fix, if anything (a measure of the rate
    of change of the distance, noise speed_sigma_mps).
    """
    edges = [e for e, _, _ in states]
    n = len(states)
    out = list(edges)
    if n < 3:
        return out
    start = 0
    while start < n:
        seq, base, slot, end = _run(graph, states, start)
        if len(seq) > 1 and end - start > 2:
            t = [ts for _, _, ts in states[start:end]]
            if max(t) - min(t) <= 0:
                t = [float(i) for i in range(end - start)]
            s = [base[slot[i]] + states[start + i][1] for i in range(end - start)]
            line = _Polyline(graph, seq)
            pts = xy[start:end]
            v = None if speeds is None else list(speeds[start:end])
            rv = speed_sigma_mps**2
            s = _smooth(t, s, sigma_m**2 * 0.25, accel_noise, v, rv)
            for _ in range(passes):
                z = line.tangent_offsets(np.asarray(s), pts)
                s = _smooth(t, z.tolist(), sigma_m**2, accel_noise, v, rv)
            ends = np.asarray(base[1:])
            picks = np.searchsorted(ends, np.asarray(s), side="right").tolist()
            for i, k in enumerate(picks):
                out[start + i] = seq[k]
        start = end
    return out


def _run(
    graph: LengthGraph, states: Sequence[tuple[int, float, float]], start: int
) -> tuple[list[int], list[float], list[int], int]:
    """One run of the path from fix `start`: its edges, the distance at which each
    begins, the index into them of each fix, and the fix after the run."""
    seq = [states[start][0]]
    base = [0.0]
    slot = [0]
    end = start + 1
    n = len(states)
    while end < n:
        e = states[end][0]
        last = seq[-1]
        if e != last:
            if graph.edge_twin[e] == last:
                break  # a U-turn: distance along the road runs backwards
            if graph.edge_dst[last] == graph.edge_src[e]:
                link: list[int] | None = []
            else:
                link = graph.path(graph.edge_dst[last], graph.edge_src[e], GAP_FILL_M)
            if link is None:
                break
            for hop in (*link, e):
                base.append(base[-1] + graph.edge_len[seq[-1]])
                seq.append(hop)
        slot.append(len(seq) - 1)
        end += 1
    return seq, base, slot, end


class _Polyline:
    """A run's edges joined into one polyline, with its cumulative length."""

    def __init__(self, graph: LengthGraph, seq: list[int]) -> None:
        net = graph.network
        parts = [net.edge_shape(e) for e in seq]
        pts = np.concatenate([parts[0], *(p[1:] for p in parts[1:])])
        step = np.diff(pts, axis=0)
        length = np.hypot(step[:, 0], step[:, 1])
        keep = length > 1e-9  # repeated points have no direction
        if not keep.any():
            keep[0] = True
        self._a = pts[:-1][keep]
        self._dir = step[keep] / np.maximum(length[keep], 1e-9)[:, None]
        self._cum = np.concatenate([[0.0], np.cumsum(length[keep])])[:-1]
        self._total = float(length.sum())

    def tangent_offsets(self, s: FloatArray, pts: FloatArray) -> FloatArray:
        """Each fix's distance along the polyline, measured along the tangent at s."""
        sc = np.clip(s, 0.0, self._total)
        k = np.clip(np.searchsorted(self._cum, sc, side="right") - 1, 0, len(self._cum) - 1)
        d = self._dir[k]
        pos = self._a[k] + d * (sc - self._cum[k])[:, None]
        out: FloatArray = sc + ((pts - pos) * d).sum(axis=1)
        return out


def _smooth(
    t: list[float],
    z: list[float],
    r: float,
    q: float,
    speeds: list[float | None] | None = None,
    rv: float = 1.0,
) -> list[float]:
    """Rauch-Tung-Striebel smoothing of distances z at times t: constant velocity,
    white acceleration of spectral density q, measurement variance r; speeds, where
    given, measure the velocity with variance rv. Scalar Python: the state is 2x2,
    where numpy's per-call overhead would dominate."""
    n = len(z)
    # Filtered state (s, v) and covariance (a, b; b, c); predicted ones kept for the
    # backward pass.
    fs, fv, fa, fb, fc = [0.0] * n, [0.0] * n, [0.0] * n, [0.0] * n, [0.0] * n
    ps, pv, pa, pb, pc = [0.0] * n, [0.0] * n, [0.0] * n, [0.0] * n, [0.0] * n
    s, v, a, b, c = z[0], 0.0, r, 0.0, 400.0
    for i in range(n):
        if i > 0:
            dt = t[i] - t[i - 1]
            s += v * dt
            a, b, c = (
                a + 2 * dt * b + dt * dt * c + q * dt**3 / 3,
                b + dt * c + q * dt * dt / 2,
                c + q * dt,
            )
        ps[i], pv[i], pa[i], pb[i], pc[i] = s, v, a, b, c
        gain = 1.0 / (a + r)
        k0, k1 = a * gain, b * gain
        innovation = z[i] - s
        s, v = s + k0 * innovation, v + k1 * innovation
        a, b, c = a - k0 * a, b - k0 * b, c - k1 * b
        speed = None if speeds is None else speeds[i]
        if speed is not None and math.isfinite(speed):
            gain = 1.0 / (c + rv)
            k0, k1 = b * gain, c * gain
            innovation = speed - v
            s, v = s + k0 * innovation, v + k1 * innovation
            a, b, c = a - k0 * b, b - k0 * c, c - k1 * c
        fs[i], fv[i], fa[i], fb[i], fc[i] = s, v, a, b, c
    out = [0.0] * n
    out[-1] = fs[-1]
    ss, sv = fs[-1], fv[-1]
    for i in range(n - 2, -1, -1):
        dt = t[i + 1] - t[i]
        # C = P_f F^T P_pred^-1, with F = [[1, dt], [0, 1]].
        a, b, c = fa[i], fb[i], fc[i]
        m00, m01, m10, m11 = a + dt * b, b, b + dt * c, c
        qa, qb, qc = pa[i + 1], pb[i + 1], pc[i + 1]
        det = qa * qc - qb * qb
        if det <= 0 or not math.isfinite(det):
            ss, sv = fs[i], fv[i]
        else:
            i00, i01, i11 = qc / det, -qb / det, qa / det
            c00, c01 = m00 * i00 + m01 * i01, m00 * i01 + m01 * i11
            c10, c11 = m10 * i00 + m11 * i01, m10 * i01 + m11 * i11
            ds, dv = ss - ps[i + 1], sv - pv[i + 1]
            ss, sv = fs[i] + c00 * ds + c01 * dv, fv[i] + c10 * ds + c11 * dv
        out[i] = ss
    return out
