"""Plays a short scripted scenario against a real broker and records what vehicles publish."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field, replace
from typing import Any

from gmqtt import Client
from gmqtt.mqtt.constants import MQTTv311

from headway.adapters.amqtt_broker import AmqttEmbeddedBroker
from headway.contracts.vda5050 import parse_topic
from headway.network.graph import RoadNetwork
from headway.sim.fleet import FleetSimulator, SimConfig
from headway.sim.stats import SimStats


@dataclass(frozen=True)
class Received:
    at: float
    """Monotonic receive time, seconds since the simulator started."""
    serial: str
    name: str
    body: dict[str, Any]
    retain: bool


@dataclass
class Recording:
    messages: list[Received] = field(default_factory=list)
    retained: list[Received] = field(default_factory=list)
    """What a subscriber that came late was handed by the broker."""
    stats: SimStats | None = None
    marks: dict[str, float] = field(default_factory=dict)

    def of(self, serial: str, name: str) -> list[Received]:
        return [m for m in self.messages if m.serial == serial and m.name == name]


class Subscriber:
    def __init__(self, port: int, client_id: str, sink: list[Received], t0: float) -> None:
        self._port = port
        self._sink = sink
        self._t0 = t0
        self._client = Client(client_id)
        self._client.on_message = self._on_message

    async def start(self, pattern: str) -> None:
        await self._client.connect("127.0.0.1", self._port, version=MQTTv311)
        self._client.subscribe(pattern, qos=1)

    async def stop(self) -> None:
        await self._client.disconnect()

    def _on_message(self, client: Any, topic: str, payload: bytes, qos: int, props: Any) -> int:
        parsed = parse_topic(topic)
        assert parsed is not None, topic
        _, serial, name = parsed
        at = time.monotonic() - self._t0
        retain = bool(props.get("retain"))
        self._sink.append(Received(at, serial, name, json.loads(payload), retain))
        return 0


async def play(network: RoadNetwork, config: SimConfig) -> Recording:
    """The scenario the fleet tests assert on; each step is logged in ``marks``."""
    broker = AmqttEmbeddedBroker()
    await broker.start()
    config = replace(config, mqtt_port=broker.port)
    record = Recording()
    t0 = time.monotonic()
    pattern = f"uagv/v2/{config.manufacturer}/#"
    live = Subscriber(broker.port, "recorder", record.messages, t0)
    await live.start(pattern)
    simulator = FleetSimulator(network, config)
    for vehicle in simulator.model.vehicles[:6]:
        vehicle.dice = None  # only injected faults on the vehicles the tests watch

    def mark(name: str) -> None:
        record.marks[name] = time.monotonic() - t0

    try:
        await simulator.start()
        mark("started")
        await asyncio.sleep(0.5)
        mark("injected")
        simulator.inject("v0001", "estop", 240.0)
        simulator.inject("v0002", "sensor_warning")
        simulator.inject("v0003", "drive_fault")
        simulator.inject("v0004", "radio_silence", 240.0)
        simulator.inject("v0005", "connection_lost", 120.0)
        # As a random fault would: the fleet notices on its next tick.
        simulator.model.start_fault(simulator.model.vehicles[5], "connection_lost", 120.0)
        await asyncio.sleep(3.0)
        mark("cleared")
        simulator.inject("v0002", "clear")
        simulator.inject("v0003", "clear")
        await asyncio.sleep(1.0)
        late = Subscriber(broker.port, "late", record.retained, t0)
        await late.start(pattern)
        await asyncio.sleep(0.5)
        await late.stop()
        mark("stopping")
    finally:
        await simulator.stop()
        await asyncio.sleep(0.3)
        await live.stop()
        await broker.stop()
    record.stats = simulator.stats
    return record
