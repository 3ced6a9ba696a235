"""``headway run commander``: the stack profile's commander process.

Command records in PostgreSQL, the work queue on a Redis Stream (consumer group, claims
of a silent commander's pending entries), vehicle states from the Kafka event log (a
consumer group of its own), VDA 5050 messages to Mosquitto. Several can run at once:
each takes its share of the queue and of the log's partitions, and every save is
compare-and-set. A commander killed at any moment loses nothing: what it held stays
pending in the queue, and it picks it up again when restarted under the same name
(``HEADWAY_INSTANCE``), or another claims it after ``HEADWAY_COMMANDER_RECLAIM_IDLE_S``.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable

from headway.adapters.gmqtt_publisher import GmqttCommandLink
from headway.adapters.kafka_event_log import KafkaEventLog
from headway.adapters.postgres.commands import PostgresCommandStore
from headway.adapters.postgres.migrate import upgrade
from headway.adapters.redis_command_queue import RedisCommandQueue
from headway.adapters.redis_live_state import RedisLiveState
from headway.adapters.redis_traffic import RedisTrafficStore
from headway.adapters.stack_dead_letters import StackDeadLetters
from headway.config import Settings
from headway.network.cch_router import CCHRouter
from headway.services.commands.commander import Commander, CommanderConfig
from headway.services.commands.scheduling import RetryPolicy
from headway.services.commands.translate import Translator
from headway.services.metrics import Metrics
from headway.services.traffic import TrafficFollower

log = logging.getLogger(__name__)
REPORT_EVERY_S = 30.0


def commander_config(settings: Settings, name: str, telemetry_topic: str) -> CommanderConfig:
    return CommanderConfig(
        name=name,
        retry=RetryPolicy(ack_timeout_s=settings.commander_ack_timeout_s),
        group=settings.kafka_topic_prefix + "commander",
        telemetry_topic=telemetry_topic,
        reclaim_idle_s=settings.commander_reclaim_idle_s,
        silent_after_s=settings.command_silent_after_s,
    )


async def run_commander(settings: Settings, ready: Callable[[], None] | None = None) -> None:
    from headway.entrypoints.processes import (
        _ensure_topics,
        _until_signalled,
        instance_name,
        load_network,
        topics,
    )

    name = instance_name(settings, "commander")
    telemetry_topic, dead_topic = topics(settings)
    await asyncio.to_thread(upgrade, settings.database_url)
    network = await asyncio.to_thread(load_network, settings)
    router = await asyncio.to_thread(CCHRouter, network)
    translator = Translator(network, router)
    # Orders are planned on live traffic, as the processors publish it.
    traffic_store = RedisTrafficStore(settings.redis_url, prefix=settings.redis_prefix)
    follower = TrafficFollower(traffic_store, network.frame.map_id, [router])
    events = KafkaEventLog(settings.kafka_bootstrap, client_id=name)
    live = RedisLiveState(settings.redis_url, prefix=settings.redis_prefix)
    store = PostgresCommandStore(settings.database_url)
    await store.open()
    queue = RedisCommandQueue(settings.redis_url, prefix=settings.redis_prefix)
    link = GmqttCommandLink(
        settings.mqtt_host,
        settings.stack_mqtt_port,
        # Unique per connection: a restarted commander must not be taken for the old one.
        client_id=f"{name}-{uuid.uuid4().hex[:6]}",
        username=settings.mqtt_username or None,
        password=settings.mqtt_password.get_secret_value() or None,
    )
    dead = StackDeadLetters(events, live.client, settings.redis_prefix, dead_topic)
    commander = Commander(
        store,
        queue,
        link,
        events,
        live,
        translator,
        dead,
        Metrics(),
        commander_config(settings, name, telemetry_topic),
    )

    async def report(stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), REPORT_EVERY_S)
            except TimeoutError:
                stats = commander.stats
                log.info(
                    "commander %s: holding %d, sends %d (retries %d), reports %d, "
                    "reclaimed %d, requeued %d, silenced %d, conflicts %d, errors %d, ended %s",
                    name,
                    commander.held,
                    stats.sends,
                    stats.retries,
                    stats.reports,
                    stats.reclaimed,
                    stats.requeued,
                    stats.silenced,
                    stats.conflicts,
                    stats.loop_errors,
                    dict(stats.ended),
                )

    async def work(stop: asyncio.Event) -> None:
        await _ensure_topics(events, [telemetry_topic, dead_topic])
        await link.start()
        log.info(
            "commander %s: postgres records, redis queue %scommands, kafka %s topic %s, mqtt %s:%d",
            name,
            settings.redis_prefix,
            settings.kafka_bootstrap,
            telemetry_topic,
            settings.mqtt_host,
            settings.stack_mqtt_port,
        )
        if ready is not None:
            ready()
        reporter = asyncio.create_task(report(stop))
        following = asyncio.create_task(follower.run(stop), name="traffic")
        try:
            await commander.run(stop)
        finally:
            stop.set()
            await reporter
            await following
            await traffic_store.close()
            await link.stop()
            await events.flush(timeout_s=10.0)
            await events.close()
            await queue.close()
            await live.close()
            await store.close()

    await _until_signalled(work)
