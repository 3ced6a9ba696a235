"""A dispatcher started over the ride and command records of one that died: its engine
and trips are rebuilt so that every booked ride is served as if nothing had happened,
and nothing is sent twice (in memory; the same on the stack's processes in
``tests/integration/test_stack_rides_process.py``)."""

from __future__ import annotations

from collections.abc import Sequence

from headway.domain.commands import Command, CommandStatus
from headway.domain.rides import RideStatus
from headway.optimizer.dispatch import RidePhase
from headway.optimizer.dispatch.restore import RestorableEngine
from headway.services.metrics import Metrics
from headway.services.rides.dispatcher import Dispatcher
from headway.services.rides.places import StopFinder
from headway.services.rides.recovery import recover
from headway.services.rides.service import Clocks, RideService
from tests.unit.rides.test_dispatcher import World


async def successor(world: World) -> Dispatcher:
    """A new dispatcher over ``world``'s records, live state and commands."""
    rides = RideService(
        RestorableEngine(world.rides.travel, world.network),
        world.rides.travel,
        world.store,
        StopFinder(world.network),
        Metrics(),
        Clocks(wall=world.clock),
    )
    dispatcher = Dispatcher(rides, world.commands, world.live, lambda: world.fleet)  # type: ignore[arg-type]

    async def open_commands(ids: Sequence[str]) -> dict[str, list[Command]]:
        return {v: world.commands.open(v) for v in ids}

    found = await recover(dispatcher, world.fleet, open_commands, world.commands.get)
    assert found.unplaced == 0
    return dispatcher


async def test_booked_rides_and_trips_in_flight_survive_a_restart() -> None:
    world = World()
    await world.park("v1", 10)
    await world.park("v2", 400)
    await world.dispatcher.tick()
    sent = await world.rides.request("ann", world.point(12), world.point(60), seats=2)
    await world.rides.accept("ann", sent.id)
    aboard = await world.rides.request("bob", world.point(402), world.point(450), seats=1)
    await world.rides.accept("bob", aboard.id)
    await world.dispatcher.tick()
    [pickup] = world.commands.open("v1")
    [bob_pickup] = world.commands.open("v2")
    world.clock.now += 60
    world.commands.finish(bob_pickup)
    await world.dispatcher.tick()
    [bob_dropoff] = world.commands.open("v2")
    offered = await world.rides.request("cat", world.point(405), world.point(440), seats=1)
    assert (await world.store.get(aboard.id)).status is RideStatus.PICKED_UP  # type: ignore[union-attr]

    # The dispatcher dies here; another starts over the same records.
    world.clock.now += 5
    after = await successor(world)
    engine = after.rides.engine
    assert {v: t.command_id for v, t in after.trips.items()} == {
        "v1": pickup.id,
        "v2": bob_dropoff.id,
    }
    assert engine.ride(sent.id).vehicle_id == "v1"
    assert engine.ride(aboard.id).phase is RidePhase.PICKED_UP
    assert engine.ride(aboard.id).vehicle_id == "v2"
    assert engine.ride(offered.id).phase is RidePhase.OFFERED
    await after.tick()
    assert [c.id for c in world.commands.commands.values() if not c.final] == [
        pickup.id,
        bob_dropoff.id,
    ]  # nothing sent twice
    accepted = await after.rides.accept("cat", offered.id)  # the offer stood
    assert accepted.status is RideStatus.ACCEPTED

    world.clock.now += 60
    world.commands.finish(pickup)
    world.commands.finish(bob_dropoff)
    await after.tick()
    assert (await world.store.get(sent.id)).status is RideStatus.PICKED_UP  # type: ignore[union-attr]
    assert (await world.store.get(aboard.id)).status is RideStatus.COMPLETED  # type: ignore[union-attr]
    [dropoff] = world.commands.open("v1")
    assert dropoff.params.stops[0].stop_id == sent.destination.stop_id


async def test_a_trip_that_failed_while_no_dispatcher_ran_is_planned_again() -> None:
    world = World()
    await world.park("v1", 10)
    await world.park("v2", 400)
    await world.dispatcher.tick()
    ride = await world.rides.request("ann", world.point(12), world.point(60), seats=1)
    await world.rides.accept("ann", ride.id)
    await world.dispatcher.tick()
    [pickup] = world.commands.open("v1")
    world.commands.finish(pickup, CommandStatus.EXPIRED)

    after = await successor(world)
    await after.tick()
    [again] = world.commands.open("v1")
    assert again.id != pickup.id
    assert again.params.stops[0].stop_id == ride.origin.stop_id
    stored = await world.store.get(ride.id)
    assert stored is not None
    assert [t.status for t in stored.history][-3:] == [
        RideStatus.ASSIGNED,
        RideStatus.ACCEPTED,
        RideStatus.ASSIGNED,
    ]


async def test_an_offer_that_ran_out_while_no_dispatcher_ran_expires() -> None:
    world = World()
    await world.park("v1", 10)
    await world.dispatcher.tick()
    ride = await world.rides.request("ann", world.point(12), world.point(60), seats=1)
    world.clock.now = ride.offer_expires_at + 1
    await successor(world)
    stored = await world.store.get(ride.id)
    assert stored is not None
    assert stored.status is RideStatus.EXPIRED
