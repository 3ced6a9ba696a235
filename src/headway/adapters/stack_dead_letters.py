"""Dead letters in the stack profile: each goes to the dead-letter topic on Kafka (the
record of truth, with the reason in a header-free envelope) and is mirrored into Redis
(counts by reason, the newest thousand) so any API instance can list them."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import msgspec
import redis.asyncio as aioredis

from headway.contracts.events import DEAD_LETTER_TOPIC, DeadLetter, dead_letter_decoder
from headway.services.ports import EventLog

log = logging.getLogger(__name__)
KEEP = 1000


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
        self._pending: set[asyncio.Task[None]] = set()

    def add(self, letter: DeadLetter) -> None:
        blob = msgspec.msgpack.encode(letter)
        if self._events is not None:
            self._events.produce(self._topic, letter.key or letter.topic, blob)
        task = asyncio.get_running_loop().create_task(self._mirror(letter.reason, blob))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _mirror(self, reason: str, blob: bytes) -> None:
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.hincrby(f"{self._p}deadletters:counts", reason, 1)
                pipe.lpush(f"{self._p}deadletters:recent", blob)
                pipe.ltrim(f"{self._p}deadletters:recent", 0, KEEP - 1)
                await pipe.execute()
        except Exception as exc:  # the Kafka copy is the record; the mirror may lag
            log.warning("dead letter not mirrored to Redis: %s", exc)

    async def counts(self) -> dict[str, int]:
        raw: dict[Any, Any] = await self._redis.hgetall(f"{self._p}deadletters:counts")
        return {(k.decode() if isinstance(k, bytes) else str(k)): int(v) for k, v in raw.items()}

    async def recent(self, limit: int) -> list[DeadLetter]:
        blobs: list[Any] = await self._redis.lrange(f"{self._p}deadletters:recent", 0, limit - 1)
        return [dead_letter_decoder.decode(b) for b in blobs]
