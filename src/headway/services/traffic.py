"""Live traffic between processes: the `TrafficStore` port, and the follower that
applies what it holds to routers.

The processor that sees a vehicle's fixes estimates travel-time factors from them
(`streaming.traffic_feed`) and publishes them as one *part* per source; with several
processors each publishes its own, since each sees only its partitions' vehicles.
Readers get one snapshot merged from the parts: per edge, the factor of the source that
observed it last, skipping sources silent for longer than `stale_after_s` (a processor
that stopped). Every publish raises the map's version, so a reader polls one number and
reads the factors only when it has changed.

Routers are never touched by a publisher: `TrafficFollower` reads snapshots and calls
`set_traffic`, which builds the new weights aside and swaps them in, so a query sees
the old traffic or the new, never a mix.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from headway.services.metrics import Metrics

FloatArray = NDArray[np.float64]

log = logging.getLogger(__name__)

STALE_AFTER_S = 900.0


@dataclass(frozen=True, slots=True)
class TrafficPart:
    """What one source (one processor) published last."""

    source: str
    at: float
    """The source's clock when it computed the factors."""
    observations: int
    """Speed observations the source has folded in since it started."""
    factors: FloatArray
    observed_at: FloatArray
    """Per edge, when the source last observed it (-inf: never)."""


@dataclass(frozen=True, slots=True)
class TrafficSnapshot:
    """The factors in force on one map, merged from every live source."""

    version: int
    at: float
    factors: FloatArray
    observations: int
    sources: int

    @property
    def edges_observed(self) -> int:
        return int(np.count_nonzero(self.factors != 1.0))


class TrafficStore(Protocol):
    async def publish(self, map_id: str, part: TrafficPart) -> int:
        """Replace this source's part of the map's traffic; returns the new version."""
        ...

    async def version(self, map_id: str) -> int:
        """The map's traffic version, 0 before anything was published; cheap to poll."""
        ...

    async def latest(
        self, map_id: str, now: float, stale_after_s: float = STALE_AFTER_S
    ) -> TrafficSnapshot | None:
        """The merged snapshot, None when no source has published or all are stale."""
        ...


class SupportsTraffic(Protocol):
    def set_traffic(self, factors: ArrayLike | None) -> None: ...


def merge_parts(
    version: int, parts: Sequence[TrafficPart], now: float, stale_after_s: float
) -> TrafficSnapshot | None:
    """One snapshot from the parts still fresh: per edge, the newest observer's factor."""
    fresh = [p for p in parts if now - p.at <= stale_after_s]
    if not fresh:
        return None
    if len(fresh) == 1:
        factors = fresh[0].factors
    else:
        seen = np.stack([p.observed_at for p in fresh])
        newest = np.argmax(seen, axis=0)
        factors = np.stack([p.factors for p in fresh])[newest, np.arange(seen.shape[1])]
    return TrafficSnapshot(
        version=version,
        at=max(p.at for p in fresh),
        factors=factors,
        observations=sum(p.observations for p in fresh),
        sources=len(fresh),
    )


class TrafficFollower:
    """Keeps routers on the latest traffic of one map: polls the version every
    `every_s` and applies a new snapshot (or free flow once all sources are stale)."""

    def __init__(
        self,
        store: TrafficStore,
        map_id: str,
        routers: Sequence[SupportsTraffic],
        every_s: float = 5.0,
        stale_after_s: float = STALE_AFTER_S,
        clock: Callable[[], float] = time.time,
        metrics: Metrics | None = None,
        after_apply: Sequence[Callable[[], None]] = (),
    ) -> None:
        """after_apply: called once new factors are in force (e.g. to drop cached
        travel-time rows computed under the old ones)."""
        self._store = store
        self._after_apply = list(after_apply)
        self._metrics = metrics
        self._map_id = map_id
        self._routers = list(routers)
        self._every_s = every_s
        self._stale_after_s = stale_after_s
        self._clock = clock
        self._version = 0
        self.current: TrafficSnapshot | None = None
        self.failures = 0

    async def refresh(self) -> bool:
        """Apply the store's traffic if it changed (or went stale); True if applied."""
        version = await self._store.version(self._map_id)
        now = self._clock()
        stale = self.current is not None and now - self.current.at > self._stale_after_s
        if version == self._version and not stale:
            return False
        snapshot = await self._store.latest(self._map_id, now, self._stale_after_s)
        factors = None if snapshot is None else snapshot.factors
        before = None if self.current is None else self.current.factors
        if (factors is None and before is None) or (
            factors is not None and before is not None and np.array_equal(factors, before)
        ):
            self._version, self.current = version, snapshot
            return False  # a heartbeat: nothing to re-customise
        for router in self._routers:
            # On the loop's own thread, though re-customising takes 10-30 ms for a city:
            # RoutingKit's query objects are per thread and must be dropped by the thread
            # that made them, which a worker thread holding the router could break.
            router.set_traffic(factors)
        for hook in self._after_apply:
            hook()
        self._version = version
        self.current = snapshot
        if self._metrics is not None:
            self._metrics.traffic_version.set(version)
        return True

    async def run(self, stop: asyncio.Event) -> None:
        pause = self._every_s
        while not stop.is_set():
            try:
                await self.refresh()
                pause = self._every_s
            except Exception as exc:  # the store away: keep the traffic in force, retry
                self.failures += 1
                if self._metrics is not None:
                    self._metrics.traffic_failures.labels("read").inc()
                pause = min(pause * 2, 60.0)
                log.warning("traffic: cannot read the store (%s); retrying in %.0f s", exc, pause)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), pause)
