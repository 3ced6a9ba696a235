"""A commander wired to in-memory adapters and a fake fleet that answers like VDA 5050
vehicles (through the event log, as the bridge would), for fast commander tests."""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from headway.adapters.memory.command_queue import MemoryCommandQueue
from headway.adapters.memory.command_store import MemoryCommandStore
from headway.adapters.memory.dead_letters import MemoryDeadLetters
from headway.adapters.memory.event_log import MemoryEventLog
from headway.adapters.memory.live_state import MemoryLiveState
from headway.adapters.memory.registry import MemoryVehicleRegistry
from headway.contracts.events import (
    TELEMETRY_TOPIC,
    ActionProgress,
    Progress,
    Telemetry,
    event_encoder,
)
from headway.domain.commands import Command
from headway.domain.vehicles import VehicleState, VehicleStatus
from headway.network.cch_router import CCHRouter
from headway.network.graph import RoadNetwork
from headway.services.commands.breaker import BreakerPolicy
from headway.services.commands.commander import Commander, CommanderConfig
from headway.services.commands.scheduling import RetryPolicy
from headway.services.commands.service import CommandRequest, CommandService
from headway.services.commands.translate import Translator
from headway.services.metrics import Metrics
from headway.services.ports import LinkDown

FAST = CommanderConfig(
    name="commander-a",
    retry=RetryPolicy(ack_timeout_s=0.05, max_delay_s=0.2, ack_grace_s=0.2),
    breaker=BreakerPolicy(threshold=3, cooldown_s=0.2, max_cooldown_s=0.4),
    take_block_s=0.01,
    recheck_s=0.05,
    reclaim_every_s=0.05,
    reclaim_idle_s=0.3,
    touch_every_s=0.1,
    seed=1,
)


@dataclass
class FakeVehicle:
    order_id: str = ""
    update_id: int = 0
    actions: dict[str, str] = field(default_factory=dict)
    applied: list[str] = field(default_factory=list)


class FakeFleet:
    """A CommandLink whose vehicles take every message at once and report back."""

    def __init__(self, log: MemoryEventLog) -> None:
        self._log = log
        self.up = True
        self.silent: set[str] = set()
        self.slow: dict[str, float] = {}
        """Vehicles that take and answer each message this many seconds late."""
        self.vehicles: dict[str, FakeVehicle] = defaultdict(FakeVehicle)
        self.received: list[tuple[str, str, dict[str, Any]]] = []
        self.on_receive: Callable[[str, str, dict[str, Any]], None] | None = None

    async def send(self, manufacturer: str, serial: str, message: str, payload: bytes) -> None:
        if not self.up:
            raise LinkDown("fake link down")
        if serial in self.silent:
            return
        if serial in self.slow:
            asyncio.get_running_loop().call_later(
                self.slow[serial], self._take, serial, message, payload
            )
            return
        self._take(serial, message, payload)

    def _take(self, serial: str, message: str, payload: bytes) -> None:
        body = json.loads(payload)
        self.received.append((serial, message, body))
        if self.on_receive is not None:
            self.on_receive(serial, message, body)
        vehicle = self.vehicles[serial]
        if message == "order":
            key = (body["orderId"], body["orderUpdateId"])
            if key != (vehicle.order_id, vehicle.update_id) or not vehicle.order_id:
                vehicle.applied.append(f"order:{key[0]}:{key[1]}")
                vehicle.order_id, vehicle.update_id = key
                for node in body["nodes"]:
                    for action in node["actions"]:
                        vehicle.actions[action["actionId"]] = "FINISHED"
        else:
            for action in body["actions"]:
                if action["actionId"] not in vehicle.actions:
                    vehicle.applied.append(f"action:{action['actionId']}")
                    vehicle.actions[action["actionId"]] = "FINISHED"
        self.report(serial)

    def report(self, serial: str) -> None:
        vehicle = self.vehicles[serial]
        now = time.time()
        event = Telemetry(
            vehicle_id=serial,
            manufacturer="acme",
            ts=now,
            received_at=now,
            x=0.0,
            y=0.0,
            theta=0.0,
            map_id="m",
            full=True,
            order_id=vehicle.order_id,
            progress=Progress(
                order_update_id=vehicle.update_id,
                actions=tuple(ActionProgress(k, v) for k, v in vehicle.actions.items()),
            ),
        )
        self._log.produce(TELEMETRY_TOPIC, serial, event_encoder.encode(event))


class FreshLiveState(MemoryLiveState):
    """Live state whose vehicles count as just seen (no processor in these tests)."""

    async def get(self, vehicle_id: str) -> VehicleState | None:
        state = await super().get(vehicle_id)
        return None if state is None else replace(state, last_seen=time.time())


class Rig:
    """Store, queue, log and fake fleet shared by the commanders a test starts."""

    def __init__(self, town: RoadNetwork, router: CCHRouter, vehicles: int = 3) -> None:
        self.town = town
        self.store = MemoryCommandStore()
        self.queue = MemoryCommandQueue()
        self.log = MemoryEventLog()
        self.live = FreshLiveState()
        self.registry = MemoryVehicleRegistry()
        self.dead = MemoryDeadLetters()
        self.metrics = Metrics()
        self.fleet = FakeFleet(self.log)
        self.translator = Translator(town, router)
        self.service = CommandService(
            self.store, self.queue, self.live, self.registry, self.translator, self.metrics
        )
        self.serials = [f"v{k + 1}" for k in range(vehicles)]
        self._tasks: list[tuple[asyncio.Task[None], asyncio.Event]] = []

    async def setup(self) -> None:
        node = int(self.town.stops[0].node)
        x, y = (float(v) for v in self.town.node_xy[node])
        states = []
        for serial in self.serials:
            self.registry.register("acme", serial)
            states.append(
                VehicleState(
                    id=serial,
                    manufacturer="acme",
                    ts=1.0,
                    last_seen=1.0,
                    x=x,
                    y=y,
                    lat=0.0,
                    lon=0.0,
                    heading_rad=0.0,
                    speed_mps=0.0,
                    battery_pct=80.0,
                    charging=False,
                    driving=False,
                    status=VehicleStatus.IDLE,
                    last_node_id=f"n{node}",
                )
            )
        await self.live.put_many(states)

    def commander(self, config: CommanderConfig = FAST) -> tuple[Commander, asyncio.Task[None]]:
        commander = Commander(
            self.store,
            self.queue,
            self.fleet,
            self.log,
            self.live,
            self.translator,
            self.dead,
            self.metrics,
            config,
        )
        stop = asyncio.Event()
        task = asyncio.create_task(commander.run(stop))
        self._tasks.append((task, stop))
        return commander, task

    async def submit(self, serial: str, request: CommandRequest) -> Command:
        command, _ = await self.service.submit(serial, request, "ops")
        return command

    async def settle(self, ids: list[str], timeout_s: float = 10.0) -> list[Command]:
        """Wait until every command has ended; returns them."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            found = [await self.store.get(i) for i in ids]
            commands = [c for c in found if c is not None]
            if all(c.final for c in commands):
                return commands
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(
                    "not ended: " + ", ".join(f"{c.id} {c.status}" for c in commands if not c.final)
                )
            await asyncio.sleep(0.02)

    async def close(self) -> None:
        for task, stop in self._tasks:
            stop.set()
            if not task.done():
                await asyncio.wait_for(task, 5.0)
