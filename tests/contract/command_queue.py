"""What every CommandQueue adapter must do; run against each adapter by subclassing.

Idle times are real time (the Redis adapter cannot be given a clock), so the reclaim
tests wait a little; they assert what happened, never how long it took.
"""

from __future__ import annotations

import asyncio
import uuid

from headway.services.ports import CommandQueue


class CommandQueueContract:
    async def make_queue(self) -> CommandQueue:
        raise NotImplementedError

    @staticmethod
    def name(prefix: str) -> str:
        return f"{prefix}-{uuid.uuid4().hex[:8]}"

    async def test_each_entry_goes_to_one_consumer(self) -> None:
        queue = await self.make_queue()
        ids = [f"c{k}" for k in range(20)]
        for command_id in ids:
            await queue.put("v1", command_id)
        a = await queue.take(self.name("a"), 7, 0.1)
        b = await queue.take(self.name("b"), 100, 0.1)
        assert len(a) == 7
        assert sorted(e.command_id for e in a + b) == sorted(ids)
        assert [e.command_id for e in a + b] == ids
        assert all(e.vehicle_id == "v1" and e.deliveries == 1 for e in a + b)
        await queue.close()

    async def test_an_empty_take_waits_and_returns_nothing(self) -> None:
        queue = await self.make_queue()
        assert await queue.take(self.name("a"), 10, 0.05) == []
        await queue.close()

    async def test_a_waiting_take_gets_what_arrives(self) -> None:
        queue = await self.make_queue()
        consumer = self.name("a")
        waiting = asyncio.create_task(queue.take(consumer, 10, 5.0))
        await asyncio.sleep(0.05)
        await queue.put("v9", "c9")
        got = await waiting
        assert [e.command_id for e in got] == ["c9"]
        await queue.close()

    async def test_entries_stay_pending_until_acknowledged(self) -> None:
        queue = await self.make_queue()
        consumer = self.name("a")
        for command_id in ("c1", "c2", "c3"):
            await queue.put("v1", command_id)
        taken = await queue.take(consumer, 10, 0.1)
        await queue.ack([taken[1].entry_id])
        pending = await queue.pending(consumer)
        assert sorted(e.command_id for e in pending) == ["c1", "c3"]
        assert await queue.pending(self.name("other")) == []
        await queue.close()

    async def test_a_silent_consumers_entries_are_reclaimed(self) -> None:
        queue = await self.make_queue()
        crashed, rescuer = self.name("crashed"), self.name("rescuer")
        await queue.put("v1", "c1")
        await queue.put("v2", "c2")
        assert len(await queue.take(crashed, 10, 0.1)) == 2
        assert await queue.reclaim(rescuer, 30.0, 10) == []
        await asyncio.sleep(0.3)
        claimed = await queue.reclaim(rescuer, 0.2, 10)
        assert sorted(e.command_id for e in claimed) == ["c1", "c2"]
        assert all(e.deliveries == 2 for e in claimed)
        assert await queue.pending(crashed) == []
        assert len(await queue.pending(rescuer)) == 2
        await queue.close()

    async def test_touched_entries_are_not_reclaimed(self) -> None:
        queue = await self.make_queue()
        busy, rescuer = self.name("busy"), self.name("rescuer")
        await queue.put("v1", "c1")
        await queue.put("v1", "c2")
        taken = await queue.take(busy, 10, 0.1)
        await asyncio.sleep(0.3)
        await queue.touch(busy, [taken[0].entry_id])
        claimed = await queue.reclaim(rescuer, 0.2, 10)
        assert [e.command_id for e in claimed] == ["c2"]
        assert [e.command_id for e in await queue.pending(busy)] == ["c1"]
        await queue.close()
