"""The command queue's Redis adapter against the stack's Redis, held to the same
contract as the in-memory one, plus what only a real Redis shows."""

from __future__ import annotations

import pytest

from headway.adapters.redis_command_queue import RedisCommandQueue
from headway.domain.errors import StoreUnavailable
from headway.services.ports import CommandQueue
from tests.contract.command_queue import CommandQueueContract
from tests.integration.conftest import Stack

pytestmark = pytest.mark.integration


class TestRedisCommandQueue(CommandQueueContract):
    @pytest.fixture(autouse=True)
    def _stack(self, stack: Stack, unique: str) -> None:
        self.url = stack.redis_url
        self.prefix = f"{unique}:"

    async def make_queue(self) -> CommandQueue:
        return RedisCommandQueue(self.url, prefix=self.prefix)


async def test_commands_queued_before_any_commander_are_delivered(
    stack: Stack, unique: str
) -> None:
    early = RedisCommandQueue(stack.redis_url, prefix=f"{unique}:")
    await early.put("v1", "c-early")
    await early.close()
    queue = RedisCommandQueue(stack.redis_url, prefix=f"{unique}:")
    taken = await queue.take("commander-1", 10, 0.1)
    assert [e.command_id for e in taken] == ["c-early"]
    await queue.close()


async def test_a_restarted_commander_reads_its_pending_entries_with_their_data(
    stack: Stack, unique: str
) -> None:
    queue = RedisCommandQueue(stack.redis_url, prefix=f"{unique}:")
    for k in range(1500):
        await queue.put(f"v{k % 7}", f"c{k}")
    taken = []
    while len(taken) < 1500:
        taken += await queue.take("commander-1", 500, 0.1)
    await queue.ack([e.entry_id for e in taken[:10]])
    await queue.close()
    restarted = RedisCommandQueue(stack.redis_url, prefix=f"{unique}:")
    pending = await restarted.pending("commander-1")
    assert [e.command_id for e in pending] == [f"c{k}" for k in range(10, 1500)]
    assert pending[0].vehicle_id == "v3"
    await restarted.close()


async def test_an_unreachable_redis_is_reported_as_unavailable() -> None:
    queue = RedisCommandQueue("redis://127.0.0.1:1/0", timeout_s=0.5)
    with pytest.raises(StoreUnavailable, match="Redis unavailable, cannot queue a command"):
        await queue.put("v1", "c1")
    await queue.close()
