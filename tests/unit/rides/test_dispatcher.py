"""The ride service and the dispatcher loop with the real engine on the synthetic city,
and a command service that records what it is asked and ends commands as told."""

from __future__ import annotations

import itertools
from dataclasses import replace
from functools import cache

import pytest

from headway.adapters.memory.live_state import MemoryLiveState
from headway.adapters.memory.ride_store import MemoryRideStore
from headway.domain.commands import Command, CommandKind, CommandStatus
from headway.domain.rides import RideStatus
from headway.domain.vehicles import VehicleState, VehicleStatus
from headway.network.cch_router import CCHRouter
from headway.network.city import CityParams, generate_city
from headway.network.graph import RoadNetwork
from headway.optimizer.dispatch import DispatchEngine, RouterTravelTimes
from headway.services.commands.service import CommandRequest
from headway.services.metrics import Metrics
from headway.services.rides.dispatcher import Dispatcher
from headway.services.rides.errors import RideConflict, RideNotFound
from headway.services.rides.places import StopFinder
from headway.services.rides.service import Clocks, RideService


@cache
def city() -> tuple[RoadNetwork, CCHRouter]:
    network = generate_city(CityParams(seed=3))
    return network, CCHRouter(network)


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


class FakeCommands:
    """Stores what the dispatcher submits; the test ends commands with ``finish``."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.commands: dict[str, Command] = {}
        self._ids = itertools.count(1)

    async def submit(
        self, vehicle_id: str, request: CommandRequest, issued_by: str = "", key: str | None = None
    ) -> tuple[Command, bool]:
        now = self.clock()
        command = Command(
            id=f"c{next(self._ids):04d}",
            vehicle_id=vehicle_id,
            manufacturer="sim",
            kind=request.kind,
            params=request.params,
            status=CommandStatus.SENT,
            created_at=now,
            expires_at=now + 60,
            updated_at=now,
            issued_by=issued_by,
        )
        self.commands[command.id] = command
        return command, True

    async def get(self, command_id: str) -> Command | None:
        return self.commands.get(command_id)

    def open(self, vehicle_id: str = "v1") -> list[Command]:
        return [c for c in self.commands.values() if not c.final and c.vehicle_id == vehicle_id]

    def finish(self, command: Command, status: CommandStatus = CommandStatus.DONE) -> None:
        self.commands[command.id] = replace(command, status=status)


class World:
    def __init__(self) -> None:
        network, router = city()
        self.network = network
        self.clock = Clock()
        travel = RouterTravelTimes(router)
        self.store = MemoryRideStore()
        self.rides = RideService(
            DispatchEngine(travel, network),
            travel,
            self.store,
            StopFinder(network),
            Metrics(),
            Clocks(wall=self.clock),
        )
        self.live = MemoryLiveState()
        self.commands = FakeCommands(self.clock)
        self.fleet = ["v1", "v2"]
        self.dispatcher = Dispatcher(
            self.rides,
            self.commands,  # type: ignore[arg-type]
            self.live,
            lambda: self.fleet,
        )

    async def park(self, vehicle_id: str, stop_index: int, battery: float = 90.0) -> None:
        stop = self.network.stops[stop_index]
        lat, lon = self.network.frame.to_wgs84(stop.x, stop.y)
        now = self.clock()
        await self.live.put_many(
            [
                VehicleState(
                    id=vehicle_id,
                    manufacturer="sim",
                    ts=now,
                    last_seen=now,
                    x=stop.x,
                    y=stop.y,
                    lat=lat,
                    lon=lon,
                    heading_rad=0.0,
                    speed_mps=0.0,
                    battery_pct=battery,
                    charging=False,
                    driving=False,
                    status=VehicleStatus.IDLE,
                    capacity=8,
                    last_node_id=f"n{int(stop.node)}",
                )
            ]
        )

    def point(self, stop_index: int) -> tuple[float, float]:
        stop = self.network.stops[stop_index]
        return self.network.frame.to_wgs84(stop.x, stop.y)


@pytest.fixture
async def world() -> World:
    w = World()
    await w.park("v1", 10)
    await w.park("v2", 400)
    await w.dispatcher.tick()  # the engine learns the fleet
    return w


async def test_a_booked_ride_is_driven_stop_by_stop_to_its_end(world: World) -> None:
    ride = await world.rides.request("ann", world.point(12), world.point(60), seats=2)
    assert ride.status is RideStatus.OFFERED
    await world.rides.accept("ann", ride.id)
    await world.dispatcher.tick()
    [pickup] = world.commands.open()
    assert pickup.kind is CommandKind.DRIVE
    assert pickup.vehicle_id == ride.vehicle_id == "v1"  # the nearer vehicle
    visit = pickup.params.stops[0]
    assert visit.stop_id == ride.origin.stop_id
    assert visit.actions == ("doorOpen", "pick", "doorClose")
    assert (await world.store.get(ride.id)).status is RideStatus.ASSIGNED  # type: ignore[union-attr]

    world.clock.now += 120
    world.commands.finish(pickup)
    await world.dispatcher.tick()
    assert (await world.store.get(ride.id)).status is RideStatus.PICKED_UP  # type: ignore[union-attr]
    [dropoff] = world.commands.open()
    assert dropoff.params.stops[0].stop_id == ride.destination.stop_id
    assert dropoff.params.stops[0].actions == ("doorOpen", "drop", "doorClose")

    world.clock.now += 400
    world.commands.finish(dropoff)
    await world.dispatcher.tick()
    done = await world.store.get(ride.id)
    assert done is not None
    assert done.status is RideStatus.COMPLETED
    assert [t.status for t in done.history] == [
        RideStatus.OFFERED,
        RideStatus.ACCEPTED,
        RideStatus.ASSIGNED,
        RideStatus.PICKED_UP,
        RideStatus.COMPLETED,
    ]
    assert done.picked_up_at < done.completed_at
    assert world.dispatcher.stats.completed == 1


async def test_a_failed_trip_puts_the_ride_back_and_sends_it_again(world: World) -> None:
    ride = await world.rides.request("ann", world.point(12), world.point(60), seats=1)
    await world.rides.accept("ann", ride.id)
    await world.dispatcher.tick()
    [first] = world.commands.open()
    world.commands.finish(first, CommandStatus.EXPIRED)
    await world.dispatcher.tick()
    stored = await world.store.get(ride.id)
    assert stored is not None
    statuses = [t.status for t in stored.history]
    assert statuses[-3:] == [RideStatus.ASSIGNED, RideStatus.ACCEPTED, RideStatus.ASSIGNED]
    [again] = world.commands.open()
    assert again.id != first.id
    assert again.params.stops[0].stop_id == ride.origin.stop_id
    assert world.dispatcher.stats.trips_failed == 1


async def test_an_offer_not_accepted_in_time_expires(world: World) -> None:
    ride = await world.rides.request("ann", world.point(12), world.point(60), seats=1)
    world.clock.now = ride.offer_expires_at + 1
    await world.dispatcher.tick()
    stored = await world.store.get(ride.id)
    assert stored is not None
    assert stored.status is RideStatus.EXPIRED
    assert world.commands.open() == []
    with pytest.raises(RideConflict):
        await world.rides.accept("ann", ride.id)


async def test_cancelling_before_pickup_frees_the_vehicle(world: World) -> None:
    ride = await world.rides.request("ann", world.point(12), world.point(60), seats=1)
    await world.rides.accept("ann", ride.id)
    with pytest.raises(RideNotFound):
        await world.rides.cancel("bob", ride.id)
    cancelled = await world.rides.cancel("ann", ride.id)
    assert cancelled.status is RideStatus.CANCELLED
    assert world.rides.engine.plan("v1") == ()
    await world.dispatcher.tick()
    assert world.commands.open() == []
    with pytest.raises(RideConflict):
        await world.rides.cancel("ann", ride.id)


async def test_refusals_carry_their_reasons(world: World) -> None:
    far = await world.rides.request("ann", (0.0, 0.0), world.point(60), seats=1)
    assert (far.status, far.reason) == (RideStatus.REFUSED, "outside_service_area")
    same = await world.rides.request("ann", world.point(60), world.point(60), seats=1)
    assert (same.status, same.reason) == (RideStatus.REFUSED, "unroutable")
    big = await world.rides.request("ann", world.point(12), world.point(60), seats=9)
    assert (big.status, big.reason) == (RideStatus.REFUSED, "capacity")
    assert [r.id for r in await world.rides.mine("ann")] == [big.id, same.id, far.id]


async def test_a_vehicle_that_leaves_the_fleet_is_forgotten(world: World) -> None:
    world.fleet = ["v1"]
    await world.dispatcher.tick()
    assert world.rides.engine.vehicles() == ("v1",)


async def test_no_vehicle_is_sent_for_an_offer_until_it_is_accepted(world: World) -> None:
    ride = await world.rides.request("ann", world.point(12), world.point(60), seats=1)
    await world.dispatcher.tick()
    assert world.commands.open() == []
    await world.rides.accept("ann", ride.id)
    await world.dispatcher.tick()
    [pickup] = world.commands.open()
    assert pickup.params.stops[0].stop_id == ride.origin.stop_id
    stored = await world.store.get(ride.id)
    assert stored is not None
    assert stored.status is RideStatus.ASSIGNED


async def test_ended_rides_are_forgotten_by_the_engine(world: World) -> None:
    declined = await world.rides.request("ann", world.point(12), world.point(60), seats=1)
    await world.rides.decline("ann", declined.id)
    with pytest.raises(KeyError):
        world.rides.engine.ride(declined.id)
    assert declined.id not in world.rides.stops
    assert declined.origin.stop_lat != 0.0
