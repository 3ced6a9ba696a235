"""``headway run dispatcher`` on the stack, killed with SIGKILL while it serves booked
rides, and another started in its place: every acknowledged ride is still there and
still served, and nothing is planned or sent twice.

A second dispatcher stands by meanwhile and takes over when the first is killed (a
passenger's call while none serves is a 503: ``test_stack_rides.py``). Passengers' calls
go through the API's ``RedisRideDesk``; the vehicles' live states
are written to Redis as the processors would; the test plays the commander, ending the
dispatcher's commands in PostgreSQL as a vehicle would have carried them out (and
moving the vehicle there), so the dispatcher's whole loop runs without a fleet.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from headway.adapters.postgres.commands import PostgresCommandStore
from headway.adapters.postgres.registry import PostgresVehicleRegistry
from headway.adapters.postgres.rides import PostgresRideStore
from headway.adapters.redis_live_state import RedisLiveState
from headway.adapters.redis_ride_desk import RedisRideDesk
from headway.domain.commands import Command, CommandStatus, transition
from headway.domain.rides import Ride, RideStatus
from headway.domain.vehicles import VehicleState, VehicleStatus
from headway.entrypoints.demo import load_network
from headway.network.graph import RoadNetwork
from tests.integration.commands_stack import schema_url
from tests.integration.conftest import ROOT, Stack

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SEED = 7
MANUFACTURER = "sim"


class Dispatchers:
    """``headway run dispatcher`` subprocesses under one test's names."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.running: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str) -> None:
        with (self.logs / f"{name}.log").open("wb") as out:
            self.running[name] = subprocess.Popen(
                [sys.executable, "-m", "headway.entrypoints.cli", "run", "dispatcher"],
                env=dict(self.env, HEADWAY_INSTANCE=name),
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text()

    async def wait_for(self, name: str, text: str, timeout_s: float = 120.0) -> None:
        deadline = time.monotonic() + timeout_s
        while text not in self.log(name):
            code = self.running[name].poll()
            assert code is None, f"{name} exited with {code}:\n{self.log(name)[-3000:]}"
            assert time.monotonic() < deadline, f"{name}: no {text!r}:\n{self.log(name)[-3000:]}"
            await asyncio.sleep(0.1)

    def stop_all(self) -> dict[str, int]:
        for process in self.running.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        codes = {}
        for name, process in self.running.items():
            try:
                codes[name] = process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                codes[name] = process.wait()
        return codes


@dataclass
class Town:
    network: RoadNetwork
    live: RedisLiveState
    rides: PostgresRideStore
    commands: PostgresCommandStore
    desk: RedisRideDesk

    def point(self, stop_index: int) -> tuple[float, float]:
        stop = self.network.stops[stop_index]
        return self.network.frame.to_wgs84(stop.x, stop.y)

    async def park(self, vehicle_id: str, stop_id: str) -> None:
        """The vehicle's live state at a stop, as the processors would write it."""
        stop = next(s for s in self.network.stops if s.id == stop_id)
        lat, lon = self.network.frame.to_wgs84(stop.x, stop.y)
        now = time.time()
        state = VehicleState(
            id=vehicle_id,
            manufacturer=MANUFACTURER,
            ts=now,
            last_seen=now,
            x=stop.x,
            y=stop.y,
            lat=lat,
            lon=lon,
            heading_rad=0.0,
            speed_mps=0.0,
            battery_pct=90.0,
            charging=False,
            driving=False,
            status=VehicleStatus.IDLE,
            capacity=8,
            last_node_id=f"n{int(stop.node)}",
            map_id=self.network.frame.map_id,
        )
        await self.live.put_many([state])

    async def until(
        self, what: str, check: Callable[[], Awaitable[bool]], timeout_s: float = 30.0
    ) -> None:
        deadline = time.monotonic() + timeout_s
        while not await check():
            assert time.monotonic() < deadline, f"timed out waiting until {what}"
            await asyncio.sleep(0.1)

    async def ride(self, ride_id: str) -> Ride:
        ride = await self.rides.get(ride_id)
        assert ride is not None
        return ride

    async def status_is(self, ride_id: str, status: RideStatus) -> None:
        async def check() -> bool:
            return (await self.ride(ride_id)).status is status

        await self.until(f"ride {ride_id} is {status}", check)

    async def open_commands(self) -> list[Command]:
        found = await self.commands.open_for_vehicles(["v1", "v2"])
        return sorted((c for cs in found.values() for c in cs), key=lambda c: c.id)

    async def carry_out(self, command: Command) -> None:
        """What a vehicle and the commander would do: the vehicle drives to the stop,
        and the command is done."""
        await self.park(command.vehicle_id, command.params.stops[0].stop_id)
        now = time.time()
        done = transition(transition(command, CommandStatus.SENT, now), CommandStatus.DONE, now)
        await self.commands.save(done)


@pytest.fixture
async def town(
    stack: Stack, unique: str, tmp_path: Path
) -> AsyncIterator[tuple[Town, Dispatchers]]:
    database_url = schema_url(stack.database_url)
    prefix = f"{unique}:"
    registry = PostgresVehicleRegistry(database_url)
    registry.register_many([(MANUFACTURER, "v1"), (MANUFACTURER, "v2")])
    network = load_network(SEED)
    rides = PostgresRideStore(database_url)
    commands = PostgresCommandStore(database_url)
    await rides.open()
    await commands.open()
    client = aioredis.from_url(stack.redis_url, socket_timeout=15)
    live = RedisLiveState(stack.redis_url, prefix=prefix)
    world = Town(network, live, rides, commands, RedisRideDesk(client, rides, prefix, 5.0))
    await world.park("v1", network.stops[10].id)
    await world.park("v2", network.stops[400].id)
    logs = tmp_path
    env = stack.headway_env(unique, HEADWAY_CITY_SEED=str(SEED))
    env["HEADWAY_DATABASE_URL"] = database_url
    dispatchers = Dispatchers(env, logs)
    try:
        yield world, dispatchers
    finally:
        codes = dispatchers.stop_all()
        await client.aclose()
        await live.close()
        await rides.close()
        await commands.close()
    assert all(code in (0, -signal.SIGKILL) for code in codes.values()), codes


async def test_a_killed_dispatcher_loses_no_ride_and_repeats_nothing(
    town: tuple[Town, Dispatchers],
) -> None:
    world, dispatchers = town
    dispatchers.start("dispatcher-1")
    await dispatchers.wait_for("dispatcher-1", "serving rides")
    ann, bob = f"ann-{uuid.uuid4().hex[:6]}", f"bob-{uuid.uuid4().hex[:6]}"

    # Booked and sent (a pickup command in flight), booked, and only offered.
    sent = await world.desk.request(ann, world.point(12), world.point(60), 2)
    assert (sent.status, sent.vehicle_id) == (RideStatus.OFFERED, "v1")
    await world.desk.accept(ann, sent.id)
    await world.status_is(sent.id, RideStatus.ASSIGNED)
    booked = await world.desk.request(bob, world.point(402), world.point(450), 1)
    await world.desk.accept(bob, booked.id)
    offered = await world.desk.request(bob, world.point(405), world.point(440), 1)
    assert offered.status is RideStatus.OFFERED
    await world.status_is(booked.id, RideStatus.ASSIGNED)
    before = await world.open_commands()
    assert sorted(c.vehicle_id for c in before) == ["v1", "v2"]
    pickup = next(c for c in before if c.vehicle_id == "v1")
    assert pickup.params.stops[0].stop_id == sent.origin.stop_id

    # A second instance stands by while the first holds the lead.
    dispatchers.start("dispatcher-2")
    await dispatchers.wait_for("dispatcher-2", "led by another instance; standing by")

    victim = dispatchers.running["dispatcher-1"]
    victim.send_signal(signal.SIGKILL)
    assert victim.wait(timeout=30) == -signal.SIGKILL

    await dispatchers.wait_for("dispatcher-2", "serving rides")  # it takes over
    assert "recovered 3 open rides, 2 trips in flight" in dispatchers.log("dispatcher-2")
    await asyncio.sleep(1.5)  # a few ticks of the new dispatcher
    assert await world.open_commands() == before  # nothing sent again
    assert (await world.ride(sent.id)).status is RideStatus.ASSIGNED
    shown = await world.desk.current(await world.ride(sent.id))
    assert shown.vehicle_id == "v1"
    assert shown.pickup_eta > 0

    # The offer made before the crash can still be accepted.
    accepted = await world.desk.accept(bob, offered.id)
    assert accepted.status is RideStatus.ACCEPTED

    # The ride is still served: the pickup done, the drop-off sent and done.
    await world.carry_out(pickup)
    await world.status_is(sent.id, RideStatus.PICKED_UP)

    async def dropoff_sent() -> bool:
        return any(c.id != pickup.id and c.vehicle_id == "v1" for c in await world.open_commands())

    await world.until("the drop-off is sent", dropoff_sent)
    dropoff = next(c for c in await world.open_commands() if c.vehicle_id == "v1")
    assert dropoff.params.stops[0].stop_id == sent.destination.stop_id
    assert dropoff.params.stops[0].actions == ("doorOpen", "drop", "doorClose")
    await world.carry_out(dropoff)
    await world.status_is(sent.id, RideStatus.COMPLETED)

    mine = {r.id: r for r in await world.desk.mine(ann)} | {
        r.id: r for r in await world.desk.mine(bob)
    }
    assert sorted(mine) == sorted([sent.id, booked.id, offered.id])  # none twice, none lost
    done = mine[sent.id]
    assert [t.status for t in done.history] == [
        RideStatus.OFFERED,
        RideStatus.ACCEPTED,
        RideStatus.ASSIGNED,
        RideStatus.PICKED_UP,
        RideStatus.COMPLETED,
    ]
    assert mine[booked.id].status is RideStatus.ASSIGNED
    assert mine[booked.id].vehicle_id == "v2"
