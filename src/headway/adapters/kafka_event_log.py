"""The stack profile's event log: Apache Kafka through confluent-kafka (librdkafka).

Producer: idempotent, ``acks=all``, so a record the broker acknowledged is on every
in-sync replica and a retry never duplicates it. Records are queued in librdkafka's
buffer (``produce`` never blocks the event loop); when Kafka is away the buffer holds
them until it is back, for up to ``message.timeout.ms``. ``flush`` waits for every
queued record to be acknowledged and raises if any was refused.

Consumer: one group member; offsets are committed explicitly, only by ``commit``, which
the processor calls after what a batch produced is stored. Blocking librdkafka calls
run on one worker thread per consumer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from headway.services.ports import Record

log = logging.getLogger(__name__)


class EventLogError(Exception):
    """Kafka refused or lost something; the message says what."""


class KafkaEventLog:
    def __init__(
        self,
        bootstrap: str,
        client_id: str = "headway",
        buffer_messages: int = 1_000_000,
        message_timeout_ms: int = 300_000,
        consumer_overrides: dict[str, Any] | None = None,
    ) -> None:
        self._bootstrap = bootstrap
        self._client_id = client_id
        self._consumer_overrides = consumer_overrides or {}
        self._producer = Producer(
            {
                "bootstrap.servers": bootstrap,
                "client.id": client_id,
                "enable.idempotence": True,
                "acks": "all",
                "linger.ms": 5,
                "compression.type": "lz4",
                "queue.buffering.max.messages": buffer_messages,
                "message.timeout.ms": message_timeout_ms,
            }
        )
        self._failures: list[str] = []
        self.delivered = 0
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kafka-flush")

    def _on_delivery(self, error: KafkaError | None, message: Message) -> None:
        if error is not None:
            self._failures.append(f"{message.topic()}[{message.key()!r}]: {error}")
        else:
            self.delivered += 1

    def produce(self, topic: str, key: str, value: bytes) -> None:
        while True:
            try:
                self._producer.produce(topic, value=value, key=key, on_delivery=self._on_delivery)
                break
            except BufferError:
                # The local buffer is full (Kafka away for long): wait for room rather
                # than drop. This blocks the caller, which is the backpressure.
                self._producer.poll(0.1)
        self._producer.poll(0)

    @property
    def pending(self) -> int:
        """Records queued but not yet acknowledged by Kafka."""
        return len(self._producer)

    async def flush(self, timeout_s: float = 30.0) -> None:
        left = await asyncio.get_running_loop().run_in_executor(
            self._pool, self._producer.flush, timeout_s
        )
        if self._failures:
            failures, self._failures = self._failures, []
            raise EventLogError(f"{len(failures)} records refused by Kafka; first: {failures[0]}")
        if left:
            raise EventLogError(f"{left} records still unacknowledged after {timeout_s} s")

    async def ensure_topics(self, names: Sequence[str], partitions: int = 6) -> None:
        """Create the topics that do not exist yet (the broker does not auto-create)."""
        admin = AdminClient({"bootstrap.servers": self._bootstrap})
        existing = set(
            (
                await asyncio.get_running_loop().run_in_executor(
                    self._pool, lambda: admin.list_topics(timeout=10)
                )
            ).topics
        )
        wanted = [
            NewTopic(n, num_partitions=partitions, replication_factor=1)
            for n in names
            if n not in existing
        ]
        if not wanted:
            return
        for name, future in admin.create_topics(wanted).items():
            try:
                await asyncio.wrap_future(future)
            except KafkaException as exc:
                if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                    raise EventLogError(f"cannot create topic {name}: {exc}") from exc

    def consumer(self, group: str, topics: Sequence[str]) -> KafkaEventConsumer:
        config: dict[str, Any] = {
            "bootstrap.servers": self._bootstrap,
            "client.id": f"{self._client_id}-{group}",
            "group.id": group,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "session.timeout.ms": 6000,
            "heartbeat.interval.ms": 1000,
            "partition.assignment.strategy": "cooperative-sticky",
        }
        config.update(self._consumer_overrides)
        return KafkaEventConsumer(config, list(topics))

    async def close(self) -> None:
        await self.flush()
        self._pool.shutdown(wait=True)


class KafkaEventConsumer:
    def __init__(self, config: dict[str, Any], topics: list[str]) -> None:
        self._consumer = Consumer(config)
        self._consumer.subscribe(topics)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kafka-consumer")
        self._next: dict[tuple[str, int], int] = {}

    async def _call(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    async def poll(self, max_records: int, timeout_s: float) -> list[Record]:
        messages: list[Message] = await self._call(
            self._consumer.consume, max_records, max(timeout_s, 0.001)
        )
        records: list[Record] = []
        for message in messages:
            error = message.error()
            if error is not None:
                if error.code() != KafkaError._PARTITION_EOF:
                    log.warning("kafka consumer: %s", error)
                continue
            topic, partition, offset = message.topic(), message.partition(), message.offset()
            key = message.key()
            records.append(
                Record(
                    topic=topic or "",
                    partition=partition or 0,
                    offset=offset or 0,
                    key=key.decode() if isinstance(key, bytes) else (key or ""),
                    value=message.value() or b"",
                )
            )
            self._next[(topic or "", partition or 0)] = (offset or 0) + 1
        return records

    async def commit(self) -> None:
        if not self._next:
            return
        offsets = [TopicPartition(t, p, o) for (t, p), o in self._next.items()]
        self._next = {}
        try:
            await self._call(lambda: self._consumer.commit(offsets=offsets, asynchronous=False))
        except KafkaException as exc:
            # Typically a rebalance took these partitions away: their new owner will
            # re-read from the last commit, and the fold and history ignore what was
            # already applied.
            log.warning("kafka commit refused (%s); records will be redelivered", exc)

    async def rewind(self) -> None:
        self._next = {}

        def seek_to_committed() -> None:
            assigned = self._consumer.assignment()
            if not assigned:
                return
            for tp in self._consumer.committed(assigned, timeout=10):
                if tp.offset >= 0:
                    self._consumer.seek(tp)
                else:  # nothing committed yet: back to the start
                    self._consumer.seek(TopicPartition(tp.topic, tp.partition, OFFSET_BEGINNING))

        await self._call(seek_to_committed)

    async def close(self) -> None:
        await self._call(self._consumer.close)
        self._pool.shutdown(wait=True)
