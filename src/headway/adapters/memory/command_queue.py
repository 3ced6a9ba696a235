"""The embedded profile's command work queue: a Redis Stream consumer group, in memory.

Entries are handed out once, stay pending with their consumer until acknowledged, and
an entry whose consumer has been silent for a while can be claimed by another, so the
in-process commander restart behaves as a crashed commander in the stack profile.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from headway.services.ports import QueueEntry


@dataclass(slots=True)
class _Pending:
    entry: QueueEntry
    consumer: str
    delivered_at: float


class MemoryCommandQueue:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._new: deque[QueueEntry] = deque()
        self._pending: dict[str, _Pending] = {}
        self._ids = itertools.count(1)
        self._arrived = asyncio.Event()

    async def put(self, vehicle_id: str, command_id: str) -> str:
        entry_id = f"{next(self._ids)}-0"
        self._new.append(QueueEntry(entry_id, vehicle_id, command_id, deliveries=0))
        self._arrived.set()
        return entry_id

    async def take(self, consumer: str, max_entries: int, block_s: float) -> list[QueueEntry]:
        if not self._new and block_s > 0:
            self._arrived.clear()
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a
            # cancellation that arrives as the event is set.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(block_s):
                    await self._arrived.wait()
        taken: list[QueueEntry] = []
        now = self._clock()
        while self._new and len(taken) < max_entries:
            entry = self._new.popleft()
            entry = replace(entry, deliveries=entry.deliveries + 1)
            self._pending[entry.entry_id] = _Pending(entry, consumer, now)
            taken.append(entry)
        return taken

    async def pending(self, consumer: str) -> list[QueueEntry]:
        return [p.entry for p in self._pending.values() if p.consumer == consumer]

    async def reclaim(self, consumer: str, min_idle_s: float, max_entries: int) -> list[QueueEntry]:
        now = self._clock()
        claimed: list[QueueEntry] = []
        for pending in self._pending.values():
            if len(claimed) >= max_entries:
                break
            if now - pending.delivered_at >= min_idle_s:
                pending.entry = replace(pending.entry, deliveries=pending.entry.deliveries + 1)
                pending.consumer = consumer
                pending.delivered_at = now
                claimed.append(pending.entry)
        return claimed

    async def touch(self, consumer: str, entry_ids: Sequence[str]) -> None:
        now = self._clock()
        for entry_id in entry_ids:
            pending = self._pending.get(entry_id)
            if pending is not None and pending.consumer == consumer:
                pending.delivered_at = now

    async def ack(self, entry_ids: Sequence[str]) -> None:
        for entry_id in entry_ids:
            self._pending.pop(entry_id, None)

    async def close(self) -> None:
        """Nothing to release."""

    @property
    def depth(self) -> int:
        """Entries not yet handed out plus those pending (for tests and metrics)."""
        return len(self._new) + len(self._pending)
