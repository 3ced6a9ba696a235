"""The stack profile's event log: Apache Kafka through confluent-kafka (librdkafka).

Producer: idempotent, ``acks=all``, so a record the broker acknowledged is on every
in-sync replica and a retry never duplicates it. Records are queued in librdkafka's
buffer (``produce`` never blocks the event loop); when Kafka is away the buffer holds
them until it is back, for up to ``message.timeout.ms``. ``flush`` waits for every
queued record to be acknowledged and raises if any was refused.

Consumer: one group member; offsets are committed explicitly, only by ``commit``, which
the processor calls after what a batch produced is stored. Blocking librdkafka calls
run on one worker thread per consumer. ``poll`` returns as soon as one record is there,
with whatever else has arrived (up to the limit): a batch is what came in while the
last one was processed, so batches grow with the load rather than with a timer.
Commits are sent without waiting for the broker's answer: they are made only after the
batch is stored, so one that is lost in a crash only means a replay, which the stores
ignore.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Sequence
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

from headway.services.ports import Positions, Record

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
        self.retried = 0
        self.produced = 0
        """Records produced so far; the n-th record produced has sequence number n."""
        self.durable = 0
        """Every record up to this sequence number is acknowledged by Kafka (or refused
        for good, which ``flush`` reports)."""
        self.on_durable: Callable[[int], None] | None = None
        """Called with ``durable`` when it moves, from the thread serving delivery
        reports (``produce``, ``serve``; ``flush`` serves them on a worker thread)."""
        self._done: set[int] = set()
        self._again: list[tuple[int, str, str, bytes]] = []
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kafka-flush")

    def _on_delivery(
        self, seq: int, topic: str, key: str, value: bytes, error: KafkaError | None, _: Message
    ) -> None:
        if error is not None:
            if error.retriable() or error.code() == KafkaError._MSG_TIMED_OUT:
                # Kafka away longer than message.timeout.ms: the record goes again, and
                # everything after it waits (which is what holds the MQTT acks back).
                self.retried += 1
                log.warning(
                    "kafka: record to %s not acknowledged (%s); sending again", topic, error
                )
                self._again.append((seq, topic, key, value))
                return
            self._failures.append(f"{topic}[{key!r}]: {error}")
            log.error("kafka refused a record to %s for good: %s", topic, error)
        else:
            self.delivered += 1
        if seq != self.durable + 1:
            self._done.add(seq)
            return
        durable, done = seq, self._done
        while durable + 1 in done:
            durable += 1
            done.remove(durable)
        self.durable = durable
        if self.on_durable is not None:
            self.on_durable(durable)

    def _send(self, seq: int, topic: str, key: str, value: bytes) -> None:
        report = functools.partial(self._on_delivery, seq, topic, key, value)
        while True:
            try:
                self._producer.produce(topic, value=value, key=key, on_delivery=report)
                return
            except BufferError:
                # The local buffer is full (Kafka away for long): wait for room rather
                # than drop. This blocks the caller, which is the backpressure.
                self._producer.poll(0.1)

    def produce(self, topic: str, key: str, value: bytes) -> None:
        self.produced += 1
        self._send(self.produced, topic, key, value)
        self.serve()

    def serve(self) -> None:
        """Run the delivery reports that have come in (and send again what timed out)."""
        self._producer.poll(0)
        while self._again:
            again, self._again = self._again, []
            for record in again:
                self._send(*record)

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
        if self._again:  # timed out and queued again: sent, not yet acknowledged
            self.serve()
            left += len(self._producer)
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
        self._consumer = Consumer({**config, "on_commit": self._on_commit})
        self._consumer.subscribe(topics)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kafka-consumer")
        self._polled: dict[tuple[str, int], int] = {}  # next offset, per partition
        self._sent: dict[tuple[str, int], int] = {}  # the newest commit asked for
        self.commit_failures = 0

    def _on_commit(self, error: KafkaError | None, partitions: list[TopicPartition]) -> None:
        if error is not None:
            # Typically a rebalance took these partitions away: their new owner will
            # re-read from the last commit, and the fold and history ignore what was
            # already applied.
            self.commit_failures += 1
            log.warning("kafka commit refused (%s); records will be redelivered", error)

    async def _call(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    def _take(self, max_records: int, timeout_s: float) -> list[Message]:
        # consume(n, timeout) waits for n records or the timeout, whichever is first:
        # at a steady rate below n it would always wait the full timeout.
        first = self._consumer.poll(max(timeout_s, 0.001))
        if first is None:
            return []
        if max_records <= 1:
            return [first]
        return [first, *self._consumer.consume(max_records - 1, 0)]

    async def poll(self, max_records: int, timeout_s: float) -> list[Record]:
        messages: list[Message] = await self._call(self._take, max_records, timeout_s)
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
            self._polled[(topic or "", partition or 0)] = (offset or 0) + 1
        return records

    def positions(self) -> Positions:
        return dict(self._polled)

    async def commit(self, positions: Positions | None = None) -> None:
        wanted = self._polled if positions is None else positions
        moved = {k: v for k, v in wanted.items() if self._sent.get(k) != v}
        if not moved:
            return
        self._sent.update(moved)
        await self._send(moved, wait=False)

    async def _send(self, positions: dict[tuple[str, int], int], wait: bool) -> None:
        if not positions:
            return

        def send() -> None:
            # Only partitions still assigned: a commit for one that a rebalance moved
            # to another member could move its position back.
            owned = {(tp.topic, tp.partition) for tp in self._consumer.assignment()}
            offsets = [
                TopicPartition(t, p, o) for (t, p), o in positions.items() if (t, p) in owned
            ]
            if offsets and wait:
                self._consumer.commit(offsets=offsets, asynchronous=False)
            elif offsets:
                self._consumer.commit(offsets=offsets, asynchronous=True)

        try:
            await self._call(send)
        except KafkaException as exc:
            self.commit_failures += 1
            log.warning("kafka commit refused (%s); records will be redelivered", exc)

    async def _settle(self) -> None:
        """Make sure the commits sent without waiting are on the broker: again, waiting,
        for the partitions this consumer still owns."""
        sent, self._sent = self._sent, {}
        await self._send(sent, wait=True)

    async def rewind(self) -> None:
        self._polled = {}
        await self._settle()

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
        await self._settle()
        await self._call(self._consumer.close)
        self._pool.shutdown(wait=True)
