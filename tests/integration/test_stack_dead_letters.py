"""Dead letters mirrored into the stack's Redis: a burst of bad input is counted whole
and costs one connection, not one per letter."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis

from headway.adapters.stack_dead_letters import KEEP, StackDeadLetters
from headway.contracts.events import DeadLetter
from tests.integration.conftest import Stack

pytestmark = pytest.mark.integration


async def test_a_burst_is_counted_whole_through_a_small_pool(stack: Stack, unique: str) -> None:
    client = aioredis.Redis.from_url(stack.redis_url, max_connections=2)
    letters = StackDeadLetters(None, client, prefix=f"{unique}:")
    for k in range(5000):
        reason = "bad_json" if k % 3 else "unknown_vehicle"
        letters.add(
            DeadLetter(source="mqtt", reason=reason, detail=str(k), received_at=1.0, key=f"v{k}")
        )
    try:
        deadline = asyncio.get_running_loop().time() + 30
        while sum((await letters.counts()).values()) < 5000:
            assert asyncio.get_running_loop().time() < deadline, await letters.counts()
            await asyncio.sleep(0.05)
        # Counts and list are written in one transaction: complete counts, full list.
        recent = await letters.recent(KEEP + 10)
        assert await letters.counts() == {"bad_json": 3333, "unknown_vehicle": 1667}
        assert len(recent) == KEEP
        assert recent[0].detail == "4999"
    finally:
        await client.aclose()
