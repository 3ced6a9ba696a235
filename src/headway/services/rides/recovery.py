"""A dispatcher starting where its predecessor stopped: the engine's plans rebuilt from
the open ride records, and the trips in flight from the command records.

The ride records are the truth about promises; the command records about what the
vehicles were sent. So after a crash:
- a rider on board goes back onto their vehicle, with the drop-off deadline promised;
- a ride whose pickup was sent (``assigned``; the history's note names the command) goes
  back onto that vehicle, and the command is followed as a trip in flight: when the
  commander reports it done the rider is picked up, when it failed the ride is planned
  again, as if the dispatcher had never stopped;
- the dispatcher's other commands still open (a drop-off, a charge, a depot run, a move
  toward demand) are followed too, so no vehicle is sent a second trip over its first;
- a booked ride not yet sent, and an offer not yet expired, are planned where they fit;
  an offer past its time expires.

Rides that cannot be planned yet (their vehicle has not been seen) are kept and tried
again every tick (``Dispatcher.unplaced``).
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from headway.domain.commands import Command, CommandKind
from headway.domain.rides import Ride, RideStatus
from headway.optimizer.dispatch import PlannedStop, RidePhase, RideRequest, StopKind
from headway.optimizer.dispatch.restore import BookedRide
from headway.services.ports import StaleRide
from headway.services.rides.dispatcher import ISSUER, Dispatcher, Trip

log = logging.getLogger(__name__)

OpenCommands = Callable[[Sequence[str]], Awaitable[dict[str, list[Command]]]]
"""The commands not yet ended of each of these vehicles (``CommandStore.open_for_vehicles``)."""
GetCommand = Callable[[str], Awaitable[Command | None]]


@dataclass(frozen=True, slots=True)
class Recovered:
    rides: int
    """Open rides read."""
    trips: int
    """Trips in flight followed again."""
    unplaced: int
    """Rides not planned yet (tried again every tick)."""
    expired: int
    """Offers that ran out while no dispatcher was running."""


async def recover(
    dispatcher: Dispatcher,
    fleet: Sequence[str],
    open_commands: OpenCommands,
    get_command: GetCommand,
) -> Recovered:
    """Rebuild ``dispatcher``'s engine and trips; call once, before its first tick."""
    rides = dispatcher.rides
    clocks = rides.clocks
    await dispatcher.observe()  # the engine learns where the vehicles are
    open_rides = await rides.store.open_rides()
    for ride in open_rides:
        rides.stops[ride.id] = (ride.origin.stop_id, ride.destination.stop_id)

    sent: dict[str, list[Ride]] = defaultdict(list)
    for ride in open_rides:
        if ride.status is RideStatus.ASSIGNED:
            sent[_sent_with(ride)].append(ride)
    commands: dict[str, Command] = {}
    for listed in (await open_commands(list(fleet))).values():
        for command in listed:
            if command.issued_by == ISSUER:
                commands[command.id] = command
    for command_id in sent:
        if command_id and command_id not in commands:
            found = await get_command(command_id)
            if found is not None:
                commands[command_id] = found
    # One trip per vehicle, its newest command; rides sent with an older one are planned
    # afresh (it cannot be carrying them any more).
    newest: dict[str, Command] = {}
    for command in sorted(commands.values(), key=lambda c: c.id):
        newest[command.vehicle_id] = command
    trips = {c.id for c in newest.values()}
    stranded = [r for cid, group in sent.items() if cid not in trips for r in group]
    await dispatcher.update_rides([r.id for r in stranded], RideStatus.ACCEPTED, "trip lost")

    booked: list[BookedRide] = []
    for ride in open_rides:
        if ride.status is RideStatus.PICKED_UP:
            booked.append(_booked(dispatcher, ride, RidePhase.PICKED_UP, ride.vehicle_id))
    for vehicle_id, command in newest.items():
        for ride in sent.get(command.id, []):
            booked.append(_booked(dispatcher, ride, RidePhase.ACCEPTED, vehicle_id))
    expired = 0
    stranded_ids = {r.id for r in stranded}
    for ride in open_rides:
        if ride.status is RideStatus.ACCEPTED or ride.id in stranded_ids:
            booked.append(_booked(dispatcher, ride, RidePhase.ACCEPTED, ""))
        elif ride.status is RideStatus.OFFERED:
            if ride.offer_expires_at and ride.offer_expires_at < clocks.wall():
                try:
                    await rides.expire(ride)
                    expired += 1
                except StaleRide:
                    pass
                continue
            booked.append(_booked(dispatcher, ride, RidePhase.OFFERED, ""))
            rides.offers[ride.id] = ride.offer_expires_at

    async with rides.lock:
        unplaced = dispatcher.restore(booked)
        now = clocks.service()
        for vehicle_id, command in newest.items():
            dispatcher.adopt(vehicle_id, _trip(dispatcher, command, open_rides, now))
    dispatcher.unplaced = unplaced
    outcome = Recovered(len(open_rides), len(newest), len(unplaced), expired)
    if unplaced:
        log.warning(
            "%d rides could not be planned yet (%s); trying again every tick",
            len(unplaced),
            ", ".join(b.request.id for b in unplaced[:10]),
        )
    return outcome


