"""The stack profile's processes: ``headway run bridge|processor|api|commander|dispatcher``.

Each builds only what it needs from the settings, connects, and runs until SIGTERM or
SIGINT; several instances of each can run at once (MQTT shared subscriptions spread the
bridge's load, a Kafka consumer group the processor's, and the API is stateless).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import signal
import socket
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import redis.asyncio as aioredis
import uvicorn

from headway.adapters.kafka_event_log import KafkaEventLog
from headway.adapters.mqtt_ingest import MqttIngest
from headway.adapters.postgres.commands import PostgresCommandStore
from headway.adapters.postgres.migrate import upgrade
from headway.adapters.postgres.records import PostgisRecords
from headway.adapters.postgres.registry import PostgresUserStore, PostgresVehicleRegistry
from headway.adapters.postgres.rides import PostgresRideStore
from headway.adapters.redis_command_queue import RedisCommandQueue
from headway.adapters.redis_live_state import RedisLiveState
from headway.adapters.redis_ride_desk import RedisRideDesk
from headway.adapters.redis_traffic import RedisTrafficStore
from headway.adapters.stack_dead_letters import StackDeadLetters
from headway.config import Settings
from headway.contracts import vda5050
from headway.contracts.events import DEAD_LETTER_TOPIC, TELEMETRY_TOPIC
from headway.domain.users import Role
from headway.entrypoints.api.app import create_app
from headway.entrypoints.api.context import ApiContext
from headway.entrypoints.commander import run_commander
from headway.entrypoints.dispatcher import run_dispatcher
from headway.entrypoints.runtime import settle_heap
from headway.network.geojson import network_geojson
from headway.network.graph import RoadNetwork
from headway.network.routing import DijkstraRouter
from headway.services.commands.service import CommandService
from headway.services.commands.translate import Translator
from headway.services.identity import Identity
from headway.services.metrics import Metrics
from headway.streaming.bridge import Bridge
from headway.streaming.fold import FoldRules
from headway.streaming.processor import Processor
from headway.streaming.traffic_feed import TrafficFeed
from headway.streaming.vda_ingest import SUBSCRIPTIONS

log = logging.getLogger(__name__)

SHARE_GROUP = "headway-bridge"
# QoS 1 for everything in the stack profile: the broker keeps what the bridge has not
# taken yet, so a bridge under load or restarting does not drop telemetry.
QOS = {"state": 1, "visualization": 1, "connection": 1, "factsheet": 1}
REGISTRY_REFRESH_S = 5.0
SERVE_EVERY_S = 0.005
IDLE_S = 0.05
REPORT_EVERY_S = 10.0
BACKLOG_WARNING = 10_000
REGISTRY_REFRESH_ROUNDS = 5  # the API's health watch runs once a second
RIDE_CALL_TIMEOUT_S = 5.0
"""How long the API waits for the dispatcher to answer a passenger's call (then 503)."""


def instance_name(settings: Settings, role: str) -> str:
    return settings.instance or f"{role}-{socket.gethostname()}-{os.getpid()}"


def share_group(settings: Settings) -> str:
    """The MQTT shared subscription of the bridges that feed one set of topics: bridges
    of another deployment (another topic prefix) on the same broker never take its
    messages."""
    prefix = re.sub(r"[^A-Za-z0-9_-]", "-", settings.kafka_topic_prefix)
    return prefix + SHARE_GROUP


def topics(settings: Settings) -> tuple[str, str]:
    prefix = settings.kafka_topic_prefix
    return prefix + TELEMETRY_TOPIC, prefix + DEAD_LETTER_TOPIC


def submitter(
    store: PostgresCommandStore,
    queue: RedisCommandQueue,
    network: RoadNetwork,
    live: RedisLiveState,
    registry: PostgresVehicleRegistry,
    metrics: Metrics,
) -> CommandService:
    """The command service of the stack's processes that submit commands (API,
    dispatcher); a `headway run commander` carries them out. Submitting only checks
    stops, depots and chargers, so Dijkstra serves (no routing tables to build)."""
    return CommandService(
        store, queue, live, registry, Translator(network, DijkstraRouter(network)), metrics
    )


def load_network(settings: Settings) -> RoadNetwork:
    """Every process of a deployment loads the same map: a network file, or the
    synthetic city of HEADWAY_CITY_SEED."""
    from headway.entrypoints.demo import load_network as load

    return load(settings.city_seed, settings.network_file)


async def _ensure_topics(events: KafkaEventLog, names: list[str], wait_s: float = 120.0) -> None:
    """Kafka may still be starting (or restarting): retry, with backoff, for a while."""
    pause, deadline = 0.5, asyncio.get_running_loop().time() + wait_s
    while True:
        try:
            await events.ensure_topics(names)
            return
        except Exception as exc:
            if asyncio.get_running_loop().time() > deadline:
                raise
            log.warning("kafka not reachable yet (%s); retrying in %.1f s", exc, pause)
            await asyncio.sleep(pause)
            pause = min(pause * 2, 5.0)


