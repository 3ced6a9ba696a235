"""Map matching: which road segment a vehicle is on, from a stream of noisy GPS fixes.

A hidden Markov model in the manner of Newson and Krumm (2009): the hidden state is a
point on an edge near the fix; a candidate is likelier the closer it is to the fix
(Gaussian, `gps_sigma_m`), and a move between candidates of consecutive fixes is
likelier the closer its driving distance is to the straight-line distance between the
fixes (exponential, `beta_m`). The driving distance follows the edges' direction, so the
two carriageways of a street are told apart by the way the vehicle moves along them.

`OnlineMatcher` runs the forward (filtering) pass one fix at a time and reports the
likeliest candidate of the newest fix: what a live system can know without waiting for
later fixes. It holds only the last fix's candidates and scores, so one per vehicle is
cheap. A fix with no road within `search_radius_m` is skipped (an outlier or a tunnel
exit); a fix that no candidate of the previous one can reach plausibly, or that comes
after a gap longer than `reset_after_s`, starts the model afresh. `FleetMatcher` keeps
one matcher per vehicle for the stream processor.

Driving distances come from a Dijkstra over edge lengths from each previous candidate's
end node, bounded by what the fixes make plausible, so a step costs a few small searches.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike, NDArray

from headway.network.graph import RoadNetwork

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class MatchParams:
    """Model parameters; the defaults suit GNSS fixes every 1-10 s with ~15 m noise."""

    gps_sigma_m: float = 15.0
    """Standard deviation of the position noise."""
    beta_m: float = 12.0
    """Scale of the disagreement between driving and straight-line distance."""
    search_radius_m: float = 60.0
    """Roads farther than this from a fix are not candidates (4 sigma)."""
    max_candidates: int = 8
    backtrack_m: float = 30.0
    """A move this far backwards along the same edge is noise, not a loop round."""
    reset_after_s: float = 120.0
    max_speed_mps: float = 45.0
    """A fix farther from the last than this speed allows is a jump: start afresh rather
    than search the road graph for a way between them (which would cost seconds)."""
    max_jump_m: float = 1500.0
    """The same bound when fixes carry no time."""
    stay_m: float = 6.0
    """OnlineMatcher's fast path: a fix this close to the road it was last matched to,
    further along it, keeps that road without a model step (most fixes of a moving
    vehicle), which makes live matching several times cheaper."""
    smooth_fixes: int = 4
    """Fixes either side averaged to smooth a trace (match_trace, path, smoothed)."""


@dataclass(frozen=True, slots=True)
class Match:
    """Where the newest fix was placed: `offset_m` along `edge`, `distance_m` from the fix."""

    edge: int
    offset_m: float
    distance_m: float
    restarted: bool
    """True when this fix started the model afresh (first fix, gap or implausible jump)."""


@dataclass(frozen=True, slots=True)
class _Step:
    """One matched fix: its candidates, back pointers into the previous fix's, the
    likeliest candidate at the time, and its timestamp."""

    edges: list[int]
    offsets: list[float]
    back: list[int]
    best: int
    ts: float


def _along_track(
    graph: LengthGraph, states: list[tuple[int, float, float]], window: int
) -> list[int]:
    """Reassign fixes between adjacent edges of the path by a smoothed distance along it."""
    edges = [e for e, _, _ in states]
    if window <= 0 or len(states) < 3:
        return edges
    out = list(edges)
    start = 0
    n = len(states)
    while start < n:
        # One run of the path along which consecutive edges join up.
        seq = [edges[start]]
        base = [0.0]
        s = [states[start][1]]
        end = start + 1
        while end < n:
            e, off, _ = states[end]
            if e == seq[-1]:
                s.append(base[-1] + off)
            elif graph.edge_dst[seq[-1]] == graph.edge_src[e] and graph.edge_twin[e] != seq[-1]:
                base.append(base[-1] + graph.edge_len[seq[-1]])
                seq.append(e)
                s.append(base[-1] + off)
            else:
                break
            end += 1
        if len(seq) > 1:
            t = np.array([ts for _, _, ts in states[start:end]])
            dist = np.array(s)
            ends = np.array(base[1:])
            for i in range(len(dist)):
                lo, hi = max(0, i - window), min(len(dist), i + window + 1)
                tt, ss = t[lo:hi], dist[lo:hi]
                if np.ptp(tt) > 0:
                    slope, icpt = np.polyfit(tt - t[i], ss, 1)
                    del slope
                    est = float(icpt)
                else:
                    est = float(ss.mean())
                out[start + i] = seq[int(np.searchsorted(ends, est, side="right"))]
        start = end
    return out


def _project(shape: FloatArray, x: float, y: float) -> tuple[float, float]:
    """(metres along the polyline, distance from it) of the nearest point to (x, y).
    Plain Python: road polylines have a handful of points, where numpy's per-call
    overhead would cost more than the arithmetic."""
    pts = shape.tolist()
    best_d, best_along, walked = math.inf, 0.0, 0.0
    for (ax, ay), (bx, by) in itertools.pairwise(pts):
        dx, dy = bx - ax, by - ay
        length = math.hypot(dx, dy)
        t = 0.0 if length == 0 else min(1.0, max(0.0, ((x - ax) * dx + (y - ay) * dy) / length**2))
        d = math.hypot(ax + t * dx - x, ay + t * dy - y)
        if d < best_d:
            best_d, best_along = d, walked + t * length
        walked += length
    return best_along, best_d


class LengthGraph:
    """The network's adjacency and edge lengths as plain lists, for bounded searches."""

    def __init__(self, network: RoadNetwork) -> None:
        self.network = network
        self.offsets: list[int] = network.out_offsets.tolist()
        self.heads: list[int] = network.edge_dst[network.out_edge_ids].tolist()
        self.costs: list[float] = network.edge_length_m[network.out_edge_ids].tolist()
        self.edge_src: list[int] = network.edge_src.tolist()
        self.edge_dst: list[int] = network.edge_dst.tolist()
        self.edge_len: list[float] = network.edge_length_m.tolist()
        self.edge_twin: list[int] = network.edge_twin.tolist()

    def distances(self, source: int, targets: set[int], limit_m: float) -> dict[int, float]:
        """Driving metres from source to each target reachable within limit_m."""
        found: dict[int, float] = {}
        if source in targets:
            found[source] = 0.0
            if len(found) == len(targets):
                return found
        best = {source: 0.0}
        heap = [(0.0, source)]
        offsets, heads, costs = self.offsets, self.heads, self.costs
        pop, push = heapq.heappop, heapq.heappush
        while heap:
            d, u = pop(heap)
            if d > best.get(u, math.inf):
                continue
            if u in targets:
                found[u] = d
                if len(found) == len(targets):
                    break
            for slot in range(offsets[u], offsets[u + 1]):
                nd = d + costs[slot]
                v = heads[slot]
                if nd <= limit_m and nd < best.get(v, math.inf):
                    best[v] = nd
                    push(heap, (nd, v))
        return found


