"""The commander's scenario on the stack's real services: Mosquitto carries the VDA 5050
messages, Kafka the event log, Redis the command queue and the live state.

The bridge, processor and commander run in the test process, wired as the stack's
processes wire them, under names of their own (Kafka topic and groups, Redis prefixes,
the fleet's manufacturer). Command records are in PostgreSQL when a database URL (or a
store) is handed in, else in memory; with ``commander=False`` the commander is left to ``headway run
commander`` processes started under the same names (``test_commander_process.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import uuid
from dataclasses import replace
from pathlib import Path

from headway.adapters.gmqtt_link import GmqttSubscriber
from headway.adapters.gmqtt_publisher import GmqttCommandLink
from headway.adapters.kafka_event_log import KafkaEventLog
from headway.adapters.memory.command_store import MemoryCommandStore
from headway.adapters.memory.dead_letters import MemoryDeadLetters
from headway.adapters.memory.registry import MemoryVehicleRegistry
from headway.adapters.postgres.commands import PostgresCommandStore
from headway.adapters.postgres.migrate import new_schema
from headway.adapters.redis_command_queue import RedisCommandQueue
from headway.adapters.redis_live_state import RedisLiveState
from headway.adapters.sqlite_records import SqliteRecords
from headway.contracts import vda5050
from headway.contracts.events import TELEMETRY_TOPIC
from headway.network.cch_router import CCHRouter
from headway.network.graph import RoadNetwork
from headway.services.commands.commander import Commander
from headway.services.commands.service import CommandService
from headway.services.commands.translate import Translator
from headway.services.metrics import Metrics
from headway.services.ports import CommandStore
from headway.streaming.bridge import Bridge
from headway.streaming.fold import FoldRules
from headway.streaming.processor import Processor
from headway.streaming.vda_ingest import SUBSCRIPTIONS
from tests.integration.conftest import Stack
from tests.unit.commands.scenario import COMMANDER

FLUSH_EVERY_S = 0.05


def schema_url(database_url: str) -> str:
    """The URL of a fresh schema of its own in the stack's database, migrated to the
    newest revision: tests isolate by name, never by cleaning up."""
    return new_schema(database_url, f"t{uuid.uuid4().hex[:12]}")


class StackParts:
    def __init__(
        self,
        stack: Stack,
        unique: str,
        manufacturer: str,
        city: RoadNetwork,
        command_store: CommandStore | None = None,
        commander: bool = True,
        database_url: str | None = None,
    ) -> None:
        self._stack = stack
        self._login = (stack.mqtt_username, stack.mqtt_password)
        self._telemetry = f"{unique}.{TELEMETRY_TOPIC}"
        self.log = KafkaEventLog(stack.kafka_bootstrap, client_id=unique)
        self.live = RedisLiveState(stack.redis_url, prefix=f"{unique}:")
        self.registry = MemoryVehicleRegistry()
        self.dead_letters = MemoryDeadLetters()
        self.metrics = Metrics()
        self._records = SqliteRecords(Path(tempfile.mkdtemp(prefix="headway-day-")) / "h.sqlite")
        self._bridge = Bridge(
            self.log, self.registry, self.dead_letters, self.metrics, topic=self._telemetry
        )
        self._processor = Processor(
            self.log,
            self.live,
            self._records,
            self.dead_letters,
            city,
            self.metrics,
            FoldRules(),
            group=f"{unique}-processor",
            topic=self._telemetry,
        )
        self._own_store = (
            None if database_url is None else PostgresCommandStore(database_url, max_size=8)
        )
        self.command_store = command_store or self._own_store or MemoryCommandStore()
        self._run_commander = commander
        self.command_queue = RedisCommandQueue(stack.redis_url, prefix=f"{unique}:")
        self.translator = Translator(city, CCHRouter(city))
        self.commands = CommandService(
            self.command_store,
            self.command_queue,
            self.live,
            self.registry,
            self.translator,
            self.metrics,
        )
        self.command_link = GmqttCommandLink(
            stack.mqtt_host, stack.mqtt_port, username=self._login[0], password=self._login[1]
        )
        self.commander = Commander(
            self.command_store,
            self.command_queue,
            self.command_link,
            self.log,
            self.live,
            self.translator,
            self.dead_letters,
            self.metrics,
            replace(COMMANDER, group=f"{unique}-commander", telemetry_topic=self._telemetry),
        )
        self._subscriber = GmqttSubscriber(
            stack.mqtt_host,
            stack.mqtt_port,
            [(vda5050.topic(manufacturer, "+", kind), 1) for kind in SUBSCRIPTIONS],
            self._bridge.on_message,
            username=self._login[0],
            password=self._login[1],
        )
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def known_vehicles(self) -> int:
        return self._processor.known_vehicles

    def mqtt(self) -> tuple[str, int, tuple[str, str] | None]:
        return self._stack.mqtt_host, self._stack.mqtt_port, self._login

    def task(self, name: str) -> asyncio.Task[None] | None:
        return next((t for t in self._tasks if t.get_name() == name), None)

    async def start(self) -> None:
        if self._own_store is not None:
            await self._own_store.open()
        await self.log.ensure_topics([self._telemetry])
        await self._subscriber.start()
        await self.command_link.start()
        self._spawn("processor", self._processor.run(self._stop))
        self._spawn("flush", self._flush())
        if self._run_commander:
            self._spawn("commander", self.commander.run(self._stop))

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._subscriber.stop()
        if self.command_link.up:
            await self.command_link.stop()
        await self.command_queue.close()
        await self.live.close()
        await self.log.close()
        await self._records.close()
        if self._own_store is not None:
            await self._own_store.close()

    def _spawn(self, name: str, work: object) -> None:
        self._tasks.append(asyncio.create_task(work, name=name))  # type: ignore[arg-type]

    async def _flush(self) -> None:
        """What the stack's bridge process does: hand buffered records to Kafka often."""
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(FLUSH_EVERY_S):
                    await self._stop.wait()
            with contextlib.suppress(Exception):
                await self.log.flush(timeout_s=1.0)
