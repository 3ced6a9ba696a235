"""Wiring: the one place that chooses adapters and connects the parts of a process.

Nothing here runs at import time; ``EmbeddedPlatform.start`` opens what needs opening.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI

from headway.adapters.amqtt_broker import AmqttEmbeddedBroker
from headway.adapters.gmqtt_link import GmqttSubscriber
from headway.adapters.gmqtt_publisher import GmqttCommandLink
from headway.adapters.memory.command_queue import MemoryCommandQueue
from headway.adapters.memory.command_store import MemoryCommandStore
from headway.adapters.memory.dead_letters import MemoryDeadLetters
from headway.adapters.memory.event_log import MemoryEventLog
from headway.adapters.memory.live_state import MemoryLiveState
from headway.adapters.memory.registry import MemoryVehicleRegistry
from headway.adapters.memory.ride_store import MemoryRideStore
from headway.adapters.memory.traffic import MemoryTrafficStore
from headway.adapters.memory.users import MemoryUserStore
from headway.adapters.sqlite_records import SqliteRecords
from headway.config import Settings
from headway.contracts import vda5050
from headway.domain.users import Role
from headway.entrypoints.api.app import create_app
from headway.entrypoints.api.context import ApiContext
from headway.network.cch_router import CCHRouter
from headway.network.geojson import network_geojson
from headway.network.graph import RoadNetwork
from headway.optimizer.dispatch import DispatchEngine, RouterTravelTimes
from headway.optimizer.headway_control import HoldingRules
from headway.services.commands.commander import Commander, CommanderConfig
from headway.services.commands.service import CommandService
from headway.services.commands.translate import Translator
from headway.services.fixed_routes import (
    FixedRouteConfig,
    FixedRouteService,
    FixedRouteSetup,
    ServiceTimeStates,
)
from headway.services.identity import Identity
from headway.services.metrics import Metrics
from headway.services.rides.dispatcher import Dispatcher
from headway.services.rides.places import StopFinder
from headway.services.rides.service import Clocks, RideService
from headway.services.stop_places import RoadTravelTimes
from headway.services.traffic import TrafficFollower
from headway.streaming.bridge import Bridge
from headway.streaming.fold import FoldRules
from headway.streaming.processor import Processor
from headway.streaming.traffic_feed import TrafficFeed
from headway.streaming.vda_ingest import SUBSCRIPTIONS

# QoS 1 for connection changes and factsheets (they must not be lost); telemetry is
# superseded every second, so QoS 0 keeps the hot path cheap.
_QOS = {"state": 0, "visualization": 0, "connection": 1, "factsheet": 1}


DISPATCH_TICK_S = 0.5
"""Wall seconds between the dispatcher's and the fixed-route service's rounds, whatever
the simulation's speed-up (vehicles report once a second): each round reads every
vehicle it serves, and the dispatcher re-optimises for up to 50 ms."""


@dataclass
class EmbeddedPlatform:
    """Everything of the embedded profile in one process: broker, bridge, processor, API."""

    settings: Settings
    network: RoadNetwork
    broker: AmqttEmbeddedBroker
    log: MemoryEventLog
    live: MemoryLiveState
    records: SqliteRecords
    dead_letters: MemoryDeadLetters
    registry: MemoryVehicleRegistry
    identity: Identity
    metrics: Metrics
    bridge: Bridge
    processor: Processor
    app: FastAPI
    commands: CommandService
    commander: Commander
    command_link: GmqttCommandLink
    command_store: MemoryCommandStore
    command_queue: MemoryCommandQueue
    translator: Translator
    rides: RideService | None = None
    dispatcher: Dispatcher | None = None
    traffic_feed: TrafficFeed | None = None
    traffic_follower: TrafficFollower | None = None
    fixed_routes: FixedRouteService | None = None
    fixed_route_setup: FixedRouteSetup | None = None
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _subscriber: GmqttSubscriber | None = None

    @property
    def mqtt_port(self) -> int:
        return self.broker.port

    async def start(self) -> None:
        await self.broker.start()
        subscriptions = [(vda5050.topic("+", "+", kind), _QOS[kind]) for kind in SUBSCRIPTIONS]
        self._subscriber = GmqttSubscriber(
            self.broker.host, self.broker.port, subscriptions, self.bridge.on_message
        )
        await self._subscriber.start()
        self._tasks.append(asyncio.create_task(self.processor.run(self._stop), name="processor"))
        await self.command_link.start()
        self._tasks.append(asyncio.create_task(self.commander.run(self._stop), name="commander"))
        if self.fixed_routes is not None and self.fixed_route_setup is not None:
            # Blocks before the dispatcher's first tick: their vehicles never go on demand.
            setup = self.fixed_route_setup
            serials = sorted(serial for _, serial in self.registry.all())
            self.fixed_routes.start_today(serials[: setup.vehicles], setup.timetable_day)
            self._tasks.append(
                asyncio.create_task(self.fixed_routes.run(self._stop), name="fixed-routes")
            )
        if self.rides is not None:
            # Load the dispatch kernels before the first ride request, not in it (they
            # are compiled once per machine, up to half a minute; a second or so after).
            await asyncio.to_thread(self.rides.engine.warm_up)
        if self.dispatcher is not None:
            self._tasks.append(
                asyncio.create_task(self.dispatcher.run(self._stop), name="dispatcher")
            )
        # Live traffic, in process: the processor's estimate to the routers.
        for name, part in (
            ("traffic", self.traffic_feed),
            ("traffic-follower", self.traffic_follower),
        ):
            if part is not None:
                self._tasks.append(asyncio.create_task(part.run(self._stop), name=name))

    async def stop(self) -> None:
        self._stop.set()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._subscriber is not None:
            await self._subscriber.stop()
        if self.command_link.up:
            await self.command_link.stop()
        await self.broker.stop()
        await self.records.close()

    def task(self, name: str) -> asyncio.Task[None] | None:
        """One of the platform's running tasks (``processor``, ``commander``)."""
        return next((t for t in self._tasks if t.get_name() == name), None)

    def readiness(self) -> dict[str, bool]:
        return {
            "broker": self.broker.running,
            "processor": bool(self._tasks) and not self._tasks[0].done(),
            "commander": self.commander.running and self.command_link.up,
        }