class OnlineMatcher:
    """Forward HMM matching of one vehicle's fixes, one at a time."""

    def __init__(
        self,
        network: RoadNetwork,
        params: MatchParams | None = None,
        graph: LengthGraph | None = None,
        keep: int = 16,
    ) -> None:
        """keep: how many recent fixes to remember for smoothed()."""
        self.network = network
        self.params = params or MatchParams()
        self._graph = graph or LengthGraph(network)
        self._edges: list[int] = []
        self._offsets: list[float] = []
        self._scores: list[float] = []
        self._last: tuple[float, float, float] | None = None
        self._history: list[_Step] = []
        self._keep = keep
        self._placed: tuple[int, float, float] | None = None  # edge, offset, ts

    def reset(self) -> None:
        self._edges, self._offsets, self._scores = [], [], []
        self._last = None
        self._history = []
        self._placed = None

    def _stays(self, x: float, y: float, ts: float | None) -> Match | None:
        """The fast path: still on the last matched road, further along it."""
        if self._placed is None or self.params.stay_m <= 0:
            return None
        edge, offset, when = self._placed
        if ts is not None and (ts < when or ts - when > self.params.reset_after_s):
            return None
        along, distance = _project(self.network.edge_shape(edge), x, y)
        if distance > self.params.stay_m or along < offset - self.params.backtrack_m:
            return None
        self._placed = (edge, max(along, offset), when if ts is None else ts)
        return Match(edge, along, distance, False)

    def push(self, x: float, y: float, ts: float | None = None) -> Match | None:
        """Match the next fix (frame metres; ts in seconds, for gap detection).
        None when no road is within search_radius_m: the fix is skipped."""
        stayed = self._stays(x, y, ts)
        if stayed is not None:
            return stayed
        p = self.params
        edges, offsets, dists = self.network.roads_within(x, y, p.search_radius_m)
        if len(edges) == 0:
            return None
        edges, offsets, dists = (
            edges[: p.max_candidates],
            offsets[: p.max_candidates],
            dists[: p.max_candidates],
        )
        emission = (-0.5 * (dists / p.gps_sigma_m) ** 2).tolist()
        cand_edges: list[int] = edges.tolist()
        cand_offsets: list[float] = offsets.tolist()
        scores = emission
        back = [-1] * len(cand_edges)
        last = self._last
        gap = ts is not None and last is not None and ts - last[2] > p.reset_after_s
        restarted = True
        moved = math.hypot(x - last[0], y - last[1]) if last is not None else 0.0
        if last is not None:
            reach = (
                p.max_speed_mps * max(ts - last[2], 0.0) + 2 * p.search_radius_m
                if ts is not None
                else p.max_jump_m
            )
            gap = gap or moved > reach
        if last is not None and self._edges and not gap:
            step = self._step(moved, cand_edges, cand_offsets)
            if step is not None:
                scores = [s + e for s, e in zip(step[0], emission, strict=True)]
                back = step[1]
                restarted = False
        top = max(scores)
        self._edges, self._offsets = cand_edges, cand_offsets
        self._scores = [s - top for s in scores]
        self._last = (x, y, ts if ts is not None else (last[2] if last else 0.0))
        best = self._scores.index(0.0)
        self._history.append(_Step(cand_edges, cand_offsets, back, best, self._last[2]))
        if len(self._history) > self._keep:
            del self._history[0]
        self._placed = (cand_edges[best], cand_offsets[best], self._last[2])
        return Match(cand_edges[best], cand_offsets[best], float(dists[best]), restarted)

    def smoothed(self, lag: int) -> int | None:
        """The edge of the fix `lag` fixes before the newest, on the likeliest path
        through every kept fix (Viterbi), refined along the track (see path). Later
        fixes settle what earlier ones could not, e.g. on which side of a junction a fix
        lay. None when that fix is no longer kept (lag >= keep)."""
        path = self.path()
        if lag >= len(path):
            return None
        return path[len(path) - 1 - lag]

    def path(self, window: int | None = None) -> list[int]:
        """The edges of the kept fixes (oldest first) on the likeliest path so far.

        Along-track refinement: where the path runs on from edge to adjacent edge, each
        fix's distance along it is smoothed over `window` fixes either side (a local
        straight-line fit against time, as a vehicle's speed changes slowly) and the
        fix goes to the edge holding the smoothed distance. Position noise along the
        road is what makes a fix near a junction fall on the wrong side of it; this
        averages it out.
        """
        states = self._viterbi()
        if not states:
            return []
        return _along_track(
            self._graph, states, self.params.smooth_fixes if window is None else window
        )

    def _viterbi(self) -> list[tuple[int, float, float]]:
        """(edge, offset, ts) of the kept fixes on the likeliest path; across a restart,
        the part before it ends where it was likeliest at the time."""
        if not self._history:
            return []
        k = self._scores.index(0.0)
        out: list[tuple[int, float, float]] = []
        for idx in range(len(self._history) - 1, -1, -1):
            step = self._history[idx]
            out.append((step.edges[k], step.offsets[k], step.ts))
            k = step.back[k]
            if k < 0 and idx > 0:
                k = self._history[idx - 1].best
        out.reverse()
        return out

    def _step(
        self, straight_m: float, cand_edges: list[int], cand_offsets: list[float]
    ) -> tuple[list[float], list[int]] | None:
        """Best previous score plus transition for each candidate, and which previous
        candidate gave it; None when none can be reached plausibly."""
        p, g = self.params, self._graph
        limit = 2.0 * straight_m + 4.0 * p.gps_sigma_m + 50.0
        starts = {g.edge_src[e] for e in cand_edges}
        reach: dict[int, dict[int, float]] = {}
        out = [-math.inf] * len(cand_edges)
        back = [-1] * len(cand_edges)
        for k, (pe, po, ps) in enumerate(
            zip(self._edges, self._offsets, self._scores, strict=True)
        ):
            if ps < -50.0:
                continue  # hopeless, and not worth a search
            rest = g.edge_len[pe] - po
            head = g.edge_dst[pe]
            for i, (ce, co) in enumerate(zip(cand_edges, cand_offsets, strict=True)):
                if ce == pe and co >= po - p.backtrack_m:
                    driven = abs(co - po)
                else:
                    if rest > limit:
                        continue
                    found = reach.get(head)
                    if found is None:
                        found = reach[head] = g.distances(head, starts, limit)
                    via = found.get(g.edge_src[ce])
                    if via is None or rest + via > limit:
                        continue
                    driven = rest + via + co
                score = ps - abs(driven - straight_m) / p.beta_m
                if score > out[i]:
                    out[i] = score
                    back[i] = k
        if max(out) == -math.inf:
            return None
        return out, back


