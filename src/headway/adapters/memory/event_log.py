"""The embedded profile's event log: partitioned, offset-addressed, in process memory.

It behaves like a Kafka topic as far as Headway relies on it: records keyed by vehicle
keep their order within a partition, a consumer group resumes from its last commit,
and records are bytes, so the same codecs run in both profiles. Records are kept until
every group has committed past them (bounded by ``retain``).
"""

from __future__ import annotations

import asyncio
import contextlib
import zlib
from collections.abc import Sequence

from headway.services.ports import Positions, Record


class _Partition:
    __slots__ = ("base", "records")

    def __init__(self) -> None:
        self.base = 0  # offset of records[0]
        self.records: list[Record] = []

    @property
    def end(self) -> int:
        return self.base + len(self.records)


class MemoryEventLog:
    def __init__(self, partitions: int = 6, retain: int = 200_000) -> None:
        self._partitions = partitions
        self._retain = retain
        self._topics: dict[str, list[_Partition]] = {}
        self._committed: dict[tuple[str, str, int], int] = {}
        self._arrived = asyncio.Event()

    def _topic(self, topic: str) -> list[_Partition]:
        parts = self._topics.get(topic)
        if parts is None:
            parts = self._topics[topic] = [_Partition() for _ in range(self._partitions)]
        return parts

    def partition_for(self, key: str) -> int:
        return zlib.crc32(key.encode()) % self._partitions

    def produce(self, topic: str, key: str, value: bytes) -> None:
        index = self.partition_for(key)
        part = self._topic(topic)[index]
        part.records.append(Record(topic, index, part.end, key, value))
        if len(part.records) > self._retain:
            drop = len(part.records) - self._retain
            del part.records[:drop]
            part.base += drop
        self._arrived.set()

    async def flush(self) -> None:
        """Nothing to wait for: a produced record is already readable."""

    async def close(self) -> None:
        """Nothing to release."""

    def consumer(self, group: str, topics: Sequence[str]) -> MemoryEventConsumer:
        return MemoryEventConsumer(self, group, tuple(topics))

    def end_offsets(self, topic: str) -> list[int]:
        return [p.end for p in self._topic(topic)]

    def _read(self, topic: str, partition: int, offset: int, limit: int) -> list[Record]:
        part = self._topic(topic)[partition]
        start = max(offset, part.base) - part.base
        return part.records[start : start + limit]

    async def _wait(self, timeout_s: float) -> None:
        self._arrived.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._arrived.wait(), timeout_s)


class MemoryEventConsumer:
    """One member of a group; in the embedded profile a group has one member."""

    def __init__(self, log: MemoryEventLog, group: str, topics: tuple[str, ...]) -> None:
        self._log = log
        self._group = group
        self._topics = topics
        self._position: dict[tuple[str, int], int] = {}
        for topic in topics:
            for partition in range(log._partitions):
                key = (group, topic, partition)
                self._position[(topic, partition)] = log._committed.get(key, 0)

    async def poll(self, max_records: int, timeout_s: float) -> list[Record]:
        batch = self._take(max_records)
        if not batch and timeout_s > 0:
            await self._log._wait(timeout_s)
            batch = self._take(max_records)
        return batch

    def _take(self, max_records: int) -> list[Record]:
        batch: list[Record] = []
        for (topic, partition), offset in self._position.items():
            if len(batch) >= max_records:
                break
            got = self._log._read(topic, partition, offset, max_records - len(batch))
            if got:
                batch.extend(got)
                self._position[(topic, partition)] = got[-1].offset + 1
        return batch

    def positions(self) -> Positions:
        return dict(self._position)

    async def commit(self, positions: Positions | None = None) -> None:
        for (topic, partition), offset in (positions or self._position).items():
            self._log._committed[(self._group, topic, partition)] = offset

    async def rewind(self) -> None:
        for topic, partition in self._position:
            key = (self._group, topic, partition)
            self._position[(topic, partition)] = self._log._committed.get(key, 0)

    async def close(self) -> None:
        """Uncommitted positions are forgotten, as with Kafka."""
