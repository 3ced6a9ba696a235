"""The dispatcher loop: keeps the engine's picture of the fleet true and carries its
plans to the vehicles as commands.

Every tick it
1. reads the on-demand vehicles' live states; a vehicle with no trip in flight is
   offered to the engine where it stands (a vehicle with a trip in flight is committed
   to that trip's stop and is diverted only after it);
2. reads how the trips in flight are doing; a trip that is done moves its riders on
   (picked up, completed) in the engine and the ride records; one that failed puts its
   rides back to be planned again;
3. lets the engine re-optimise, send vehicles to charge and move idle ones toward demand;
4. sends each vehicle without a trip the first stop of its plan (the stops at one node
   together) as a command: drive with pick/drop actions, charge, or a drive to the stop
   nearest a rebalancing target.

One stop per command keeps every later stop open to re-planning: a VDA 5050 order's
released nodes cannot be taken back, so the dispatcher releases only what is decided.
The commander makes each command happen (retries, backoff, breaker) and the dispatcher
reads its outcome, never the vehicle's word directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from headway.domain.commands import Command, CommandKind, CommandParams, CommandStatus, StopVisit
from headway.domain.rides import RideStatus, can_move, move
from headway.domain.vehicles import VehicleState, VehicleStatus
from headway.optimizer.dispatch import (
    PlannedStop,
    RidePhase,
    RideStateError,
    StopKind,
    UnknownRideError,
    UnknownVehicleError,
    VehicleSnapshot,
)
from headway.optimizer.dispatch.restore import BookedRide, RestorableEngine
from headway.services.commands.errors import CommandError
from headway.services.commands.service import CommandRequest, CommandService
from headway.services.ports import LiveState, StaleRide
from headway.services.rides.service import RideService

log = logging.getLogger(__name__)

ISSUER = "dispatcher"
SOC_STEP = 0.01
REFRESH_S = 30.0
"""A vehicle standing still is told to the engine again this often (service seconds)."""
TRIP_TTL_S = 120.0
"""How long a trip command may wait to be acknowledged before it expires (and is re-planned)."""


@dataclass(frozen=True, slots=True)
class Trip:
    """A command in flight and the planned stops it carries."""

    command_id: str
    kind: CommandKind
    stops: tuple[PlannedStop, ...]


@dataclass
class DispatchStats:
    ticks: int = 0
    trips_sent: int = 0
    trips_done: int = 0
    trips_failed: int = 0
    picked_up: int = 0
    completed: int = 0
    last_tick_s: float = 0.0


class Dispatcher:
    def __init__(
        self,
        rides: RideService,
        commands: CommandService,
        live: LiveState,
        fleet: Callable[[], Sequence[str]],
        tick_s: float = 1.0,
        budget_s: float = 0.05,
        default_seats: int = 8,
        on_tick: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._rides = rides
        self._commands = commands
        self._live = live
        self._fleet = fleet
        self.tick_s = tick_s
        self._budget_s = budget_s
        self._default_seats = default_seats
        self._trips: dict[str, Trip] = {}
        self._charging: set[str] = set()
        self._known: set[str] = set()
        self._seen: dict[str, tuple[int, bool, float, float]] = {}
        """What each vehicle last told the engine: node, in service, charge, when."""
        self.stats = DispatchStats()
        self._on_tick = on_tick
        self.unplaced: list[BookedRide] = []
        """Rides taken back after a restart that could not be planned yet (their
        vehicle unknown so far, or none could take them): tried again every tick."""

    @property
    def trips(self) -> dict[str, Trip]:
        return dict(self._trips)

    @property
    def rides(self) -> RideService:
        return self._rides

    async def update_rides(
        self, ride_ids: Sequence[str], status: RideStatus, note: str, **changes: object
    ) -> None:
        """Move the ride records on (those that can still move there), retrying lost races."""
        await self._update(ride_ids, status, note, **changes)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            started = time.perf_counter()
            try:
                await self.tick()
            except Exception:  # one bad tick must not stop dispatching
                log.exception("dispatcher tick failed; trying again next tick")
            self.stats.last_tick_s = time.perf_counter() - started
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.tick_s)

    async def tick(self) -> None:
        rides, engine = self._rides, self._rides.engine
        await self.observe()
        outcomes = await self._outcomes()
        if self.unplaced:
            async with rides.lock:
                self.unplaced = self.restore(self.unplaced)
        for vehicle_id, command in outcomes:
            await self._finish(vehicle_id, command)
        async with rides.lock:
            now = rides.clocks.service()
            # On a worker thread, so the event loop (ingest, API) keeps going meanwhile;
            # the lock keeps every other use of the engine out until it is done.
            await asyncio.to_thread(engine.reoptimise, now, self._budget_s)
            plans = {v: engine.plan(v) for v in engine.vehicles() if v not in self._trips}
        for vehicle_id, plan in plans.items():
            if plan:
                await self._send(vehicle_id, plan)
        await self._expire_offers()
        self.stats.ticks += 1
        if self._on_tick is not None:
            await self._on_tick()

    async def observe(self) -> None:
        """Tell the engine where the fleet's vehicles are now (those without a trip in
        flight) and forget the vehicles that left the fleet."""
        rides = self._rides
        ids = list(self._fleet())
        states = await self._live.get_many(ids)
        async with rides.lock:
            now = rides.clocks.service()
            for vehicle_id, state in zip(ids, states, strict=True):
                if state is not None:
                    self._observe(vehicle_id, state, now)
            for vehicle_id in list(self._known - set(ids)):
                self._forget(vehicle_id, now)

    def adopt(self, vehicle_id: str, trip: Trip) -> None:
        """Follow a trip sent before this dispatcher started (recovery after a restart)."""
        self._trips[vehicle_id] = trip

    def restore(self, booked: Sequence[BookedRide]) -> list[BookedRide]:
        """Plan rides of a predecessor again (call with the ride lock held); returns
        those that cannot be planned yet."""
        engine = self._rides.engine
        if not isinstance(engine, RestorableEngine):
            raise TypeError("restoring rides needs a RestorableEngine")
        now = self._rides.clocks.service()
        return [b for b in booked if engine.restore(b, now) is None]

    def board(self) -> dict[str, tuple[str, float, float]]:
        """Ride id -> (vehicle, pickup ETA, drop-off ETA, wall clock) of every open
        ride the engine plans; call with the ride lock held."""
        engine, to_wall = self._rides.engine, self._rides.clocks.to_wall
        out: dict[str, tuple[str, float, float]] = {}
        for ride_id in self._rides.stops:
            try:
                view = engine.ride(ride_id)
            except UnknownRideError:
                continue
            if view.vehicle_id:
                pick = to_wall(view.pickup_eta_s) if view.pickup_eta_s else 0.0
                drop = to_wall(view.dropoff_eta_s) if view.dropoff_eta_s else 0.0
                out[ride_id] = (view.vehicle_id, pick, drop)
        return out

    # reading the fleet -------------------------------------------------------------

    def _observe(self, vehicle_id: str, state: VehicleState, now: float) -> None:
        engine = self._rides.engine
        usable = state.status not in (VehicleStatus.OFFLINE, VehicleStatus.FAULT)
        if vehicle_id in self._charging:
            if state.charging:
                return
            self._charging.discard(vehicle_id)
            with contextlib.suppress(UnknownVehicleError):
                engine.charged(vehicle_id, state.battery_pct / 100.0, now)
        if vehicle_id in self._trips:
            return
        node = self._node_of(state)
        if node is None:
            return
        soc = max(0.0, min(1.0, state.battery_pct / 100.0))
        seen = self._seen.get(vehicle_id)
        if (
            seen is not None
            and seen[0] == node
            and seen[1] == usable
            and abs(seen[2] - soc) < SOC_STEP
            and now - seen[3] < REFRESH_S
        ):
            return  # nothing the engine plans on has changed
        self._seen[vehicle_id] = (node, usable, soc, now)
        engine.set_vehicle(
            VehicleSnapshot(
                id=vehicle_id,
                node=node,
                ready_s=now,
                seats=state.capacity or self._default_seats,
                soc=soc,
                in_service=usable,
            )
        )
        self._known.add(vehicle_id)

    def _forget(self, vehicle_id: str, now: float) -> None:
        self._known.discard(vehicle_id)
        self._seen.pop(vehicle_id, None)
        self._trips.pop(vehicle_id, None)
        with contextlib.suppress(UnknownVehicleError):
            self._rides.engine.remove_vehicle(vehicle_id, now)

    def _node_of(self, state: VehicleState) -> int | None:
        network = self._rides.places.network
        text = state.last_node_id
        if text.startswith("n") and text[1:].isdigit() and int(text[1:]) < network.n_nodes:
            return int(text[1:])
        if state.map_id and state.map_id != network.frame.map_id:
            return None
        return int(network.nearest_road_node(state.x, state.y))

    # trips -------------------------------------------------------------------------

    async def _outcomes(self) -> list[tuple[str, Command]]:
        ended: list[tuple[str, Command]] = []
        for vehicle_id, trip in list(self._trips.items()):
            command = await self._commands.get(trip.command_id)
            if command is None or command.final:
                ended.append((vehicle_id, command or _lost(trip)))
        return ended

    async def _finish(self, vehicle_id: str, command: Command) -> None:
        trip = self._trips.pop(vehicle_id, None)
        if trip is None:
            return
        rides = self._rides
        engine = rides.engine
        if command.status is not CommandStatus.DONE:
            self.stats.trips_failed += 1
            rides.metrics.dispatch_commands.labels(command.status.value).inc()
            for stop in trip.stops:
                if stop.kind is StopKind.PICK:
                    await self._update(stop.ride_ids, RideStatus.ACCEPTED, "trip " + command.status)
            return
        self.stats.trips_done += 1
        rides.metrics.dispatch_commands.labels("done").inc()
        picked: list[str] = []
        dropped: list[str] = []
        async with rides.lock:
            now = rides.clocks.service()
            for stop in trip.stops:
                for ride_id in stop.ride_ids:
                    try:
                        if stop.kind is StopKind.PICK:
                            engine.picked_up(ride_id, now)
                            picked.append(ride_id)
                        elif stop.kind is StopKind.DROP:
                            engine.dropped_off(ride_id, now)
                            dropped.append(ride_id)
                    except (RideStateError, UnknownRideError) as exc:
                        log.info("ride %s: %s", ride_id, exc)
            for ride_id in dropped:
                rides.forget(ride_id)
            last = trip.stops[-1]
            if last.node >= 0:
                with contextlib.suppress(UnknownVehicleError):
                    engine.arrived(vehicle_id, last.node, now)
            self._seen.pop(vehicle_id, None)
            if last.kind is StopKind.CHARGE:
                self._charging.add(vehicle_id)
        self.stats.picked_up += len(picked)
        self.stats.completed += len(dropped)
        await self._update(tuple(picked), RideStatus.PICKED_UP, "")
        await self._update(tuple(dropped), RideStatus.COMPLETED, "")

    async def _send(self, vehicle_id: str, plan: tuple[PlannedStop, ...]) -> None:
        first = plan[0]
        where = self._stop_id(first)
        stops = [first]
        if first.kind in (StopKind.PICK, StopKind.DROP):
            stops = []
            for stop in plan:
                if stop.kind not in (StopKind.PICK, StopKind.DROP) or self._stop_id(stop) != where:
                    break
                if not self._offered(stop):
                    stops.append(stop)
            if not stops:
                # Only offers waiting for an answer here: the vehicle waits where it is
                # rather than fetch a rider who may say no (at most the offer's lifetime).
                return
        request = self._request(tuple(stops), where)
        try:
            command, _ = await self._commands.submit(vehicle_id, request, ISSUER)
        except CommandError as exc:
            self.stats.trips_failed += 1
            self._rides.metrics.dispatch_commands.labels("refused").inc()
            log.warning("vehicle %s: could not send its next stop: %s", vehicle_id, exc)
            return
        self._trips[vehicle_id] = Trip(command.id, command.kind, tuple(stops))
        self.stats.trips_sent += 1
        self._rides.metrics.dispatch_commands.labels("sent").inc()
        picks = tuple(r for s in stops if s.kind is StopKind.PICK for r in s.ride_ids)
        await self._update(picks, RideStatus.ASSIGNED, command.id, vehicle_id=vehicle_id)

    def _offered(self, stop: PlannedStop) -> bool:
        """A pickup of a ride offered but not yet accepted."""
        if stop.kind is not StopKind.PICK:
            return False
        try:
            return all(self._rides.engine.ride(r).phase is RidePhase.OFFERED for r in stop.ride_ids)
        except UnknownRideError:
            return True

    def _stop_id(self, stop: PlannedStop) -> str:
        """The stop a planned stop is served at: the rider's own for pickups and drop-offs."""
        if stop.ride_ids and stop.kind in (StopKind.PICK, StopKind.DROP):
            known = self._rides.stops.get(stop.ride_ids[0])
            if known is not None:
                return known[0] if stop.kind is StopKind.PICK else known[1]
        return self._rides.places.stop_near(stop.node).id

    def _request(self, stops: tuple[PlannedStop, ...], stop_id: str) -> CommandRequest:
        network = self._rides.places.network
        first = stops[0]
        if first.kind is StopKind.CHARGE:
            charger = next((c for c in network.chargers if int(c.node) == first.node), None)
            target = 100.0 * self._rides.engine.config.charge_target_soc
            return CommandRequest(
                CommandKind.CHARGE,
                CommandParams(place_id=charger.id if charger else "", target_pct=target),
                TRIP_TTL_S,
            )
        if first.kind is StopKind.DEPOT:
            depot = next((d for d in network.depots if int(d.node) == first.node), None)
            return CommandRequest(
                CommandKind.RETURN_TO_DEPOT,
                CommandParams(place_id=depot.id if depot else ""),
                TRIP_TTL_S,
            )
        kinds = {s.kind for s in stops}
        actions: tuple[str, ...]
        if first.kind is StopKind.REBALANCE:
            actions = ("doorClose",)
        else:
            middle = [k for k in ("drop", "pick") if StopKind(k) in kinds]
            actions = ("doorOpen", *middle, "doorClose")
        return CommandRequest(
            CommandKind.DRIVE, CommandParams(stops=(StopVisit(stop_id, actions),)), TRIP_TTL_S
        )

    # ride records ------------------------------------------------------------------

    async def _update(
        self, ride_ids: Sequence[str], status: RideStatus, note: str, **changes: object
    ) -> None:
        store = self._rides.store
        wall = self._rides.clocks.wall()
        for ride_id in ride_ids:
            for _ in range(3):
                ride = await store.get(ride_id)
                if ride is None or ride.status is status or not can_move(ride.status, status):
                    break
                extra = dict(changes)
                if status is RideStatus.PICKED_UP:
                    extra["picked_up_at"] = wall
                elif status is RideStatus.COMPLETED:
                    extra["completed_at"] = wall
                try:
                    await store.save(move(ride, status, wall, note, **extra))
                    self._rides.metrics.rides.labels(status.value).inc()
                    break
                except StaleRide:
                    continue

    async def _expire_offers(self) -> None:
        """End the offers past their time: only those are read from the store."""
        rides = self._rides
        wall = rides.clocks.wall()
        for ride_id in [r for r, t in rides.offers.items() if t < wall]:
            ride = await rides.store.get(ride_id)
            if ride is not None and ride.status is RideStatus.OFFERED:
                with contextlib.suppress(StaleRide):
                    await rides.expire(ride)
            rides.offers.pop(ride_id, None)


def _lost(trip: Trip) -> Command:
    """A stand-in for a command the store no longer has: treated as failed."""
    now = time.time()
    return Command(
        id=trip.command_id,
        vehicle_id="",
        manufacturer="",
        kind=trip.kind,
        params=CommandParams(),
        status=CommandStatus.FAILED,
        created_at=now,
        expires_at=now,
        updated_at=now,
        reason="the command record is gone",
    )