class FleetMatcher:
    """One OnlineMatcher per vehicle, for a stream processor that sees fixes in batches.

    Not thread-safe: one processor owns a vehicle's fixes (one writer per vehicle).
    Matchers of vehicles silent for forget_after_s are dropped.
    """

    def __init__(
        self,
        network: RoadNetwork,
        params: MatchParams | None = None,
        forget_after_s: float = 600.0,
    ) -> None:
        self.network = network
        self.params = params or MatchParams()
        self._graph = LengthGraph(network)
        self._matchers: dict[str, OnlineMatcher] = {}
        self._seen: dict[str, float] = {}
        self._forget_after_s = forget_after_s
        self._last_sweep = -math.inf

    def __len__(self) -> int:
        return len(self._matchers)

    def match(self, vehicle_ids: Sequence[str], xy: ArrayLike, ts: Sequence[float]) -> IntArray:
        """The edge of each fix, in order (fixes of one vehicle must come in time
        order). A fix with no road nearby gets the nearest edge, as snap would."""
        pts = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        out = np.empty(len(pts), dtype=np.int64)
        for i, (vid, (x, y), t) in enumerate(zip(vehicle_ids, pts.tolist(), ts, strict=True)):
            matcher = self._matchers.get(vid)
            if matcher is None:
                matcher = self._matchers[vid] = OnlineMatcher(
                    self.network, self.params, self._graph
                )
            self._seen[vid] = t
            hit = matcher.push(x, y, t)
            out[i] = hit.edge if hit is not None else self.network.snap(x, y).edge
        if len(ts):
            self._forget(max(ts))
        return out

    def _forget(self, now: float) -> None:
        if now - self._last_sweep < 60.0:
            return
        self._last_sweep = now
        stale = [v for v, t in self._seen.items() if now - t > self._forget_after_s]
        for vid in stale:
            del self._seen[vid]
            del self._matchers[vid]


