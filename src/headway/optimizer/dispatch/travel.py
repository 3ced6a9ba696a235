"""The travel times the engine plans with, as a port, and its adapter over a router.

The engine asks for whole rows (one node to every node, every node to one node): an
insertion reads the time from each stop of every candidate plan to the new pickup and
on from it, and one search over a city of a few thousand nodes costs about a
millisecond, less than asking for the few hundred stops one by one.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Protocol

import numpy as np
import numpy.typing as npt

from headway.network.cch_router import CCHRouter

FloatArray = npt.NDArray[np.float64]


class TravelTimes(Protocol):
    """Seconds of driving between road nodes; inf where there is no way."""

    @property
    def n_nodes(self) -> int: ...

    def time(self, origin: int, target: int) -> float:
        """Seconds from origin to target."""
        ...

    def from_node(self, origin: int) -> FloatArray:
        """(n_nodes,) seconds from origin to every node."""
        ...

    def to_node(self, target: int) -> FloatArray:
        """(n_nodes,) seconds from every node to target."""
        ...

    def one_to_many(self, origin: int, targets: npt.ArrayLike) -> FloatArray:
        """(len(targets),) seconds from origin to each target."""
        ...

    def matrix(self, origins: npt.ArrayLike, targets: npt.ArrayLike) -> FloatArray:
        """(len(origins), len(targets)) seconds."""
        ...


class RouterTravelTimes:
    """TravelTimes over a CCHRouter, keeping the most recent rows (``cache_rows`` per
    direction). Call ``invalidate`` after the router's traffic changes."""

    def __init__(self, router: CCHRouter, cache_rows: int = 512) -> None:
        self._router = router
        self._cache_rows = cache_rows
        self._from: OrderedDict[int, FloatArray] = OrderedDict()
        self._to: OrderedDict[int, FloatArray] = OrderedDict()

    @property
    def n_nodes(self) -> int:
        return self._router.network.n_nodes

    def invalidate(self) -> None:
        """Forget cached rows (the router's weights changed)."""
        self._from.clear()
        self._to.clear()

    def time(self, origin: int, target: int) -> float:
        """Seconds from origin to target (from a cached row when there is one)."""
        row = self._from.get(origin)
        if row is not None:
            return float(row[target])
        row = self._to.get(target)
        if row is not None:
            return float(row[origin])
        return self._router.travel_time(origin, target)

    def from_node(self, origin: int) -> FloatArray:
        """(n_nodes,) seconds from origin to every node (cached)."""
        return self._cached(self._from, origin, self._router.travel_times_from)

    def to_node(self, target: int) -> FloatArray:
        """(n_nodes,) seconds from every node to target (cached)."""
        return self._cached(self._to, target, self._router.travel_times_to)

    def one_to_many(self, origin: int, targets: npt.ArrayLike) -> FloatArray:
        """(len(targets),) seconds from origin to each target."""
        idx = np.asarray(targets, dtype=np.int64)
        row = self._from.get(origin)
        if row is not None:
            out: FloatArray = row[idx]
            return out
        return self._router.travel_times_one_to_many(origin, idx)

    def matrix(self, origins: npt.ArrayLike, targets: npt.ArrayLike) -> FloatArray:
        """(len(origins), len(targets)) seconds, on the hierarchy."""
        return self._router.travel_time_matrix(origins, targets)

    def _cached(
        self, cache: OrderedDict[int, FloatArray], node: int, search: _Search
    ) -> FloatArray:
        row = cache.get(node)
        if row is None:
            row = search(node)
            row.setflags(write=False)
            cache[node] = row
            if len(cache) > self._cache_rows:
                cache.popitem(last=False)
        else:
            cache.move_to_end(node)
        return row


class _Search(Protocol):
    def __call__(self, node: int, /) -> FloatArray: ...
