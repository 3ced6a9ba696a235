"""The bridge's MQTT subscriber against Mosquitto: a QoS 1 message is acknowledged only
once released (what it produced is durable), in the order received, and a message
taken but never released is delivered again to the same persistent session."""

from __future__ import annotations

import asyncio
import time

import paho.mqtt.client as paho
import pytest

from headway.adapters.mqtt_ingest import MqttIngest
from tests.integration.conftest import Stack

pytestmark = pytest.mark.integration


def publish(stack: Stack, topic: str, payloads: list[bytes]) -> None:
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"pub-{time.time_ns()}")
    client.username_pw_set(stack.mqtt_username, stack.mqtt_password)
    client.connect(stack.mqtt_host, stack.mqtt_port)
    client.loop_start()
    for payload in payloads:
        client.publish(topic, payload, qos=1).wait_for_publish(10)
    client.loop_stop()
    client.disconnect()


async def until(condition: object, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_unreleased_messages_come_again_and_released_ones_do_not(
    stack: Stack, unique: str
) -> None:
    got: list[bytes] = []

    def subscriber() -> MqttIngest:
        return MqttIngest(
            stack.mqtt_host,
            stack.mqtt_port,
            [(f"$share/{unique}/uagv/v2/{unique}/+/state", 1)],
            lambda topic, payload: got.append(payload),
            position=lambda: len(got),
            client_id=f"{unique}-bridge",
            username=stack.mqtt_username,
            password=stack.mqtt_password,
            clean_session=False,
        )

    first = subscriber()
    await first.start()
    payloads = [f"m{i}".encode() for i in range(6)]
    await asyncio.to_thread(publish, stack, f"uagv/v2/{unique}/s1/state", payloads)
    await until(lambda: len(got) == 6)
    first.release(3)  # the first three are durable downstream, the rest not yet
    assert first.acknowledged == 3
    await asyncio.sleep(0.2)  # the acknowledgements reach the broker
    await first.abort()  # a crash: the session stays with the broker

    got.clear()
    second = subscriber()
    await second.start()
    await until(lambda: len(got) == 3)
    assert got == payloads[3:], "what was not acknowledged comes again, and only that"
    second.release(len(got))
    await asyncio.sleep(0.2)
    await second.stop()

    got.clear()
    third = subscriber()
    await third.start()
    await asyncio.sleep(1.0)
    assert got == []
    await third.stop()  # ends the session too


async def test_a_stopped_subscriber_leaves_no_session_behind(stack: Stack, unique: str) -> None:
    """After a clean stop, the broker keeps nothing for the bridge's name."""
    got: list[bytes] = []
    ingest = MqttIngest(
        stack.mqtt_host,
        stack.mqtt_port,
        [(f"$share/{unique}/uagv/v2/{unique}/+/state", 1)],
        lambda topic, payload: got.append(payload),
        position=lambda: len(got),
        client_id=f"{unique}-bridge",
        username=stack.mqtt_username,
        password=stack.mqtt_password,
        clean_session=False,
    )
    await ingest.start()
    await ingest.unsubscribe()
    await ingest.stop()
    await asyncio.to_thread(publish, stack, f"uagv/v2/{unique}/s1/state", [b"after"])
    again = MqttIngest(
        stack.mqtt_host,
        stack.mqtt_port,
        [],
        lambda topic, payload: got.append(payload),
        position=lambda: len(got),
        client_id=f"{unique}-bridge",
        username=stack.mqtt_username,
        password=stack.mqtt_password,
        clean_session=False,
    )
    await again.start()  # the old session, were it kept, would deliver "after" now
    await asyncio.sleep(1.0)
    assert got == []
    await again.stop()
