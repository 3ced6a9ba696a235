"""Round trips through each real service that `scripts/stack` runs.

PostgreSQL + PostGIS (psycopg), Redis (redis-py with hiredis), Mosquitto (gmqtt, MQTT
3.1.1, plain and TLS, per-vehicle logins and ACL), Kafka (confluent-kafka: a 6-partition
topic, an idempotent acks=all producer, a consumer group).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import subprocess
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest
import redis
from confluent_kafka import Consumer, KafkaError, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from gmqtt import Client as MqttClient
from gmqtt.mqtt.constants import MQTTv311
from gmqtt.mqtt.handler import MQTTConnectError

from .conftest import STACK, Stack

pytestmark = pytest.mark.integration

# ---------------------------------------------------------------------------------------
# PostgreSQL 15 + PostGIS 3


def test_postgis_answers_and_finds_stops_within_a_radius(stack: Stack, unique: str) -> None:
    with psycopg.connect(stack.database_url, autocommit=True, connect_timeout=10) as conn:
        row = conn.execute("SELECT postgis_version(), current_user, version()").fetchone()
        assert row is not None
        postgis, user, server = row
        assert postgis.startswith("3."), postgis
        assert user == "headway"
        assert server.startswith("PostgreSQL 15."), server

        conn.execute(f'CREATE SCHEMA "{unique}"')
        conn.execute(
            f'CREATE TABLE "{unique}".stop '
            "(name text PRIMARY KEY, geom geography(Point, 4326) NOT NULL)"
        )
        conn.execute(f'CREATE INDEX ON "{unique}".stop USING gist (geom)')
        # Bismarckplatz, Heidelberg, and points at known distances and bearings from it.
        centre = "ST_SetSRID(ST_MakePoint(8.6936, 49.4093), 4326)::geography"
        with conn.cursor() as cur:
            cur.executemany(
                f'INSERT INTO "{unique}".stop VALUES (%s, ST_Project({centre}, %s, radians(%s)))',
                [
                    ("centre", 0, 0),
                    ("east-400m", 400, 90),
                    ("north-900m", 900, 0),
                    ("south-1200m", 1200, 180),
                    ("west-20km", 20_000, 270),
                ],
            )
        rows = conn.execute(
            f'SELECT name, round(ST_Distance(geom, {centre})) FROM "{unique}".stop '
            f"WHERE ST_DWithin(geom, {centre}, %s) ORDER BY ST_Distance(geom, {centre})",
            (1000,),
        ).fetchall()
    assert [name for name, _ in rows] == ["centre", "east-400m", "north-900m"]
    assert [float(d) for _, d in rows] == [0.0, 400.0, 900.0]


def test_postgres_refuses_a_wrong_password(stack: Stack) -> None:
    url = stack.database_url.replace("://headway:", "://headway:not-the-password-")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(url, connect_timeout=10).close()


# ---------------------------------------------------------------------------------------
# Redis 7


def test_redis_keeps_hashes_and_answers_geo_searches(stack: Stack, unique: str) -> None:
    assert redis.utils.HIREDIS_AVAILABLE
    with redis.Redis.from_url(stack.redis_url, decode_responses=True) as r:
        assert r.ping()
        assert r.config_get("appendonly") == {"appendonly": "yes"}
        vehicle = f"{unique}:vehicle:acme/S1"
        with r.pipeline() as p:
            p.hset(vehicle, mapping={"battery": "81.5", "status": "driving"})
            p.expire(vehicle, 3600)
            p.execute()
        assert r.hgetall(vehicle) == {"battery": "81.5", "status": "driving"}

        geo = f"{unique}:positions"
        r.geoadd(geo, [8.6936, 49.4093, "S1", 8.6755, 49.4036, "S2", 8.4660, 49.4875, "S3"])
        r.expire(geo, 3600)
        near = r.geosearch(
            geo,
            longitude=8.6936,
            latitude=49.4093,
            radius=3,
            unit="km",
            sort="ASC",
            withdist=True,
        )
    assert [member for member, _ in near] == ["S1", "S2"]
    assert near[0][1] == pytest.approx(0, abs=0.01)
    assert near[1][1] == pytest.approx(1.45, abs=0.05)  # Bismarckplatz to the main station


def test_redis_refuses_clients_without_the_password(stack: Stack) -> None:
    url = stack.redis_url.split("@", 1)[1]
    with (
        redis.Redis.from_url(f"redis://{url}") as r,
        pytest.raises(redis.exceptions.AuthenticationError),
    ):
        r.ping()


# ---------------------------------------------------------------------------------------
# Mosquitto 2


class Inbox:
    """An MQTT client (3.1.1) that collects what it receives."""

    def __init__(self, client_id: str) -> None:
        self.client = MqttClient(client_id)
        self.client.set_config({"reconnect_retries": 0})
        self.messages: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
        self._subscribed = asyncio.Event()
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe

    def _on_message(self, client: Any, topic: str, payload: bytes, qos: int, props: Any) -> int:
        self.messages.put_nowait((topic, payload))
        return 0

    def _on_subscribe(self, client: Any, mid: int, qos: Any, props: Any) -> None:
        self._subscribed.set()

    async def subscribe(self, pattern: str) -> None:
        self._subscribed.clear()
        self.client.subscribe(pattern, qos=1)
        await asyncio.wait_for(self._subscribed.wait(), 10)

    async def next(self) -> tuple[str, bytes]:
        return await asyncio.wait_for(self.messages.get(), 10)


def tls_context(stack: Stack) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(stack.mqtt_ca_file))


@contextlib.asynccontextmanager
async def connected(
    stack: Stack, client_id: str, username: str, password: str, *, tls: bool
) -> AsyncIterator[Inbox]:
    inbox = Inbox(client_id)
    inbox.client.set_auth_credentials(username, password)
    port = stack.mqtt_tls_port if tls else stack.mqtt_port
    await asyncio.wait_for(
        inbox.client.connect(
            stack.mqtt_host,
            port,
            ssl=tls_context(stack) if tls else False,
            version=MQTTv311,
            keepalive=30,
        ),
        10,
    )
    try:
        yield inbox
    finally:
        # Wait for the broker's acknowledgements of what was published: one arriving
        # after DISCONNECT began breaks the TLS close ("application data after close
        # notify").
        await asyncio.wait_for(inbox.client._persistent_storage.wait_empty(), 10)
        await inbox.client.disconnect()


async def test_mqtt_platform_publishes_and_subscribes(stack: Stack, unique: str) -> None:
    user, password = stack.mqtt_username, stack.mqtt_password
    async with (
        connected(stack, f"{unique}-sub", user, password, tls=False) as sub,
        connected(stack, f"{unique}-pub", user, password, tls=True) as pub,
    ):
        await sub.subscribe(f"uagv/v2/{unique}/#")
        pub.client.publish(f"uagv/v2/{unique}/S1/state", b'{"headerId": 1}', qos=1)
        assert await sub.next() == (f"uagv/v2/{unique}/S1/state", b'{"headerId": 1}')


async def test_mqtt_vehicle_stays_within_its_own_topics(stack: Stack, unique: str) -> None:
    own = stack.add_vehicle(unique, "S1")
    stack.add_vehicle(unique, "S2")
    mine, other = f"uagv/v2/{unique}/S1", f"uagv/v2/{unique}/S2"
    platform = (stack.mqtt_username, stack.mqtt_password)
    async with (
        connected(stack, f"{unique}-fleet", *platform, tls=False) as fleet,
        connected(stack, f"{unique}-S1", f"{unique}/S1", own, tls=True) as vehicle,
    ):
        await fleet.subscribe(f"uagv/v2/{unique}/#")
        # Publishing as another vehicle is dropped by the broker; its own topic goes through.
        vehicle.client.publish(f"{other}/state", b"forged", qos=1)
        vehicle.client.publish(f"{mine}/state", b"genuine", qos=1)
        assert await fleet.next() == (f"{mine}/state", b"genuine")

        # Orders to another vehicle never reach it, even when it subscribes to them.
        await vehicle.subscribe(f"{other}/order")
        await vehicle.subscribe(f"{mine}/order")
        fleet.client.publish(f"{other}/order", b"not yours", qos=1)
        fleet.client.publish(f"{mine}/order", b"yours", qos=1)
        assert await vehicle.next() == (f"{mine}/order", b"yours")
        await asyncio.sleep(0.3)
        assert vehicle.messages.empty()
        assert fleet.messages.qsize() == 2  # the fleet sees both orders it sent, nothing forged
        seen = [fleet.messages.get_nowait()[0] for _ in range(2)]
        assert sorted(seen) == [f"{mine}/order", f"{other}/order"]


@pytest.mark.parametrize("tls", [False, True], ids=["plain", "tls"])
async def test_mqtt_refuses_a_wrong_password_and_anonymous_clients(
    stack: Stack, unique: str, tls: bool
) -> None:
    stack.add_vehicle(unique, "S1")
    for username, password in ((f"{unique}/S1", "not-the-password"), (None, None)):
        client = MqttClient(f"{unique}-intruder")
        client.set_config({"reconnect_retries": 0})
        if username is not None:
            client.set_auth_credentials(username, password)
        with pytest.raises(MQTTConnectError):
            await asyncio.wait_for(
                client.connect(
                    stack.mqtt_host,
                    stack.mqtt_tls_port if tls else stack.mqtt_port,
                    ssl=tls_context(stack) if tls else False,
                    version=MQTTv311,
                ),
                10,
            )
        await client.disconnect()


# ---------------------------------------------------------------------------------------
# Kafka 4 (KRaft)


def test_kafka_topic_idempotent_producer_and_consumer_group(stack: Stack, unique: str) -> None:
    admin = AdminClient({"bootstrap.servers": stack.kafka_bootstrap})
    topic = f"{unique}.telemetry"
    admin.create_topics([NewTopic(topic, num_partitions=6, replication_factor=1)])[topic].result(30)
    # A just-created topic reaches the broker's metadata a moment after the controller
    # accepted it (seen on a freshly started broker): wait for it, within bounds.
    deadline = time.monotonic() + 15
    partitions = 0
    while partitions != 6 and time.monotonic() < deadline:
        partitions = len(admin.list_topics(topic, timeout=10).topics[topic].partitions)
        if partitions != 6:
            time.sleep(0.2)
    assert partitions == 6

    producer = Producer(
        {
            "bootstrap.servers": stack.kafka_bootstrap,
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 5,
            "compression.type": "lz4",
        }
    )
    failures: list[KafkaError] = []

    def delivered(err: KafkaError | None, msg: Message) -> None:
        if err is not None:
            failures.append(err)

    sent = 240
    for i in range(sent):
        producer.produce(
            topic, key=f"vehicle-{i % 24}", value=str(i).encode(), on_delivery=delivered
        )
    assert producer.flush(30) == 0
    assert failures == []

    consumer = Consumer(
        {
            "bootstrap.servers": stack.kafka_bootstrap,
            "group.id": f"{unique}.processor",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    try:
        consumer.subscribe([topic])
        received: list[Message] = []
        deadline = time.monotonic() + 60
        while len(received) < sent and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            assert msg.error() is None, msg.error()
            received.append(msg)
        consumer.commit(asynchronous=False)
        committed = consumer.committed([TopicPartition(topic, p) for p in range(6)], timeout=10)
    finally:
        consumer.close()

    assert len(received) == sent
    by_key: dict[str, list[int]] = defaultdict(list)
    partitions: dict[str, set[int]] = defaultdict(set)
    for msg in received:
        key = (msg.key() or b"").decode()
        by_key[key].append(int(msg.value() or b"-1"))
        partitions[key].add(msg.partition())
    assert all(values == sorted(values) for values in by_key.values())  # order kept per key
    assert all(len(p) == 1 for p in partitions.values())  # one key, one partition
    assert len(set().union(*partitions.values())) > 1  # keys spread over partitions
    assert sum(tp.offset for tp in committed) == sent


def test_kafka_does_not_create_topics_on_first_use(stack: Stack, unique: str) -> None:
    topic = f"{unique}.typo"
    producer = Producer({"bootstrap.servers": stack.kafka_bootstrap, "message.timeout.ms": 3000})
    errors: list[KafkaError | None] = []
    producer.produce(topic, b"x", on_delivery=lambda err, msg: errors.append(err))
    producer.flush(15)
    assert len(errors) == 1
    assert errors[0] is not None
    admin = AdminClient({"bootstrap.servers": stack.kafka_bootstrap})
    assert topic not in admin.list_topics(timeout=10).topics


# ---------------------------------------------------------------------------------------
# scripts/stack itself


def test_status_lists_every_service_up_and_prints_no_secret(stack: Stack) -> None:
    r = subprocess.run(
        [str(STACK), "status"], capture_output=True, text=True, timeout=60, check=False
    )
    assert r.returncode == 0, r.stdout + r.stderr
    states = {line.split()[0]: line.split()[1] for line in r.stdout.splitlines()[:4]}
    assert states == {"postgres": "up", "redis": "up", "mosquitto": "up", "kafka": "up"}
    secrets = (stack.mqtt_password, stack.redis_url.split("@")[0], stack.database_url)
    assert not any(s in r.stdout for s in secrets)
