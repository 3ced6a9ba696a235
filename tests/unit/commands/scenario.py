"""A hard day for the commander, played once per module against a real MQTT broker.

200 simulated shuttles and the whole embedded platform (broker, bridge, event log,
processor, commander). 20 % of MQTT messages are lost in each direction, and some are
duplicated or delayed. Five vehicles go offline for 30 s just as 1,000 commands arrive
(5 per vehicle), and a few seconds in, the commander is killed (its task cancelled, as
abruptly as a crash) and a new one started on the same store and queue. Every message
sent to a vehicle is recorded. The tests then read the outcome: ``Day``.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import json
import math
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from gmqtt import Client
from gmqtt.mqtt.constants import MQTTv311

from headway.bootstrap import build_embedded
from headway.config import Settings
from headway.domain.commands import Command, CommandKind, CommandParams, StopVisit
from headway.entrypoints.runtime import settle_heap
from headway.network.cch_router import CCHRouter
from headway.network.city import CityParams, generate_city
from headway.network.graph import RoadNetwork
from headway.services.commands.breaker import BreakerPolicy
from headway.services.commands.commander import Commander, CommanderConfig, CommanderStats
from headway.services.commands.scheduling import RetryPolicy
from headway.services.commands.service import CommandRequest, CommandService
from headway.services.commands.translate import Translator
from headway.services.metrics import Metrics
from headway.services.ports import (
    CommandLink,
    CommandQueue,
    CommandStore,
    DeadLetters,
    EventLog,
    LiveState,
    VehicleRegistry,
)
from headway.sim.fleet import FleetSimulator, LinkFaults, SimConfig, VehicleSpec

K = CommandKind
FLEET = 200
PER_VEHICLE = 5
SPEEDUP = 20.0
OFFLINE = tuple(f"v{k:04d}" for k in range(FLEET - 4, FLEET + 1))
OFFLINE_S = 30.0
SECOND_WAVE_S = 1.5
KILL_AFTER_S = 1.5
TROUBLE = LinkFaults(drop_in=0.2, drop_out=0.2, duplicate=0.05, delay=0.05, delay_s=(0.05, 0.4))
COMMANDER = CommanderConfig(
    name="commander-a",
    retry=RetryPolicy(ack_timeout_s=0.5, max_delay_s=2.0, ack_grace_s=3.0),
    breaker=BreakerPolicy(threshold=5, cooldown_s=0.5, max_cooldown_s=2.0),
    take_block_s=0.02,
    recheck_s=0.2,
    reclaim_every_s=0.25,
    reclaim_idle_s=1.0,
    touch_every_s=0.25,
    position_max_age_s=2.0,
    seed=3,
)


@dataclass
class Day:
    commands: list[Command]
    """Every command submitted, as stored at the end, in submission order."""
    applied: dict[str, list[str]]
    """What took effect on each vehicle, in order (``FleetSimulator.applied``)."""
    sent: list[tuple[str, dict[str, Any]]]
    """Every message to a vehicle the broker delivered: (``order``|``instantActions``, body)."""
    offline_until: float
    killed_at: float
    stats: dict[str, CommanderStats]
    injected: dict[str, int]
    breaker_transitions: dict[str, float]
    breaker_log: list[tuple[float, str, str, str]]
    """Breaker transitions of both commanders in time order: (time, commander, vehicle,
    state); breakers live in a commander's memory, so the second starts with all closed."""
    marks: dict[str, float] = field(default_factory=dict)

    def of(self, serial: str) -> list[Command]:
        return [c for c in self.commands if c.vehicle_id == serial]


class Parts(Protocol):
    """What the scenario needs of a platform: the embedded one, or the stack's services
    (``tests/integration/commands_stack.py``)."""

    @property
    def registry(self) -> VehicleRegistry: ...
    @property
    def commands(self) -> CommandService: ...
    @property
    def commander(self) -> Commander: ...
    @property
    def command_store(self) -> CommandStore: ...
    @property
    def command_queue(self) -> CommandQueue: ...
    @property
    def command_link(self) -> CommandLink: ...
    @property
    def log(self) -> EventLog: ...
    @property
    def live(self) -> LiveState: ...
    @property
    def translator(self) -> Translator: ...
    @property
    def dead_letters(self) -> DeadLetters: ...
    @property
    def metrics(self) -> Metrics: ...
    @property
    def known_vehicles(self) -> int: ...

    def mqtt(self) -> tuple[str, int, tuple[str, str] | None]:
        """Broker host, port and login."""
        ...

    def task(self, name: str) -> asyncio.Task[None] | None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class Embedded:
    """The embedded platform, as the scenario sees it."""

    def __init__(self, city: RoadNetwork) -> None:
        settings = Settings(data_dir=Path(tempfile.mkdtemp(prefix="headway-day-")))
        self.platform = build_embedded(settings, city, COMMANDER)
        p = self.platform
        self.registry, self.commands, self.commander = p.registry, p.commands, p.commander
        self.command_store, self.command_queue = p.command_store, p.command_queue
        self.command_link, self.log, self.live = p.command_link, p.log, p.live
        self.translator, self.dead_letters, self.metrics = p.translator, p.dead_letters, p.metrics

    @property
    def known_vehicles(self) -> int:
        return self.platform.processor.known_vehicles

    def mqtt(self) -> tuple[str, int, tuple[str, str] | None]:
        return self.platform.broker.host, self.platform.mqtt_port, None

    def task(self, name: str) -> asyncio.Task[None] | None:
        return self.platform.task(name)

    async def start(self) -> None:
        await self.platform.start()

    async def stop(self) -> None:
        await self.platform.stop()