def _sent_with(ride: Ride) -> str:
    """The command that carries the ride's pickup: the note of its latest ``assigned``."""
    for step in reversed(ride.history):
        if step.status is RideStatus.ASSIGNED:
            return step.note
    return ""


def _booked(dispatcher: Dispatcher, ride: Ride, phase: RidePhase, vehicle_id: str) -> BookedRide:
    to_service = dispatcher.rides.clocks.to_service
    start, end = ride.pickup_window
    expires = ride.offer_expires_at if phase is RidePhase.OFFERED else math.inf
    return BookedRide(
        request=RideRequest(
            id=ride.id,
            origin=ride.origin.node,
            destination=ride.destination.node,
            earliest_pickup_s=to_service(ride.earliest_pickup),
            seats=ride.seats,
        ),
        phase=phase,
        window=(to_service(start), to_service(end)),
        dropoff_latest_s=to_service(ride.latest_dropoff),
        vehicle_id=vehicle_id,
        picked_up_s=to_service(ride.picked_up_at) if phase is RidePhase.PICKED_UP else None,
        offer_expires_s=to_service(expires) if math.isfinite(expires) else math.inf,
    )


def _trip(dispatcher: Dispatcher, command: Command, open_rides: list[Ride], now: float) -> Trip:
    """The trip ``command`` carries, in the planned stops the dispatcher sent it for."""
    places = dispatcher.rides.places
    network = places.network

    def stop(node: int, kind: StopKind, ride_ids: tuple[str, ...] = ()) -> PlannedStop:
        return PlannedStop(node, kind, ride_ids, now, (0.0, math.inf), now)

    params = command.params
    if command.kind is CommandKind.CHARGE:
        charger = next((c for c in network.chargers if c.id == params.place_id), None)
        node = int(charger.node) if charger else command_node(dispatcher, command)
        return Trip(command.id, command.kind, (stop(node, StopKind.CHARGE),))
    if command.kind is CommandKind.RETURN_TO_DEPOT:
        depot = next((d for d in network.depots if d.id == params.place_id), None)
        node = int(depot.node) if depot else command_node(dispatcher, command)
        return Trip(command.id, command.kind, (stop(node, StopKind.DEPOT),))
    node = command_node(dispatcher, command)
    visit = params.stops[0] if params.stops else None
    where = visit.stop_id if visit else ""
    stops: list[PlannedStop] = []
    if visit is not None and "drop" in visit.actions:
        drops = tuple(
            r.id
            for r in open_rides
            if r.status is RideStatus.PICKED_UP
            and r.vehicle_id == command.vehicle_id
            and r.destination.stop_id == where
        )
        stops += [stop(node, StopKind.DROP, (r,)) for r in drops]
    picks = tuple(
        r.id for r in open_rides if r.status is RideStatus.ASSIGNED and _sent_with(r) == command.id
    )
    stops += [stop(node, StopKind.PICK, (r,)) for r in picks]
    if not stops:  # a move toward demand, or riders already dealt with: the vehicle goes there
        stops.append(stop(node, StopKind.REBALANCE))
    return Trip(command.id, command.kind, tuple(stops))


def command_node(dispatcher: Dispatcher, command: Command) -> int:
    """The road node of the (first) stop a command sends its vehicle to."""
    network = dispatcher.rides.places.network
    if command.params.stops:
        wanted = command.params.stops[0].stop_id
        for candidate in network.stops:
            if candidate.id == wanted:
                return int(candidate.node)
    return -1
