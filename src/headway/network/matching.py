"""Map matching: which road segment a vehicle is on, from a stream of noisy GPS fixes.

A hidden Markov model in the manner of Newson and Krumm (2009): the hidden state is a
point on an edge near the fix; a candidate is likelier the closer it is to the fix
(Gaussian, `gps_sigma_m`) and, when the vehicle reports a heading, the better its road
runs that way (von Mises, `heading_kappa`); a move between candidates of consecutive
fixes is likelier the closer its driving distance is to the distance expected (reported
speed times time, else the straight-line distance between the fixes; exponential). The
driving distance follows the edges' direction, so the two carriageways of a street are
told apart by the way the vehicle moves along them.

`OnlineMatcher` runs the forward (filtering) pass one fix at a time and reports the
likeliest candidate of the newest fix: what a live system can know without waiting for
later fixes. It matches each fix after filtering it in time (tracking.py). It holds only
the last fix's candidates and scores, so one per vehicle is cheap. `match_trace` matches
a whole trace offline and refines the path along the track (along_track.py).

A fix with no road within `search_radius_m` is skipped (an outlier or a tunnel exit); a
fix that no candidate of the previous one can reach plausibly, or that comes
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

from headway.network.along_track import refine_path
from headway.network.graph import RoadNetwork
from headway.network.tracking import Tracker, TrackParams

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
    """Fixes either side averaged to smooth a trace before matching (match_trace)."""
    offline_candidates: int = 12
    """max_candidates for match_trace offline, where cost matters less than accuracy."""
    accel_noise: float = 1.0
    """Along-track smoothing (path, smoothed, match_trace): how fast a vehicle's speed
    may change, as the spectral density of white acceleration noise (m^2/s^3)."""
    heading_kappa: float = 8.0
    """Weight of the heading a vehicle reports against a road's direction (von Mises
    concentration; 8 is loose, about 20 degrees, so a vehicle mid-turn still fits both
    roads of the turn)."""
    heading_min_speed_mps: float = 1.0
    """A heading reported below this speed is not used (standing, it means little)."""
    speed_beta_m: float = 12.0
    """With reported speeds, the driving distance is compared with speed times time
    (not the straight-line distance between two noisy fixes), on this scale."""
    speed_sigma_mps: float = 1.0
    """Noise of a reported speed as a measure of the speed along the road (smoothing)."""
    track_accel_noise: float = 4.0
    """OnlineMatcher filters the fixes in time before matching them (tracking.py); this
    is how fast the vehicle's velocity may change (m^2/s^3). 0 turns the filter off."""
    tracked_sigma_m: float = 12.0
    """The emission's sigma for filtered positions: less noisy than a fix, but late
    round corners."""


@dataclass(frozen=True, slots=True)
class Match:
    """Where the newest fix was placed: `offset_m` along `edge`, `distance_m` from the fix."""

    edge: int
    offset_m: float
    distance_m: float
    restarted: bool
    """True when this fix started the model afresh (first fix, gap or implausible jump)."""


@dataclass(frozen=True, slots=True)
class Pending:
    """A fix that left the road it was on: filtered position, time, the reported
    direction (unit vector) and speed, and the fix as reported."""

    x: float
    y: float
    ts: float | None
    facing: tuple[float, float] | None
    speed_mps: float | None
    raw: tuple[float, float]


@dataclass(frozen=True, slots=True)
class _Step:
    """One matched fix: its candidates, back pointers into the previous fix's, the
    likeliest candidate at the time, and its timestamp."""

    edges: list[int]
    offsets: list[float]
    back: list[int]
    best: int
    ts: float
    x: float
    y: float


def _project(pts: list[list[float]], x: float, y: float) -> tuple[float, float, float, float]:
    """(metres along the polyline, distance from it, unit direction x, y of the road
    there) of the nearest point to (x, y). Plain Python: road polylines have a handful
    of points, where numpy's per-call overhead would cost more than the arithmetic."""
    best_d, best_along, walked = math.inf, 0.0, 0.0
    ux, uy = 1.0, 0.0
    for (ax, ay), (bx, by) in itertools.pairwise(pts):
        dx, dy = bx - ax, by - ay
        length = math.hypot(dx, dy)
        t = 0.0 if length == 0 else min(1.0, max(0.0, ((x - ax) * dx + (y - ay) * dy) / length**2))
        d = math.hypot(ax + t * dx - x, ay + t * dy - y)
        if d < best_d and length > 0:
            best_d, best_along = d, walked + t * length
            ux, uy = dx / length, dy / length
        walked += length
    return best_along, best_d, ux, uy


