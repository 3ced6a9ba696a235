"""Starting, losing the broker, coming back and stopping: nothing leaks, nothing is lost."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from headway.adapters.amqtt_broker import AmqttEmbeddedBroker, free_port
from headway.network.graph import RoadNetwork
from headway.sim import FleetSimulator, LinkError, SimConfig, run_sim

CONFIG = SimConfig(vehicles=5, speedup=30.0, manufacturer="lifecycle", state_interval_s=0.2)


def other_tasks() -> set[asyncio.Task[object]]:
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_an_unreachable_broker_is_reported_and_nothing_is_left_running(
    city: RoadNetwork,
) -> None:
    config = SimConfig(vehicles=3, mqtt_port=free_port(), connect_timeout_s=1.0)
    simulator = FleetSimulator(city, config)
    with pytest.raises(LinkError, match="cannot connect to MQTT broker"):
        await simulator.start()
    await settle()
    assert not other_tasks()
    assert simulator.links_up() == 0


async def test_the_fleet_rides_out_a_broker_restart(city: RoadNetwork) -> None:
    broker = AmqttEmbeddedBroker()
    await broker.start()
    config = replace(CONFIG, mqtt_port=broker.port)
    simulator = FleetSimulator(city, config)
    await simulator.start()
    try:
        await asyncio.sleep(0.5)
        await broker.stop()
        await asyncio.sleep(0.3)
        assert simulator.links_up() == 0
        assert simulator.stats.connections_lost == 5
        sent = simulator.stats.published["state"]
        await asyncio.sleep(0.5)
        assert simulator.stats.published["state"] == sent
        broker = AmqttEmbeddedBroker(port=broker.port)
        await broker.start()
        for _ in range(100):
            if simulator.links_up() == 5:
                break
            await asyncio.sleep(0.1)
        assert simulator.links_up() == 5
        assert simulator.stats.reconnects == 5
        await asyncio.sleep(0.5)
        assert simulator.stats.published["state"] > sent
    finally:
        await simulator.stop()
        await broker.stop()
    await settle()
    assert not other_tasks()


async def test_run_sim_runs_for_its_duration_and_returns_the_counters(
    city: RoadNetwork,
) -> None:
    broker = AmqttEmbeddedBroker()
    await broker.start()
    try:
        config = replace(CONFIG, mqtt_port=broker.port)
        stats = await run_sim(city, config, 1.0)
    finally:
        await broker.stop()
    assert stats.connects == 5
    assert stats.published["connection"] == 10
    assert 5 < stats.published["state"] < 45
    await settle()
    assert not other_tasks()