class Recorder:
    """Subscribes to every vehicle's order and instantActions topics. Messages are kept
    as they came (bytes, which the garbage collector does not walk) and read at the end."""

    def __init__(self, mqtt: tuple[str, int, tuple[str, str] | None], manufacturer: str) -> None:
        self._mqtt = mqtt
        self._manufacturer = manufacturer
        self._raw: list[tuple[str, bytes]] = []
        self._client = Client(f"recorder-{uuid.uuid4().hex[:6]}")
        if mqtt[2] is not None:
            self._client.set_auth_credentials(*mqtt[2])
        self._client.on_message = self._on_message

    async def start(self) -> None:
        await self._client.connect(self._mqtt[0], self._mqtt[1], version=MQTTv311)
        for name in ("order", "instantActions"):
            self._client.subscribe(f"uagv/v2/{self._manufacturer}/+/{name}", qos=1)
        await asyncio.sleep(0.2)

    async def stop(self) -> None:
        await self._client.disconnect()

    def _on_message(self, client: Any, topic: str, payload: bytes, qos: int, props: Any) -> int:
        self._raw.append((topic.rsplit("/", 1)[-1], bytes(payload)))
        return 0

    def messages(self) -> list[tuple[str, dict[str, Any]]]:
        return [(name, json.loads(payload)) for name, payload in self._raw]


def nearby_stops(network: RoadNetwork, node: int, times: Callable[[int], Any]) -> list[str]:
    """Stop ids by travel time from ``node``, nearest first, leaving out the node's own."""
    seconds = times(node)
    ranked = sorted(
        (float(seconds[int(s.node)]), str(s.id)) for s in network.stops if int(s.node) != node
    )
    return [stop for t, stop in ranked if math.isfinite(t)]


Plan = list[CommandRequest | Callable[[], CommandRequest]]


def requests_for(serial: str, near: list[str], drive_id: Callable[[], str]) -> list[Plan]:
    """One vehicle's five commands, by its number, in two waves: the second goes out
    once the first wave's journeys are under way."""
    one = CommandRequest(K.DRIVE, CommandParams(stops=(StopVisit(near[1]),)), ttl_s=60.0)
    pause, resume = CommandRequest(K.PAUSE, ttl_s=60.0), CommandRequest(K.RESUME, ttl_s=60.0)
    hold = CommandRequest(K.HOLD, CommandParams(duration_s=10.0), ttl_s=60.0)
    depot = CommandRequest(K.RETURN_TO_DEPOT, ttl_s=90.0)
    if serial in OFFLINE:
        # While the vehicle is away: the drive waits for a fresh position; the first
        # hold waits behind it and expires unsent; the pause is sent in vain until it
        # expires; the resume, sent in vain for 20 s more, opens the vehicle's circuit
        # breaker, and a probe gets it through when the vehicle is back.
        return [
            [
                replace(one, ttl_s=90.0),
                replace(hold, ttl_s=8.0),
                replace(pause, ttl_s=8.0),
                replace(resume, ttl_s=90.0),
                replace(hold, params=CommandParams(duration_s=1.0), ttl_s=120.0),
            ],
            [],
        ]
    pattern = int(serial[1:]) % 4
    if pattern == 0:
        return [[one, pause, resume, hold, depot], []]
    if pattern == 1:
        charge = CommandRequest(K.CHARGE, CommandParams(target_pct=80.0), ttl_s=90.0)
        return [[pause, one, hold, resume, charge], []]
    if pattern == 2:
        two = CommandRequest(
            K.DRIVE,
            CommandParams(stops=(StopVisit(near[0]), StopVisit(near[2])), horizon=1),
            ttl_s=60.0,
        )

        def update() -> CommandRequest:
            params = CommandParams(stops=(StopVisit(near[3]),), order_command_id=drive_id())
            return CommandRequest(K.UPDATE, params, ttl_s=60.0)

        short = replace(hold, params=CommandParams(duration_s=5.0))
        return [[two, update, pause, resume, short], []]
    far = CommandRequest(K.DRIVE, CommandParams(stops=(StopVisit(near[6]),)), ttl_s=60.0)
    return [[far, pause, resume], [CommandRequest(K.CANCEL, ttl_s=60.0), depot]]


def town() -> RoadNetwork:
    return generate_city(CityParams(seed=3, size_km=3.0))