async def _until_signalled(work: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    await work(stop)


async def run_bridge(settings: Settings, ready: Callable[[], None] | None = None) -> None:
    name = instance_name(settings, "bridge")
    telemetry_topic, dead_topic = topics(settings)
    events = KafkaEventLog(settings.kafka_bootstrap, client_id=name)
    redis = aioredis.from_url(settings.redis_url, socket_timeout=5)
    await asyncio.to_thread(upgrade, settings.database_url)  # the registry's table
    registry = PostgresVehicleRegistry(settings.database_url)
    await asyncio.to_thread(registry.refresh)
    metrics = Metrics()
    dead = StackDeadLetters(events, redis, settings.redis_prefix, dead_topic)
    bridge = Bridge(events, registry, dead, metrics, topic=telemetry_topic)
    subscriptions = [
        (
            f"$share/{share_group(settings)}/"
            + vda5050.topic(settings.bridge_manufacturer, "+", kind),
            QOS[kind],
        )
        for kind in SUBSCRIPTIONS
    ]
    # A named instance (HEADWAY_INSTANCE, as `headway up` sets) keeps its MQTT session
    # across restarts, so what the broker handed over but Kafka had not acknowledged is
    # delivered again; an unnamed one starts clean each time.
    subscriber = MqttIngest(
        settings.mqtt_host,
        settings.stack_mqtt_port,
        subscriptions,
        bridge.on_message,
        position=lambda: events.produced,
        client_id=name,
        username=settings.mqtt_username or None,
        password=settings.mqtt_password.get_secret_value() or None,
        clean_session=not settings.instance,
    )
    events.on_durable = subscriber.release

    async def drain(timeout_s: float) -> None:
        """Take no new messages, finish those already sent to this bridge, and wait
        until Kafka holds all of them (so all are acknowledged before the session ends)."""
        loop = asyncio.get_running_loop()
        await subscriber.unsubscribe()
        deadline = loop.time() + timeout_s
        while loop.time() < deadline and (
            events.durable < events.produced or loop.time() - subscriber.last_message_at < 0.5
        ):
            events.serve()
            await asyncio.sleep(SERVE_EVERY_S)

    async def work(stop: asyncio.Event) -> None:
        await _ensure_topics(events, [telemetry_topic, dead_topic])
        await subscriber.start()
        log.info(
            "bridge %s: mqtt %s:%d -> kafka %s topic %s",
            name,
            settings.mqtt_host,
            settings.stack_mqtt_port,
            settings.kafka_bootstrap,
            telemetry_topic,
        )
        settle_heap()
        if ready is not None:
            ready()
        loop = asyncio.get_running_loop()
        refreshed = reported = loop.time()
        while not stop.is_set():
            # Delivery reports are also served on every produce; this catches the last
            # ones of a burst, so acknowledgements never wait for the next message.
            if events.durable < events.produced:
                events.serve()
                await asyncio.sleep(SERVE_EVERY_S)
            else:
                await asyncio.sleep(IDLE_S)
            now = loop.time()
            if now - reported > REPORT_EVERY_S:
                reported = now
                waiting = events.produced - events.durable
                if waiting > BACKLOG_WARNING:
                    log.warning(
                        "bridge: %d records waiting for Kafka (%d sent again); their MQTT "
                        "acknowledgements wait with them",
                        waiting,
                        events.retried,
                    )
            if now - refreshed > REGISTRY_REFRESH_S:
                refreshed = now
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(registry.refresh)
        await drain(timeout_s=30.0)
        await subscriber.stop()
        events.on_durable = None  # flush serves reports on another thread; none is left to ack
        await events.flush(timeout_s=30.0)
        await redis.aclose()

    await _until_signalled(work)


async def run_processor(settings: Settings, ready: Callable[[], None] | None = None) -> None:
    name = instance_name(settings, "processor")
    telemetry_topic, dead_topic = topics(settings)
    await asyncio.to_thread(upgrade, settings.database_url)
    events = KafkaEventLog(settings.kafka_bootstrap, client_id=name)
    live = RedisLiveState(settings.redis_url, prefix=settings.redis_prefix)
    records = PostgisRecords(settings.database_url)
    await records.open()
    dead = StackDeadLetters(events, live.client, settings.redis_prefix, dead_topic)
    network, metrics = load_network(settings), Metrics()
    # Live traffic: this processor's part, in Redis for the routers of other processes.
    traffic_store = RedisTrafficStore(settings.redis_url, prefix=settings.redis_prefix)
    traffic = TrafficFeed(network, traffic_store, name, metrics=metrics)
    processor = Processor(
        events,
        live,
        records,
        dead,
        network,
        metrics,
        FoldRules(offline_after_s=settings.offline_after_s),
        group=settings.kafka_topic_prefix + "processor",
        topic=telemetry_topic,
        track_interval_s=0.0,
        traffic=traffic,
    )

    async def work(stop: asyncio.Event) -> None:
        await _ensure_topics(events, [telemetry_topic, dead_topic])
        log.info("processor %s: kafka %s -> redis + postgis", name, settings.kafka_bootstrap)
        settle_heap()  # the road network and the matcher's graph stay for good
        if ready is not None:
            ready()
        publishing = asyncio.create_task(traffic.run(stop), name="traffic")
        await processor.run(stop, history_beside=True)
        await publishing
        await traffic_store.close()
        await events.close()
        await records.close()
        await live.close()

    await _until_signalled(work)


def build_stack_api(
    settings: Settings,
) -> tuple[ApiContext, Callable[[], Awaitable[None]], Callable[[], Awaitable[None]]]:
    """The API's context over the stack's stores, a function that opens them and one
    that closes them."""
    network = load_network(settings)
    live = RedisLiveState(settings.redis_url, prefix=settings.redis_prefix)
    records = PostgisRecords(settings.database_url)
    secret = settings.jwt_secret.get_secret_value()
    if len(secret.encode()) < 32:
        raise ValueError("HEADWAY_JWT_SECRET must be set (32+ bytes) and shared by API instances")
    identity = Identity(PostgresUserStore(settings.database_url), secret, settings.jwt_ttl_s)
    registry = PostgresVehicleRegistry(settings.database_url)
    health = {"redis": False, "postgres": False}
    watchers: list[asyncio.Task[None]] = []
    metrics = Metrics()
    # Commands are stored and queued here; a `headway run commander` carries them out.
    # The API only checks stops, depots and chargers, so it needs no routing tables.
    command_store = PostgresCommandStore(settings.database_url)
    command_queue = RedisCommandQueue(settings.redis_url, prefix=settings.redis_prefix)
    commands = submitter(command_store, command_queue, network, live, registry, metrics)

    # Rides: passengers' calls go to `headway run dispatcher` over Redis; reads come
    # straight from PostgreSQL.
    ride_store = PostgresRideStore(settings.database_url)
    ride_client = aioredis.from_url(settings.redis_url, socket_timeout=RIDE_CALL_TIMEOUT_S + 5)
    rides = RedisRideDesk(ride_client, ride_store, settings.redis_prefix, RIDE_CALL_TIMEOUT_S)

    def ready() -> dict[str, bool]:
        return dict(health)

    traffic = RedisTrafficStore(settings.redis_url, prefix=settings.redis_prefix)
    ctx = ApiContext(
        identity=identity,
        live=live,
        records=records,
        traffic=traffic,
        traffic_map_id=network.frame.map_id,
        dead_letters=StackDeadLetters(None, live.client, settings.redis_prefix),
        registry=registry,
        metrics=metrics,
        network_geojson=json.dumps(network_geojson(network), separators=(",", ":")).encode(),
        ready=ready,
        live_tick_s=settings.live_tick_s,
        commands=commands,
        rides=rides,
    )

    async def open_stores() -> None:
        await asyncio.to_thread(upgrade, settings.database_url)
        await records.open()
        await command_store.open()
        await ride_store.open()
        await asyncio.to_thread(registry.refresh)
        password = settings.admin_password.get_secret_value()
        if password:
            await asyncio.to_thread(identity.add_user, settings.admin_user, password, Role.ADMIN)

        async def watch() -> None:
            rounds = 0
            while True:
                try:
                    health["redis"] = await live.ping()
                except Exception:
                    health["redis"] = False
                try:
                    await records.alerts(None, active_only=True, limit=1)
                    health["postgres"] = True
                except Exception:
                    health["postgres"] = False
                rounds += 1
                if rounds % REGISTRY_REFRESH_ROUNDS == 0:
                    # Vehicles provisioned through another API instance can be commanded.
                    with contextlib.suppress(Exception):
                        await asyncio.to_thread(registry.refresh)
                await asyncio.sleep(1.0)

        watchers.append(asyncio.get_running_loop().create_task(watch(), name="health"))

    async def close_stores() -> None:
        for task in watchers:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await records.close()
        await command_store.close()
        await ride_store.close()
        await ride_client.aclose()
        await command_queue.close()
        await live.close()
        await traffic.close()

    return ctx, open_stores, close_stores


async def run_api(settings: Settings, ready: Callable[[], None] | None = None) -> None:
    ctx, open_stores, close_stores = build_stack_api(settings)
    await open_stores()
    app = create_app(ctx, settings.web_dir)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=settings.http_host,
            port=settings.http_port,
            log_level="warning",
            ws="websockets-sansio",
        )
    )

    async def work(stop: asyncio.Event) -> None:
        task = asyncio.create_task(server.serve())
        while not server.started and not task.done():
            await asyncio.sleep(0.02)
        log.info("api: http://%s:%d", settings.http_host, settings.http_port)
        if ready is not None:
            ready()
        await stop.wait()
        server.should_exit = True
        await task
        await close_stores()

    await _until_signalled(work)


PROCESSES: dict[str, Callable[[Settings], Coroutine[Any, Any, None]]] = {
    "bridge": run_bridge,
    "processor": run_processor,
    "api": run_api,
    "commander": run_commander,
    "dispatcher": run_dispatcher,
}
