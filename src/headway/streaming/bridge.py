"""The bridge: vehicle MQTT messages in, validated Headway events onto the event log.

Bad messages never stop it: each becomes a dead letter with the reason and is counted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from headway.contracts.events import TELEMETRY_TOPIC, DeadLetter, event_encoder
from headway.domain.errors import InvalidMessage
from headway.services.metrics import Metrics
from headway.services.ports import DeadLetters, EventLog, VehicleRegistry
from headway.streaming.vda_ingest import decode_vehicle_message

DEAD_LETTER_PAYLOAD_BYTES = 2048


class Bridge:
    def __init__(
        self,
        log: EventLog,
        registry: VehicleRegistry,
        dead_letters: DeadLetters,
        metrics: Metrics,
        clock: Callable[[], float] = time.time,
        topic: str = TELEMETRY_TOPIC,
    ) -> None:
        self._topic = topic
        self._log = log
        self._registry = registry
        self._dead = dead_letters
        self._metrics = metrics
        self._clock = clock
        self.accepted = 0
        self.rejected = 0
        self._counted: dict[str, Any] = {}  # message kind -> its counter (labels() is slow)

    def on_message(self, topic: str, payload: bytes) -> None:
        """Handle one MQTT message; never raises for bad input."""
        received_at = self._clock()
        kind = topic.rsplit("/", 1)[-1]
        counter = self._counted.get(kind)
        if counter is None:
            counter = self._counted[kind] = self._metrics.messages.labels(kind)
        counter.inc()
        try:
            event = decode_vehicle_message(topic, payload, received_at, self._registry.is_known)
        except InvalidMessage as bad:
            self.rejected += 1
            self._metrics.dead_letters.labels("mqtt", bad.reason).inc()
            self._dead.add(
                DeadLetter(
                    source="mqtt",
                    reason=bad.reason,
                    detail=bad.detail[:500],
                    received_at=received_at,
                    topic=topic,
                    payload=payload[:DEAD_LETTER_PAYLOAD_BYTES],
                )
            )
            return
        self.accepted += 1
        self._log.produce(self._topic, event.vehicle_id, event_encoder.encode(event))
