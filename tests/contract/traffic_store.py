"""What every TrafficStore adapter must do; run against each adapter by subclassing.

`make_stores` returns a writer and a reader over the same data (two clients of one
Redis, or one in-memory store twice), so a test sees what another process would.
"""

from __future__ import annotations

import numpy as np

from headway.services.traffic import TrafficPart, TrafficStore

EDGES = 50


def part(source: str, at: float, factor: float, seen: float, observations: int = 3) -> TrafficPart:
    factors = np.ones(EDGES)
    observed = np.full(EDGES, -np.inf)
    factors[:10] = factor
    observed[:10] = seen
    return TrafficPart(source, at, observations, factors, observed)


class TrafficStoreContract:
    async def make_stores(self) -> tuple[TrafficStore, TrafficStore]:
        raise NotImplementedError

    async def test_nothing_published_is_version_zero_and_no_snapshot(self) -> None:
        _, reader = await self.make_stores()
        assert await reader.version("m") == 0
        assert await reader.latest("m", now=100.0) is None

    async def test_a_publish_is_read_back_whole_with_a_new_version(self) -> None:
        writer, reader = await self.make_stores()
        published = part("p1", at=100.0, factor=2.5, seen=99.0, observations=7)
        published.factors[20] = np.inf  # a closed road survives the round trip
        v1 = await writer.publish("m", published)
        assert v1 >= 1
        assert await reader.version("m") == v1
        snap = await reader.latest("m", now=101.0)
        assert snap is not None
        assert snap.version == v1
        np.testing.assert_array_equal(snap.factors, published.factors)
        assert (snap.at, snap.observations, snap.sources) == (100.0, 7, 1)
        v2 = await writer.publish("m", part("p1", at=110.0, factor=1.5, seen=109.0))
        assert v2 > v1
        again = await reader.latest("m", now=111.0)
        assert again is not None
        assert again.version == v2
        assert again.factors[0] == 1.5
        assert again.sources == 1  # the same source replaced its part

    async def test_maps_are_separate(self) -> None:
        writer, reader = await self.make_stores()
        await writer.publish("a", part("p1", at=100.0, factor=3.0, seen=99.0))
        assert await reader.version("b") == 0
        assert await reader.latest("b", now=100.0) is None

    async def test_parts_merge_per_edge_by_the_newest_observation(self) -> None:
        writer, reader = await self.make_stores()
        old = part("p1", at=100.0, factor=3.0, seen=50.0, observations=4)
        new = part("p2", at=100.0, factor=1.2, seen=90.0, observations=5)
        old.factors[30], old.observed_at[30] = 4.0, 60.0  # only p1 saw edge 30
        await writer.publish("m", old)
        await writer.publish("m", new)
        snap = await reader.latest("m", now=100.0)
        assert snap is not None
        assert snap.sources == 2
        assert snap.observations == 9
        assert snap.factors[0] == 1.2  # p2 saw it later
        assert snap.factors[30] == 4.0
        assert snap.factors[40] == 1.0

    async def test_a_silent_source_goes_stale(self) -> None:
        writer, reader = await self.make_stores()
        await writer.publish("m", part("gone", at=100.0, factor=5.0, seen=99.0))
        await writer.publish("m", part("live", at=1000.0, factor=1.5, seen=50.0))
        snap = await reader.latest("m", now=1000.0, stale_after_s=300.0)
        assert snap is not None
        assert snap.sources == 1
        assert snap.factors[0] == 1.5
        assert await reader.latest("m", now=5000.0, stale_after_s=300.0) is None