def match_trace(
    network: RoadNetwork,
    xy: ArrayLike,
    ts: ArrayLike | None = None,
    params: MatchParams | None = None,
    *,
    online: bool = False,
) -> IntArray:
    """The edge of each fix of a whole trace (-1 where no road was near).

    Offline (the default) the fixes are first averaged over `smooth_fixes` neighbours
    either side, which divides the noise by about the square root of the window at the
    cost of cutting corners by a few metres, then matched, then refined along the track.
    With online=True each fix gets the edge the matcher reported when it came, from
    that fix and the ones before it only (what a live system knows at once).
    """
    p = params or MatchParams()
    pts = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    times = None if ts is None else np.asarray(ts, dtype=np.float64).tolist()
    if not online and p.smooth_fixes > 0 and len(pts) > 2:
        pts = _moving_average(pts, p.smooth_fixes)
        sigma = max(p.gps_sigma_m * 1.3 / math.sqrt(2 * p.smooth_fixes + 1), 5.0)
        p = replace(p, gps_sigma_m=sigma)
    if not online:
        p = replace(p, stay_m=0.0)  # the path needs a model step for every fix
    matcher = OnlineMatcher(network, p, keep=max(len(pts), 1))
    out = np.full(len(pts), -1, dtype=np.int64)
    kept: list[int] = []
    for i, (x, y) in enumerate(pts.tolist()):
        hit = matcher.push(x, y, None if times is None else times[i])
        if hit is not None:
            out[i] = hit.edge
            kept.append(i)
    if not online and kept:
        out[np.asarray(kept)] = matcher.path()
    return out


def _moving_average(pts: FloatArray, half: int) -> FloatArray:
    kernel = np.ones(2 * half + 1)
    count = np.convolve(np.ones(len(pts)), kernel, mode="same")
    return np.column_stack([np.convolve(pts[:, j], kernel, mode="same") / count for j in (0, 1)])