def waiting_fleet(
    city: RoadNetwork,
    mqtt: tuple[str, int, tuple[str, str] | None],
    manufacturer: str,
    vehicles: int,
    speedup: float,
    seed: int,
    registry: VehicleRegistry,
) -> FleetSimulator:
    """Simulated shuttles that wait for orders, registered with the platform."""
    host, port, login = mqtt
    sim = FleetSimulator(
        city,
        SimConfig(
            vehicles=vehicles,
            speedup=speedup,
            seed=seed,
            mqtt_host=host,
            mqtt_port=port,
            mqtt_login=login,
            manufacturer=manufacturer,
            state_interval_s=0.2,
            faults=False,
            # A small pack, so that charging to 80 % is over in seconds of wall time.
            vehicle=VehicleSpec(battery_kwh=15.0, initial_charge_pct=(50.0, 90.0)),
            # At this speed-up a roaming shuttle covers 280 m a second: no platform keeps
            # up with that. They wait for orders, as a dispatched fleet does.
            roam=False,
        ),
    )
    for serial in sim.vehicle_ids:
        registry.register(manufacturer, serial)
    return sim


async def play(
    progress: Callable[[str], None] = lambda line: None,
    parts: Callable[[RoadNetwork], Parts] = Embedded,
    manufacturer: str = "headway-sim",
) -> Day:
    city = town()
    router = CCHRouter(city)
    platform = parts(city)
    host, port, login = platform.mqtt()
    sim = waiting_fleet(
        city, (host, port, login), manufacturer, FLEET, SPEEDUP, 5, platform.registry
    )
    recorder = Recorder((host, port, login), manufacturer)
    rescue_stop = asyncio.Event()
    rescue: asyncio.Task[None] | None = None
    thresholds = gc.get_threshold()
    await platform.start()
    try:
        await recorder.start()
        # As the platform's processes do once started (entrypoints/runtime.py): here the
        # test session's own heap would otherwise be walked in every full collection,
        # stalling the event loop for seconds on a slow machine.
        settle_heap()
        await sim.start()
        progress("fleet connected")
        while platform.known_vehicles < FLEET:
            await asyncio.sleep(0.05)
        progress("fleet visible")
        await asyncio.sleep(1.0)
        sim.impair(TROUBLE)
        t0 = time.time()
        for serial in OFFLINE:
            sim.inject(serial, "connection_lost", OFFLINE_S * SPEEDUP)
        plans: dict[str, list[Plan]] = {}
        first_ids: dict[str, str] = {}
        for index, serial in enumerate(sim.vehicle_ids):
            vehicle = sim.model.vehicles[index]
            near = nearby_stops(city, vehicle.last_node, router.travel_times_from)
            plans[serial] = requests_for(
                serial, near, functools.partial(first_ids.__getitem__, serial)
            )
        ids: list[str] = []
        for wave in (0, 1):
            if wave:
                await asyncio.sleep(SECOND_WAVE_S)
            for step in range(PER_VEHICLE):
                for serial in sim.vehicle_ids:
                    todo = plans[serial][wave]
                    if step >= len(todo):
                        continue
                    item = todo[step]
                    request = item() if callable(item) else item
                    command, _ = await platform.commands.submit(serial, request, "scenario")
                    first_ids.setdefault(serial, command.id)
                    ids.append(command.id)
        progress(f"{len(ids)} commands submitted")
        await asyncio.sleep(KILL_AFTER_S)
        killed_at = time.time()
        task = platform.task("commander")
        assert task is not None
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        second = Commander(
            platform.command_store,
            platform.command_queue,
            platform.command_link,
            platform.log,
            platform.live,
            platform.translator,
            platform.dead_letters,
            platform.metrics,
            replace(platform.commander.config, name="commander-b"),
        )
        rescue = asyncio.create_task(second.run(rescue_stop))
        deadline = time.monotonic() + 150.0
        while True:
            commands = [await platform.command_store.get(i) for i in ids]
            if all(c is not None and c.final for c in commands):
                break
            if time.monotonic() > deadline:
                break
            progress(str(Counter(c.status.value for c in commands if c is not None)))
            await asyncio.sleep(0.2)
        transitions = platform.metrics.command_breaker_transitions
        return Day(
            commands=[c for c in commands if c is not None],
            applied={s: sim.applied(s) for s in sim.vehicle_ids},
            sent=recorder.messages(),
            offline_until=t0 + OFFLINE_S,
            killed_at=killed_at,
            stats={"a": platform.commander.stats, "b": second.stats},
            injected=dict(sim.stats.injected),
            breaker_transitions={
                state: transitions.labels(state)._value.get()
                for state in ("open", "half_open", "closed")
            },
            breaker_log=sorted(
                (at, name, v, state.value)
                for name, commander in (("a", platform.commander), ("b", second))
                for at, v, state in commander.breaker_log
            ),
            marks={"t0": t0, "end": time.time()},
        )
    finally:
        rescue_stop.set()
        if rescue is not None:
            await asyncio.gather(rescue, return_exceptions=True)
        await sim.stop()
        await recorder.stop()
        await platform.stop()
        gc.unfreeze()
        gc.set_threshold(*thresholds)
