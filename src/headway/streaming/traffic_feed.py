"""Live traffic from the fleet's own fixes: matched fixes in, travel-time factors out.

`SegmentVisits` (pure) turns each vehicle's consecutive matched fixes into one speed
observation per visit of a road segment: the run of fixes matched to the same edge,
ended when the vehicle moves to another edge, goes silent for `max_gap_s`, or has been
on the edge for `max_visit_s` (a long road, or a queue, still reports). A visit's speed
is the mean of the speeds the vehicle reported (VDA 5050's velocity: exact, where a
difference of two noisy fixes a second apart is not), or when it reports none, the
distance between the visit's first and last fix over the time between them, if that
is at least `min_span_s`. A visit in which the vehicle stood still (reported under
`moving_mps`), or that ended less than `near_stop_s` before it stood still or began
less than that after, is left out: a shuttle braking for a stop and pulling away says
little about the road, and would otherwise make every road near a stop look
congested. So a visit is reported `near_stop_s` after it ended, once it is clear no
stop followed. The price: queues in which traffic stops entirely are not seen, only
slow ones.

`TrafficFeed` is what the processor hands each batch of matched fixes to: it folds the
visits' observations into a `TrafficEstimator` and, from its own task, publishes the
factors to a `TrafficStore` every `publish_every_s`. Both run on the processor's event
loop, so no lock is needed; the cost per fix is a few dictionary operations.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from headway.network.graph import RoadNetwork
from headway.network.traffic import TrafficEstimator, TrafficParams
from headway.services.metrics import Metrics
from headway.services.traffic import TrafficPart, TrafficStore

log = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class VisitRules:
    max_gap_s: float = 30.0
    max_visit_s: float = 60.0
    min_span_s: float = 5.0
    moving_mps: float = 0.5
    near_stop_s: float = 15.0
    forget_after_s: float = 600.0


@dataclass(slots=True)
class _Visit:
    edge: int
    first_ts: float
    last_ts: float
    first_x: float
    first_y: float
    last_x: float
    last_y: float
    speed_sum: float = 0.0
    speed_n: int = 0
    reported: bool = False
    stopped: bool = False


class SegmentVisits:
    """Per-vehicle runs of fixes on one edge, each ended run one speed observation."""

    def __init__(self, rules: VisitRules | None = None) -> None:
        self.rules = rules or VisitRules()
        self._visits: dict[str, _Visit] = {}
        self._stood: dict[str, float] = {}
        """When each vehicle was last seen standing."""
        self._pending: dict[str, list[tuple[int, float, float]]] = {}
        """Ended visits (edge, speed, end) waiting to see whether a stop follows."""
        self._last_sweep = -math.inf

    def __len__(self) -> int:
        return len(self._visits)

    def add(
        self,
        vehicle_ids: Sequence[str],
        edges: ArrayLike,
        ts: Sequence[float],
        xy: ArrayLike,
        speeds: Sequence[float | None],
    ) -> tuple[list[int], list[float], list[float]]:
        """Fold in a batch of matched fixes (each vehicle's in time order); returns the
        observations of the visits it ended: (edges, speeds in m/s, times)."""
        out_e: list[int] = []
        out_v: list[float] = []
        out_t: list[float] = []
        rules = self.rules
        pts = np.asarray(xy, dtype=np.float64).reshape(-1, 2).tolist()
        edge_list = np.asarray(edges, dtype=np.int64).reshape(-1).tolist()
        for vid, edge, t, (x, y), speed in zip(
            vehicle_ids, edge_list, ts, pts, speeds, strict=True
        ):
            visit = self._visits.get(vid)
            if visit is not None and t < visit.last_ts:
                continue  # late or replayed: the visit has moved on
            if (
                visit is None
                or visit.edge != edge
                or t - visit.last_ts > rules.max_gap_s
                or t - visit.first_ts > rules.max_visit_s
            ):
                if visit is not None:
                    self._end(vid, visit)
                visit = self._visits[vid] = _Visit(edge, t, t, x, y, x, y)
            else:
                visit.last_ts, visit.last_x, visit.last_y = t, x, y
            if speed is not None and math.isfinite(speed):
                visit.reported = True
                if speed >= rules.moving_mps:
                    visit.speed_sum += speed
                    visit.speed_n += 1
                else:
                    visit.stopped = True
                    self._stood[vid] = t
                    held = self._pending.get(vid)
                    if held:  # braking for this stop: not the road's speed
                        held[:] = [h for h in held if h[2] < t - rules.near_stop_s]
            held = self._pending.get(vid)
            while held and held[0][2] < t - rules.near_stop_s:
                e, v, end = held.pop(0)
                out_e.append(e)
                out_v.append(v)
                out_t.append(end)
        if len(ts):
            self._forget(max(ts))
        return out_e, out_v, out_t

    def _end(self, vid: str, visit: _Visit) -> None:
        if visit.stopped or visit.first_ts - self._stood.get(vid, -math.inf) < (
            self.rules.near_stop_s
        ):
            return
        if visit.speed_n:
            speed = visit.speed_sum / visit.speed_n
        else:
            span = visit.last_ts - visit.first_ts
            if span < self.rules.min_span_s:
                return
            speed = math.hypot(visit.last_x - visit.first_x, visit.last_y - visit.first_y) / span
        self._pending.setdefault(vid, []).append((visit.edge, speed, visit.last_ts))

    def _forget(self, now: float) -> None:
        if now - self._last_sweep < 60.0:
            return
        self._last_sweep = now
        gone = [
            v
            for v, visit in self._visits.items()
            if now - visit.last_ts > self.rules.forget_after_s
        ]
        for vid in gone:
            del self._visits[vid]
            self._stood.pop(vid, None)
            self._pending.pop(vid, None)


class TrafficFeed:
    """The processor's traffic: visits → estimator → a store, every publish_every_s."""

    def __init__(
        self,
        network: RoadNetwork,
        store: TrafficStore,
        source: str,
        params: TrafficParams | None = None,
        rules: VisitRules | None = None,
        publish_every_s: float = 10.0,
        clock: Callable[[], float] = time.time,
        metrics: Metrics | None = None,
        heartbeat_s: float = 300.0,
        min_change: float = 0.02,
    ) -> None:
        """Every publish_every_s the factors are published if one moved by more than
        min_change (relative) anywhere, or heartbeat_s has passed (readers drop a silent source):
        each publish makes every router re-customise, and drops cached travel times."""
        self.map_id = network.frame.map_id
        self.estimator = TrafficEstimator(network, params)
        self.visits = SegmentVisits(rules)
        self._store = store
        self._source = source
        self._publish_every_s = publish_every_s
        self._clock = clock
        self._metrics = metrics
        self._heartbeat_s = heartbeat_s
        self._min_change = min_change
        self._published: tuple[float, FloatArray] | None = None
        self.version = 0
        self.failures = 0

    def add(
        self,
        vehicle_ids: Sequence[str],
        edges: ArrayLike,
        ts: Sequence[float],
        xy: ArrayLike,
        speeds: Sequence[float | None],
    ) -> int:
        """A batch of matched fixes; returns how many observations it gave."""
        e, v, t = self.visits.add(vehicle_ids, edges, ts, xy, speeds)
        if not e:
            return 0
        used = self.estimator.observe(e, v, t)
        if self._metrics is not None:
            self._metrics.traffic_observations.inc(used)
        return used

    async def publish(self, force: bool = True) -> int:
        """Publish the factors as they stand now (unless force is False and they have
        not changed enough); returns the store's version."""
        now = self._clock()
        factors = self.estimator.factors(now)
        last = self._published
        if (
            not force
            and last is not None
            and now - last[0] < self._heartbeat_s
            and float(np.max(np.abs(factors / last[1] - 1.0), initial=0.0)) <= self._min_change
        ):
            return self.version
        part = TrafficPart(
            source=self._source,
            at=now,
            observations=self.estimator.observations,
            factors=factors,
            observed_at=self.estimator.observed_at(),
        )
        self.version = await self._store.publish(self.map_id, part)
        self._published = (now, factors)
        if self._metrics is not None:
            self._metrics.traffic_version.set(self.version)
            self._metrics.traffic_edges_slowed.set(int(np.count_nonzero(part.factors > 1.1)))
        return self.version

    async def run(self, stop: asyncio.Event) -> None:
        pause = self._publish_every_s
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), pause)
            try:
                await self.publish(force=False)
                pause = self._publish_every_s
            except Exception as exc:  # the store away: the estimate carries on, retry
                self.failures += 1
                if self._metrics is not None:
                    self._metrics.traffic_failures.labels("publish").inc()
                pause = min(pause * 2, 60.0)
                log.warning("traffic: cannot publish (%s); retrying in %.0f s", exc, pause)