def build_embedded(
    settings: Settings,
    network: RoadNetwork,
    commander_config: CommanderConfig | None = None,
    time_scale: float = 1.0,
    fixed_routes: FixedRouteSetup | None = None,
) -> EmbeddedPlatform:
    """The embedded profile. ``time_scale`` > 1 when the vehicles are simulated faster
    than real time: the dispatcher then plans on a clock that runs as fast (and so does
    the fixed-route service). With ``fixed_routes``, that many vehicles drive the
    timetable's blocks and the dispatcher has the others."""
    settings = settings.with_generated_secrets()
    metrics = Metrics()
    log = MemoryEventLog()
    live = MemoryLiveState()
    data_dir = Path(settings.data_dir)
    records = SqliteRecords(data_dir / "headway.sqlite")
    dead_letters = MemoryDeadLetters()
    registry = MemoryVehicleRegistry()
    identity = Identity(
        MemoryUserStore(), settings.jwt_secret.get_secret_value(), settings.jwt_ttl_s
    )
    identity.add_user(settings.admin_user, settings.admin_password.get_secret_value(), Role.ADMIN)
    broker = AmqttEmbeddedBroker(settings.mqtt_host, settings.mqtt_port)
    bridge = Bridge(log, registry, dead_letters, metrics)
    traffic = MemoryTrafficStore()
    traffic_feed = TrafficFeed(network, traffic, "processor", metrics=metrics)
    processor = Processor(
        log,
        live,
        records,
        dead_letters,
        network,
        metrics,
        FoldRules(offline_after_s=settings.offline_after_s),
        traffic=traffic_feed,
    )
    command_store = MemoryCommandStore()
    command_queue = MemoryCommandQueue()
    router = CCHRouter(network)
    translator = Translator(network, router)
    commands = CommandService(command_store, command_queue, live, registry, translator, metrics)
    command_link = GmqttCommandLink(broker.host, broker.port)
    commander = Commander(
        command_store,
        command_queue,
        command_link,
        log,
        live,
        translator,
        dead_letters,
        metrics,
        commander_config or CommanderConfig(name="commander"),
    )
    clocks = Clocks(scale=time_scale, origin=time.time())
    transit = None
    if fixed_routes is not None and fixed_routes.vehicles > 0:
        transit = FixedRouteService(
            fixed_routes.feed,
            ServiceTimeStates(live, clocks.to_service),
            commands,
            RoadTravelTimes(network, router),
            FixedRouteConfig(
                tick_s=DISPATCH_TICK_S,
                control_stops=fixed_routes.control_stops,
                drive_trips=True,
                board_interval_s=time_scale,  # a new board every wall-clock second
                holding=HoldingRules() if fixed_routes.holding else HoldingRules(max_hold_s=0.0),
            ),
            clock=clocks.service,
            to_wall=clocks.to_wall,
        )
    rides = dispatcher = None
    if network.stops:
        travel = RouterTravelTimes(router)
        rides = RideService(
            DispatchEngine(travel, network),
            travel,
            MemoryRideStore(),
            StopFinder(network),
            metrics,
            clocks,
        )
        dispatcher = Dispatcher(
            rides,
            commands,
            live,
            lambda: [
                serial
                for _, serial in registry.all()
                if transit is None or serial not in transit.vehicle_ids
            ],
            tick_s=DISPATCH_TICK_S,
        )
    traffic_follower = TrafficFollower(
        traffic,
        network.frame.map_id,
        [router],
        metrics=metrics,
        after_apply=[travel.invalidate] if rides is not None else [],
    )
    platform_ref: list[EmbeddedPlatform] = []

    def ready() -> dict[str, bool]:
        return platform_ref[0].readiness()

    ctx = ApiContext(
        identity=identity,
        live=live,
        records=records,
        dead_letters=dead_letters,
        registry=registry,
        metrics=metrics,
        network_geojson=json.dumps(network_geojson(network), separators=(",", ":")).encode(),
        ready=ready,
        live_tick_s=settings.live_tick_s,
        commands=commands,
        rides=rides,
        transit=transit,
        traffic=traffic,
        traffic_map_id=network.frame.map_id,
    )
    platform = EmbeddedPlatform(
        settings=settings,
        network=network,
        broker=broker,
        log=log,
        live=live,
        records=records,
        dead_letters=dead_letters,
        registry=registry,
        identity=identity,
        metrics=metrics,
        bridge=bridge,
        processor=processor,
        app=create_app(ctx, settings.web_dir),
        commands=commands,
        commander=commander,
        command_link=command_link,
        command_store=command_store,
        command_queue=command_queue,
        translator=translator,
        rides=rides,
        dispatcher=dispatcher,
        traffic_feed=traffic_feed,
        traffic_follower=traffic_follower,
        fixed_routes=transit,
        fixed_route_setup=fixed_routes,
    )
    platform_ref.append(platform)
    return platform
