"""What every EventLog adapter must do; run against each adapter by subclassing."""

from __future__ import annotations

import uuid
from collections import defaultdict

from headway.services.ports import EventLog, Record


class EventLogContract:
    def make_log(self) -> EventLog:
        raise NotImplementedError

    @staticmethod
    def unique(name: str) -> str:
        return f"{name}-{uuid.uuid4().hex[:8]}"

    async def new_topic(self, log: EventLog) -> str:
        """A topic no other test uses; adapters whose broker needs topics made override."""
        return self.unique("t")

    async def drain(self, log: EventLog, group: str, topic: str, want: int) -> list[Record]:
        consumer = log.consumer(group, [topic])
        got: list[Record] = []
        for _ in range(200):
            got += await consumer.poll(1000, 0.1)
            if len(got) >= want:
                break
        await consumer.commit()
        await consumer.close()
        return got

    async def test_records_of_one_key_keep_their_order(self) -> None:
        log = self.make_log()
        topic = await self.new_topic(log)
        for i in range(300):
            log.produce(topic, f"v{i % 7}", str(i).encode())
        await log.flush()
        got = await self.drain(log, self.unique("g"), topic, 300)
        by_key: dict[str, list[int]] = defaultdict(list)
        for record in got:
            by_key[record.key].append(int(record.value))
        assert sum(len(v) for v in by_key.values()) == 300
        for values in by_key.values():
            assert values == sorted(values)

    async def test_a_group_resumes_after_its_last_commit(self) -> None:
        log, group = self.make_log(), self.unique("g")
        topic = await self.new_topic(log)
        for i in range(10):
            log.produce(topic, "k", str(i).encode())
        await log.flush()
        assert len(await self.drain(log, group, topic, 10)) == 10
        for i in range(10, 15):
            log.produce(topic, "k", str(i).encode())
        await log.flush()
        rest = await self.drain(log, group, topic, 5)
        assert [int(r.value) for r in rest] == [10, 11, 12, 13, 14]

    async def test_uncommitted_records_are_delivered_again(self) -> None:
        log, group = self.make_log(), self.unique("g")
        topic = await self.new_topic(log)
        for i in range(5):
            log.produce(topic, "k", str(i).encode())
        await log.flush()
        consumer = log.consumer(group, [topic])
        first: list[Record] = []
        for _ in range(100):
            first += await consumer.poll(100, 0.1)
            if len(first) >= 5:
                break
        await consumer.close()  # crash before commit
        again = await self.drain(log, group, topic, 5)
        assert [int(r.value) for r in again] == [0, 1, 2, 3, 4]

    async def test_groups_are_independent(self) -> None:
        log = self.make_log()
        topic = await self.new_topic(log)
        for i in range(4):
            log.produce(topic, "k", str(i).encode())
        await log.flush()
        assert len(await self.drain(log, self.unique("a"), topic, 4)) == 4
        assert len(await self.drain(log, self.unique("b"), topic, 4)) == 4

    async def test_rewind_delivers_again_what_was_polled_since_the_last_commit(self) -> None:
        log, group = self.make_log(), self.unique("g")
        topic = await self.new_topic(log)
        for i in range(6):
            log.produce(topic, "k", str(i).encode())
        await log.flush()
        consumer = log.consumer(group, [topic])
        got: list[Record] = []
        for _ in range(100):
            got += await consumer.poll(3, 0.1)
            if len(got) >= 3:
                break
        await consumer.commit()
        more: list[Record] = []
        for _ in range(100):
            more += await consumer.poll(10, 0.1)
            if len(got) + len(more) >= 6:
                break
        assert [int(r.value) for r in got + more] == list(range(6))
        await consumer.rewind()
        again: list[Record] = []
        for _ in range(100):
            again += await consumer.poll(10, 0.1)
            if len(again) >= len(more):
                break
        assert [int(r.value) for r in again] == [int(r.value) for r in more]
        await consumer.close()

    async def test_commit_up_to_positions_taken_earlier(self) -> None:
        """What the processor's history writer does: commit where the consumer stood
        after a batch whose history is stored, while later batches are polled."""
        log, group = self.make_log(), self.unique("g")
        topic = await self.new_topic(log)
        for i in range(8):
            log.produce(topic, "k", str(i).encode())
        await log.flush()
        consumer = log.consumer(group, [topic])
        first: list[Record] = []
        for _ in range(100):
            first += await consumer.poll(4 - len(first), 0.1)
            if len(first) >= 4:
                break
        after_first = consumer.positions()
        # One key: one partition.
        assert after_first[(topic, first[-1].partition)] == first[-1].offset + 1
        rest: list[Record] = []
        for _ in range(100):
            rest += await consumer.poll(10, 0.1)
            if len(first) + len(rest) >= 8:
                break
        assert len(first) + len(rest) == 8
        await consumer.commit(after_first)
        await consumer.close()
        again = await self.drain(log, group, topic, 4)
        assert [int(r.value) for r in again] == [4, 5, 6, 7]
