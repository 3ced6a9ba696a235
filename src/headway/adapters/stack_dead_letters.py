"""Dead letters in the stack profile: each goes to the dead-letter topic on Kafka (the
record of truth, with the reason in a header-free envelope) and is mirrored into Redis
(counts by reason, the newest thousand) so any API instance can list them."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import Any

import msgspec
import redis.asyncio as aioredis

from headway.contracts.events import DEAD_LETTER_TOPIC, DeadLetter, dead_letter_decoder
from headway.services.ports import EventLog

log = logging.getLogger(__name__)
KEEP = 1000
MAX_WAITING = 10_000


class StackDeadLetters:
    def __init__(
        self,
        events: EventLog | None,
        redis: aioredis.Redis,
        prefix: str,
        topic: str = DEAD_LETTER_TOPIC,
    ) -> None:
        self._events = events
        self._redis = redis
        self._p = prefix
        self._topic = topic
        self._waiting: list[tuple[str, bytes]] = []
        self._flusher: asyncio.Task[None] | None = None

    def add(self, letter: DeadLetter) -> None:
        blob = msgspec.msgpack.encode(letter)
        if self._events is not None:
            self._events.produce(self._topic, letter.key or letter.topic, blob)
        if len(self._waiting) >= MAX_WAITING:
            self._waiting.pop(0)  # the Kafka copy is the record; the mirror keeps the newest
        self._waiting.append((letter.reason, blob))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self) -> None:
        """Mirror what is waiting in one pipeline per round: a burst of bad input costs
        one Redis connection, not one per letter."""
        while self._waiting:
            batch, self._waiting = self._waiting, []
            counts = Counter(reason for reason, _ in batch)
            try:
                # One MULTI/EXEC: a reader never sees the counts ahead of the list.
                async with self._redis.pipeline(transaction=True) as pipe:
                    for reason, n in counts.items():
                        pipe.hincrby(f"{self._p}deadletters:counts", reason, n)
                    pipe.lpush(f"{self._p}deadletters:recent", *(blob for _, blob in batch))
                    pipe.ltrim(f"{self._p}deadletters:recent", 0, KEEP - 1)
                    await pipe.execute()
            except Exception as exc:  # the Kafka copy is the record; the mirror may lag
                log.warning("%d dead letters not mirrored to Redis: %s", len(batch), exc)
                return

    async def counts(self) -> dict[str, int]:
        raw: dict[Any, Any] = await self._redis.hgetall(f"{self._p}deadletters:counts")
        return {(k.decode() if isinstance(k, bytes) else str(k)): int(v) for k, v in raw.items()}

    async def recent(self, limit: int) -> list[DeadLetter]:
        blobs: list[Any] = await self._redis.lrange(f"{self._p}deadletters:recent", 0, limit - 1)
        return [dead_letter_decoder.decode(b) for b in blobs]