class LengthGraph:
    """The network's adjacency and edge lengths as plain lists, for bounded searches."""

    def __init__(self, network: RoadNetwork) -> None:
        self.network = network
        self.offsets: list[int] = network.out_offsets.tolist()
        self.heads: list[int] = network.edge_dst[network.out_edge_ids].tolist()
        self.slot_edge: list[int] = network.out_edge_ids.tolist()
        self.costs: list[float] = network.edge_length_m[network.out_edge_ids].tolist()
        self.edge_src: list[int] = network.edge_src.tolist()
        self.edge_dst: list[int] = network.edge_dst.tolist()
        self.edge_len: list[float] = network.edge_length_m.tolist()
        self.edge_twin: list[int] = network.edge_twin.tolist()
        self._shapes: dict[int, list[list[float]]] = {}

    def shape(self, edge: int) -> list[list[float]]:
        """The edge's polyline as lists of [x, y] (kept: asked for again and again)."""
        found = self._shapes.get(edge)
        if found is None:
            found = self._shapes[edge] = self.network.edge_shape(edge).tolist()
        return found

    def path(self, source: int, target: int, limit_m: float) -> list[int] | None:
        """The edges of the shortest drive from source to target, None beyond limit_m."""
        if source == target:
            return []
        best = {source: 0.0}
        via: dict[int, int] = {}
        heap = [(0.0, source)]
        offsets, heads, costs = self.offsets, self.heads, self.costs
        while heap:
            d, u = heapq.heappop(heap)
            if d > best.get(u, math.inf):
                continue
            if u == target:
                edges: list[int] = []
                while u != source:
                    slot = via[u]
                    edges.append(self.slot_edge[slot])
                    u = self.edge_src[self.slot_edge[slot]]
                edges.reverse()
                return edges
            for slot in range(offsets[u], offsets[u + 1]):
                nd = d + costs[slot]
                v = heads[slot]
                if nd <= limit_m and nd < best.get(v, math.inf):
                    best[v] = nd
                    via[v] = slot
                    heapq.heappush(heap, (nd, v))
        return None

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
        self._last_speed: float | None = None
        self._history: list[_Step] = []
        self._keep = keep
        self._placed: tuple[int, float, float] | None = None  # edge, offset, ts
        self._tracker = (
            Tracker(
                TrackParams(
                    accel_noise=self.params.track_accel_noise,
                    fix_sigma_m=self.params.gps_sigma_m,
                    velocity_sigma_mps=self.params.speed_sigma_mps,
                    reset_after_s=self.params.reset_after_s,
                )
            )
            if self.params.track_accel_noise > 0
            else None
        )
        self._sigma_m = (
            self.params.gps_sigma_m if self._tracker is None else self.params.tracked_sigma_m
        )

    def reset(self) -> None:
        self._edges, self._offsets, self._scores = [], [], []
        self._last = None
        self._last_speed = None
        self._history = []
        self._placed = None
        if self._tracker is not None:
            self._tracker.reset()

    def _stays(
        self, x: float, y: float, ts: float | None, heading: tuple[float, float] | None
    ) -> Match | None:
        """The fast path: still on the last matched road, further along it (and, with a
        reported heading, running the same way)."""
        if self._placed is None or self.params.stay_m <= 0:
            return None
        edge, offset, when = self._placed
        if ts is not None and (ts < when or ts - when > self.params.reset_after_s):
            return None
        along, distance, ux, uy = _project(self._graph.shape(edge), x, y)
        if distance > self.params.stay_m or along < offset - self.params.backtrack_m:
            return None
        if heading is not None and ux * heading[0] + uy * heading[1] < 0.5:
            return None
        self._placed = (edge, max(along, offset), when if ts is None else ts)
        return Match(edge, along, distance, False)

    def push(
        self,
        x: float,
        y: float,
        ts: float | None = None,
        heading_rad: float | None = None,
        speed_mps: float | None = None,
    ) -> Match | None:
        """Match the next fix (frame metres; ts in seconds, for gap detection; the
        heading and speed the vehicle reports, when it does). None when no road is
        within search_radius_m: the fix is skipped."""
        fix = self.prepare(x, y, ts, heading_rad, speed_mps)
        if isinstance(fix, Match):
            return fix
        return self.finish(
            fix, self.network.roads_within_headings(fix.x, fix.y, self.params.search_radius_m)
        )

    def prepare(
        self,
        x: float,
        y: float,
        ts: float | None = None,
        heading_rad: float | None = None,
        speed_mps: float | None = None,
    ) -> Match | Pending:
        """The first half of push: the fix filtered in time, and its match if it stays
        on the road it was on; else what finish() needs once it has the roads near the
        filtered position (FleetMatcher looks those up for many fixes at once)."""
        p = self.params
        if speed_mps is not None and not math.isfinite(speed_mps):
            speed_mps = None
        facing = None
        if (
            heading_rad is not None
            and math.isfinite(heading_rad)
            and (speed_mps is None or speed_mps >= p.heading_min_speed_mps)
        ):
            facing = (math.cos(heading_rad), math.sin(heading_rad))
        raw = (x, y)
        if self._tracker is not None:
            velocity = None
            if facing is not None and speed_mps is not None:
                velocity = (speed_mps * facing[0], speed_mps * facing[1])
            elif speed_mps is not None and speed_mps < p.heading_min_speed_mps:
                velocity = (0.0, 0.0)
            x, y = self._tracker.update(x, y, ts, velocity)
        stayed = self._stays(x, y, ts, facing)
        if stayed is not None:
            self._last_speed = None  # the next model step spans fixes it did not see
            return stayed
        return Pending(x, y, ts, facing, speed_mps, raw)

    def finish(
        self, fix: Pending, near: tuple[IntArray, FloatArray, FloatArray, FloatArray]
    ) -> Match | None:
        """The second half of push: one model step over the roads near the fix
        (roads_within_headings at the filtered position, search_radius_m)."""
        p = self.params
        x, y, ts, facing, speed_mps = fix.x, fix.y, fix.ts, fix.facing, fix.speed_mps
        edges, offsets, dists, headings = near
        if len(edges) == 0:
            return None
        m = p.max_candidates
        edges, offsets, dists = edges[:m], offsets[:m], dists[:m]
        log_emission = -0.5 * (dists / self._sigma_m) ** 2
        if facing is not None:
            agree = np.cos(headings[:m]) * facing[0] + np.sin(headings[:m]) * facing[1]
            log_emission += p.heading_kappa * (agree - 1.0)
        emission: list[float] = log_emission.tolist()
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
        expected = None
        if (
            last is not None
            and ts is not None
            and speed_mps is not None
            and self._last_speed is not None
        ):
            expected = 0.5 * (speed_mps + self._last_speed) * max(ts - last[2], 0.0)
        if last is not None and self._edges and not gap:
            step = self._step(moved, cand_edges, cand_offsets, expected)
            if step is not None:
                scores = [s + e for s, e in zip(step[0], emission, strict=True)]
                back = step[1]
                restarted = False
        top = max(scores)
        self._edges, self._offsets = cand_edges, cand_offsets
        self._scores = [s - top for s in scores]
        self._last = (x, y, ts if ts is not None else (last[2] if last else 0.0))
        self._last_speed = speed_mps
        best = self._scores.index(0.0)
        self._history.append(_Step(cand_edges, cand_offsets, back, best, self._last[2], *fix.raw))
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

    def path(
        self,
        xy: ArrayLike | None = None,
        speeds: Sequence[float | None] | None = None,
        sigma_m: float | None = None,
    ) -> list[int]:
        """The edges of the kept fixes (oldest first) on the likeliest path so far,
        refined along the track (see along_track): where the path runs on from edge to
        edge, each fix goes to the edge holding its smoothed distance along the path.

        xy: the fixes to measure that distance from, one per kept fix, and sigma_m
        their noise (match_trace passes the raw fixes when it matched averaged ones);
        default the pushed ones. speeds: the speed reported with each, if any.
        """
        states = self._viterbi()
        if not states:
            return []
        if xy is None:
            pts = np.array([(step.x, step.y) for step in self._history], dtype=np.float64)
        else:
            pts = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        p = self.params
        return refine_path(
            self._graph,
            states,
            pts,
            p.gps_sigma_m if sigma_m is None else sigma_m,
            p.accel_noise,
            speeds,
            p.speed_sigma_mps,
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
        self,
        straight_m: float,
        cand_edges: list[int],
        cand_offsets: list[float],
        expected_m: float | None = None,
    ) -> tuple[list[float], list[int]] | None:
        """Best previous score plus transition for each candidate, and which previous
        candidate gave it; None when none can be reached plausibly. The driving
        distance is compared with expected_m (reported speed times time) when known,
        else with the straight-line distance between the fixes."""
        p, g = self.params, self._graph
        if expected_m is None:
            target, beta = straight_m, p.beta_m
        else:
            target, beta = expected_m, p.speed_beta_m
        limit = 2.0 * max(straight_m, target) + 4.0 * p.gps_sigma_m + 50.0
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
                score = ps - abs(driven - target) / beta
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

    def match(
        self,
        vehicle_ids: Sequence[str],
        xy: ArrayLike,
        ts: Sequence[float],
        headings: Sequence[float | None] | None = None,
        speeds: Sequence[float | None] | None = None,
    ) -> IntArray:
        """The edge of each fix, in order (fixes of one vehicle must come in time
        order), using the heading and speed each vehicle reported where given. A fix
        with no road nearby gets the nearest edge, as snap would."""
        pts = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        out = np.empty(len(pts), dtype=np.int64)
        n = len(pts)
        heading_of: Sequence[float | None] = [None] * n if headings is None else headings
        speed_of: Sequence[float | None] = [None] * n if speeds is None else speeds
        # Fixes that leave their road need the roads near them: looked up together,
        # once per round, where a round ends before a vehicle's second fix.
        waiting: dict[str, tuple[int, OnlineMatcher, Pending]] = {}

        def settle() -> None:
            rows = list(waiting.values())
            near = self.network.roads_within_headings_many(
                [(fix.x, fix.y) for _, _, fix in rows], self.params.search_radius_m
            )
            for (i, matcher, fix), roads in zip(rows, near, strict=True):
                hit = matcher.finish(fix, roads)
                out[i] = hit.edge if hit is not None else self.network.snap(*fix.raw).edge
            waiting.clear()

        for i, (vid, (x, y), t, h, v) in enumerate(
            zip(vehicle_ids, pts.tolist(), ts, heading_of, speed_of, strict=True)
        ):
            if vid in waiting:
                settle()
            matcher = self._matchers.get(vid)
            if matcher is None:
                matcher = self._matchers[vid] = OnlineMatcher(
                    self.network, self.params, self._graph
                )
            self._seen[vid] = t
            fix = matcher.prepare(x, y, t, h, v)
            if isinstance(fix, Match):
                out[i] = fix.edge
            else:
                waiting[vid] = (i, matcher, fix)
        if waiting:
            settle()
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
    headings: ArrayLike | None = None,
    speeds: ArrayLike | None = None,
) -> IntArray:
    """The edge of each fix of a whole trace (-1 where no road was near).

    Offline (the default) the fixes are first averaged over `smooth_fixes` neighbours
    either side, which divides the noise by about the square root of the window at the
    cost of cutting corners by a few metres, then matched, then refined along the track.
    With online=True each fix gets the edge the matcher reported when it came, from
    that fix and the ones before it only (what a live system knows at once).
    headings and speeds: what the vehicle reported with each fix, when it did.
    """
    p = params or MatchParams()
    raw = pts = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    times = None if ts is None else np.asarray(ts, dtype=np.float64).tolist()
    model = p
    if not online and p.smooth_fixes > 0 and len(pts) > 2:
        pts = _moving_average(pts, p.smooth_fixes)
        sigma = max(p.gps_sigma_m * 1.3 / math.sqrt(2 * p.smooth_fixes + 1), 5.0)
        model = replace(p, gps_sigma_m=sigma)
    if not online:
        # The path needs a model step for every fix; cost matters less than accuracy.
        model = replace(
            model, stay_m=0.0, max_candidates=p.offline_candidates, track_accel_noise=0.0
        )
    n = len(pts)
    heading_of = [None] * n if headings is None else np.asarray(headings, float).tolist()
    speed_of = [None] * n if speeds is None else np.asarray(speeds, float).tolist()
    matcher = OnlineMatcher(network, model, keep=max(len(pts), 1))
    out = np.full(len(pts), -1, dtype=np.int64)
    kept: list[int] = []
    for i, (x, y) in enumerate(pts.tolist()):
        hit = matcher.push(x, y, None if times is None else times[i], heading_of[i], speed_of[i])
        if hit is not None:
            out[i] = hit.edge
            kept.append(i)
    if not online and kept:
        rows = np.asarray(kept)
        picked = None if speeds is None else [speed_of[i] for i in kept]
        out[rows] = matcher.path(raw[rows], picked, sigma_m=p.gps_sigma_m)
    return out


def _moving_average(pts: FloatArray, half: int) -> FloatArray:
    kernel = np.ones(2 * half + 1)
    count = np.convolve(np.ones(len(pts)), kernel, mode="same")
    return np.column_stack([np.convolve(pts[:, j], kernel, mode="same") / count for j in (0, 1)])
