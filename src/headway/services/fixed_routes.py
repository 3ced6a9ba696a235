"""The fixed-route service: blocks to vehicles, vehicles followed along their trips,
arrivals predicted at every stop, and holds sent to keep headways even.

One writer: ``step`` (called by ``run`` once a tick, or by a test) reads the vehicles'
live states, advances each vehicle's progress, decides holds, and publishes a new
immutable ``ArrivalBoard`` with a single assignment. Readers (the API) only ever see a
whole board, never one half updated (the updaters-and-snapshots pattern).

Driving the trips (``config.drive_trips``): each trip goes to its vehicle as a ``drive``
command released stop by stop between release points (``trip_orders``); ``step`` sends
a trip's order when it is due, and releases a vehicle standing at a release point once
its hold (if any) has been sent. Without it the service only follows vehicles that are
driven by something else, and holds them.

Predictions: the next stop from the road network's travel time when the stop and the
vehicle are on it (``router``), then the schedule's running times from there; without
a network, the schedule plus the vehicle's current delay. Never earlier than now.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import datetime as dt
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol
from zoneinfo import ZoneInfo

from headway.domain.commands import Command, CommandKind, CommandParams, CommandStatus
from headway.domain.errors import HeadwayError
from headway.domain.transit import Block, TransitFeed, TransitStop, Trip
from headway.domain.vehicles import VehicleState
from headway.optimizer.headway_control import (
    ControlPoint,
    Hold,
    HoldingRules,
    headway_cv,
    hold_for,
)
from headway.services.commands.service import CommandRequest
from headway.services.trip_orders import (
    drive_key,
    drive_request,
    release_key,
    release_points,
    release_request,
)
from headway.services.trip_tracking import (
    StopEvent,
    StopEventKind,
    TrackingRules,
    TripProgress,
    observe,
    start_progress,
)

log = logging.getLogger(__name__)


class CommandSubmitter(Protocol):
    """What the service needs of the command service (``CommandService.submit``)."""

    async def submit(
        self,
        vehicle_id: str,
        request: CommandRequest,
        issued_by: str = "",
        idempotency_key: str | None = None,
    ) -> tuple[Command, bool]: ...

    async def get(self, command_id: str) -> Command | None: ...


class LiveStates(Protocol):
    async def get_many(self, vehicle_ids: Sequence[str]) -> list[VehicleState | None]: ...


class ServiceTimeStates:
    """Live states with their clocks read on the service clock: a simulation that runs
    ``to_service`` faster than the wall clock stamps its states in wall time, while the
    timetable is followed in simulated time."""

    def __init__(self, live: LiveStates, to_service: Callable[[float], float]) -> None:
        self._live = live
        self._to_service = to_service

    async def get_many(self, vehicle_ids: Sequence[str]) -> list[VehicleState | None]:
        states = await self._live.get_many(vehicle_ids)
        return [None if s is None else replace(s, ts=self._to_service(s.ts)) for s in states]


class TravelTimes(Protocol):
    """Seconds to drive from a vehicle's position to a stop; None when unknown."""

    def __call__(self, state: VehicleState, stop: TransitStop) -> float | None: ...


def service_day_start(day: dt.date, timezone: str) -> float:
    """Epoch seconds of a service day's time 0: noon minus twelve hours, local time (so
    GTFS times stay right on the days clocks change)."""
    noon = dt.datetime(day.year, day.month, day.day, 12, tzinfo=ZoneInfo(timezone))
    return noon.timestamp() - 12 * 3600.0


def service_day_at(now: float, timezone: str, day_starts_s: int = 4 * 3600) -> dt.date:
    """The service day running at ``now``: before ``day_starts_s`` (04:00) local time it
    is still the day before (its trips after midnight run at 24:00 and later)."""
    local = dt.datetime.fromtimestamp(now, ZoneInfo(timezone))
    day = local.date()
    if now < service_day_start(day, timezone) + day_starts_s:
        day -= dt.timedelta(days=1)
    return day


@dataclass(frozen=True, slots=True)
class Arrival:
    stop_id: str
    route_id: str
    trip_id: str
    headsign: str
    vehicle_id: str | None
    scheduled: float
    predicted: float | None
    """None: no vehicle on this trip yet; the schedule is all there is."""

    @property
    def expected(self) -> float:
        return self.scheduled if self.predicted is None else self.predicted


@dataclass(frozen=True, slots=True)
class ArrivalBoard:
    """Every stop's coming arrivals at one moment, ordered by expected time.

    ``by_stop`` holds times on the service clock; ``arrivals`` gives them on the wall
    clock through ``to_wall`` (converted as read: a board lists thousands)."""

    at: float
    by_stop: Mapping[str, tuple[Arrival, ...]] = field(default_factory=dict)
    to_wall: Callable[[float], float] | None = None

    def arrivals(self, stop_id: str, limit: int) -> list[Arrival]:
        found = self.by_stop.get(stop_id, ())[:limit]
        wall = self.to_wall
        if wall is None:
            return list(found)
        return [
            replace(
                a,
                scheduled=wall(a.scheduled),
                predicted=None if a.predicted is None else wall(a.predicted),
            )
            for a in found
        ]


@dataclass(frozen=True, slots=True)
class FixedRouteConfig:
    tick_s: float = 1.0
    holding: HoldingRules = field(default_factory=HoldingRules)
    tracking: TrackingRules = field(default_factory=TrackingRules)
    control_stops: frozenset[str] | None = None
    """Stops where vehicles may be held; None: every stop but a trip's last."""
    horizon_s: float = 3 * 3600.0
    """How far ahead arrivals are listed."""
    hold_ttl_s: float = 30.0
    """A hold not acknowledged this quickly is moot: the vehicle has gone."""
    board_interval_s: float = 0.0
    """Publish a new arrival board at most this often (0: every tick)."""
    drive_trips: bool = False
    """Send each trip to its vehicle as orders (``trip_orders``); False: vehicles are
    driven by something else and only followed and held."""
    trip_lead_s: float = 1800.0
    """A trip's order is sent this long before its scheduled start (at once when the
    vehicle is late); its first stop is released at the scheduled departure."""
    order_ttl_s: float = 120.0
    """Time for a trip's drive or release command to be acknowledged."""
    order_retry_s: float = 10.0
    """Wait before sending a refused trip again, doubled for each refusal of the same
    trip up to eight times as long."""


@dataclass
class FixedRouteStats:
    holds_issued: int = 0
    holds_by_reason: dict[str, int] = field(default_factory=dict)
    hold_failures: int = 0
    held_s: float = 0.0
    stop_events: int = 0
    vehicles_unseen: int = 0
    """Vehicle-ticks without a live state (a vehicle not heard from yet counts each tick)."""
    blocks_unassigned: int = 0
    trips_sent: int = 0
    """Drive commands created (a drive found again by its key does not count; one sent
    again after a refusal does, see ``trips_resent``)."""
    trips_completed: int = 0
    """Trips whose vehicle reached their last stop."""
    releases_sent: int = 0
    trips_resent: int = 0
    """Drives sent again because the vehicle refused or never took the first."""
    order_failures: int = 0
    """Drive or release commands the command service refused."""


def assign_blocks(blocks: Sequence[Block], vehicle_ids: Sequence[str]) -> dict[str, list[Block]]:
    """Each block to a vehicle free by its start (the one free longest), in order of
    start time; blocks no vehicle can take are left out (``start_day`` counts them)."""
    free_at = {v: float("-inf") for v in vehicle_ids}
    plan: dict[str, list[Block]] = {v: [] for v in vehicle_ids}
    for block in sorted(blocks, key=lambda b: (b.start_s, b.id)):
        ready = [v for v in vehicle_ids if free_at[v] <= block.start_s]
        if not ready:
            continue
        chosen = min(ready, key=lambda v: (free_at[v], v))
        plan[chosen].append(block)
        free_at[chosen] = block.end_s
    return plan


@dataclass(frozen=True, slots=True)
class FixedRouteSetup:
    """What a process needs to run fixed routes live (``bootstrap``)."""

    feed: TransitFeed
    vehicles: int
    """How many of the fleet's vehicles to offer the day's blocks (the rest stay
    on demand); those that get no block go back to on-demand service."""
    control_stops: frozenset[str] | None = None
    timetable_day: dt.date | None = None
    """Run this date's trips today (a feed whose dates are past); None: today's."""
    holding: bool = True
    """False: never hold (to measure what holding does)."""


_REFUSED = frozenset({CommandStatus.REJECTED, CommandStatus.EXPIRED, CommandStatus.FAILED})


class FixedRouteService:
    def __init__(
        self,
        feed: TransitFeed,
        live: LiveStates,
        commands: CommandSubmitter | None,
        travel_time: TravelTimes | None = None,
        config: FixedRouteConfig = FixedRouteConfig(),
        clock: Callable[[], float] = time.time,
        to_wall: Callable[[float], float] | None = None,
    ) -> None:
        """``clock`` is the service clock the timetable is followed on; ``to_wall``
        turns its times into wall-clock times for the arrival board (a simulation
        that runs faster than real time shows its arrivals as they will be seen)."""
        self.feed = feed
        self._live = live
        self._commands = commands
        self._travel_time = travel_time
        self.config = config
        self._clock = clock
        self._to_wall = to_wall
        # Vehicles sent to their trips may pass later stops on the way to the first.
        self._tracking = replace(config.tracking, first_stop_first=config.drive_trips)
        self.stats = FixedRouteStats()
        self.board = ArrivalBoard(at=0.0)
        self.day: dt.date | None = None
        self._day_start = 0.0
        self._trips: dict[str, Trip] = {}
        self._plan: dict[str, list[Block]] = {}
        self._progress: dict[str, TripProgress] = {}
        self._last_departure: dict[tuple[str, int, str], tuple[float, str]] = {}
        self._departures: dict[tuple[str, int, str], list[float]] = defaultdict(list)
        self._schedule: dict[tuple[str, int, str], list[int]] = {}
        self._points: dict[str, tuple[int, ...]] = {}
        self._orders: dict[str, str] = {}
        """Trip id to the drive command that carries it."""
        self._taken: set[str] = set()
        """Drive commands the vehicle has acknowledged (no need to look at them again)."""
        self._attempts: dict[str, int] = {}
        """Trip id to how many of its drives were refused (each retry has its own keys)."""
        self._retry_at: dict[str, float] = {}
        self._released: set[tuple[str, int]] = set()
        self._board_built = float("-inf")
        self._day_end = float("inf")
        self._vehicle_ids: tuple[str, ...] = ()
        self._timetable_shift = dt.timedelta(0)

    # -- set-up ------------------------------------------------------------------------

    def start_day(
        self,
        day: dt.date,
        vehicle_ids: Sequence[str],
        timetable_day: dt.date | None = None,
    ) -> dict[str, list[Block]]:
        """Take up ``day``'s timetable and give its blocks to ``vehicle_ids``.
        ``timetable_day``: run that date's trips on ``day`` (a feed that does not cover
        ``day``, such as an old one replayed in a demo)."""
        source = timetable_day or day
        self._timetable_shift = source - day
        trips = self.feed.trips_on(source)
        self.day = day
        self._vehicle_ids = tuple(vehicle_ids)
        self._day_start = service_day_start(day, self.feed.timezone)
        self._day_end = self._day_start + max((t.end_s for t in trips), default=0)
        self._trips = {t.id: t for t in trips}
        control = self.config.control_stops
        self._points = {t.id: release_points(t, control) for t in trips}
        self._orders = {}
        self._taken = set()
        self._attempts = {}
        self._retry_at = {}
        self._released = set()
        self._departures = defaultdict(list)
        blocks = self.feed.blocks_on(source)
        self._plan = assign_blocks(blocks, vehicle_ids)
        assigned = sum(len(b) for b in self._plan.values())
        self.stats.blocks_unassigned = len(blocks) - assigned
        self._schedule = defaultdict(list)
        for trip in trips:
            for stop_id, dep in zip(trip.stop_ids, trip.departures, strict=True):
                self._schedule[(trip.route_id, trip.direction_id, stop_id)].append(dep)
        for times in self._schedule.values():
            times.sort()
        self._progress = {}
        self._last_departure = {}
        now = self._clock()
        for vehicle_id, planned in self._plan.items():
            if planned:
                self._progress[vehicle_id] = self._progress_for(vehicle_id, planned, now)
        self._publish(self._build_board(now), now)
        return self._plan

    def start_today(
        self, vehicle_ids: Sequence[str], timetable_day: dt.date | None = None
    ) -> dict[str, list[Block]]:
        """``start_day`` for the service day running now on the service's clock."""
        day = service_day_at(self._clock(), self.feed.timezone)
        return self.start_day(day, vehicle_ids, timetable_day)

    def _progress_for(self, vehicle_id: str, blocks: list[Block], now: float) -> TripProgress:
        trip_ids = tuple(t for b in blocks for t in b.trip_ids)
        merged = Block(blocks[0].id, trip_ids, blocks[0].start_s, blocks[-1].end_s, False)
        return start_progress(
            vehicle_id,
            merged,
            self._trips,
            self._day_start,
            now,
            self._tracking,
            by_start=self.config.drive_trips,
        )

    def progress(self, vehicle_id: str) -> TripProgress | None:
        return self._progress.get(vehicle_id)

    @property
    def vehicle_ids(self) -> frozenset[str]:
        """The vehicles with blocks today: the fixed-route share of the fleet."""
        return frozenset(v for v, blocks in self._plan.items() if blocks)

    def observed_headway_cv(
        self, min_departures: int = 4, window_s: float | None = None
    ) -> float | None:
        """The mean headway coefficient of variation over every route, direction and
        stop with at least ``min_departures`` observed departures today (in the last
        ``window_s`` of the service clock, when given); None before."""
        since = float("-inf") if window_s is None else self._clock() - window_s
        recent = ([t for t in d if t >= since] for d in self._departures.values())
        values = [headway_cv(d) for d in recent if len(d) >= min_departures]
        return sum(values) / len(values) if values else None

    # -- the tick ----------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                if self.day is not None and self._clock() >= self._day_end:
                    # The day's last trip has ended: the next day, same vehicles.
                    day = self.day + dt.timedelta(days=1)
                    self.start_day(day, self._vehicle_ids, day + self._timetable_shift)
                await self.step()
            except HeadwayError as exc:
                log.warning("fixed routes: step failed (%s); trying again next tick", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.config.tick_s)

    async def step(self) -> list[Hold]:
        """Read the vehicles, advance them, send holds; returns the holds sent."""
        now = self._clock()
        vehicle_ids = sorted(self._progress)
        states = await self._live.get_many(vehicle_ids) if vehicle_ids else []
        holds: list[Hold] = []
        latest = {v: s for v, s in zip(vehicle_ids, states, strict=True) if s is not None}
        self.stats.vehicles_unseen += len(vehicle_ids) - len(latest)
        for vehicle_id, state in latest.items():
            progress = self._progress[vehicle_id]
            if state.ts <= progress.last_seen:
                continue
            for event in observe(
                progress, self.feed.stops, state.lat, state.lon, state.ts, self._tracking
            ):
                self.stats.stop_events += 1
                hold = self._on_event(event, latest)
                if hold is not None and hold.holds:
                    holds.append(hold)
        for hold in holds:
            await self._send(hold)
        if self.config.drive_trips and self._commands is not None:
            await self._drive(now)
        if now - self._board_built >= self.config.board_interval_s:
            self._publish(self._build_board(now, latest), now)
        return holds

    def _publish(self, board: ArrivalBoard, now: float) -> None:
        self._board_built = now
        wall = self._to_wall
        if wall is not None:
            board = ArrivalBoard(wall(board.at), board.by_stop, wall)
        self.board = board

    # -- driving the trips ------------------------------------------------------------

    async def _drive(self, now: float) -> None:
        """Send each vehicle's trip when due, and release the vehicles standing at a
        release point (after the holds decided this tick, so a hold starts first)."""
        assert self._commands is not None
        for vehicle_id in sorted(self._progress):
            progress = self._progress[vehicle_id]
            trip = progress.trip
            if trip is None:
                continue
            if trip.id in self._orders and not await self._order_stands(trip.id):
                del self._orders[trip.id]  # refused or lapsed: sent again, with new keys
                attempt = self._attempts.get(trip.id, 0) + 1
                self._attempts[trip.id] = attempt
                backoff = self.config.order_retry_s * 2 ** min(attempt - 1, 3)
                self._retry_at[trip.id] = now + backoff
                self._released = {r for r in self._released if r[0] != trip.id}
                self.stats.trips_resent += 1
            if trip.id not in self._orders:
                if now < self._day_start + trip.start_s - self.config.trip_lead_s:
                    continue
                if now < self._retry_at.get(trip.id, now):
                    continue
                request = drive_request(trip, self._points[trip.id], self.config.order_ttl_s)
                command = await self._submit(
                    vehicle_id, request, self._key(drive_key(self.day, trip), trip)
                )
                if command is None:
                    continue
                self._orders[trip.id] = command[0]
                if command[1]:
                    self.stats.trips_sent += 1
            index = progress.next_index
            if not progress.at_stop or (trip.id, index) in self._released:
                continue
            if index not in self._points[trip.id]:
                continue
            if index == 0 and not trip.frequency_based and now < progress.scheduled_departure(0):
                continue  # early at the first stop: released at its time
            request = release_request(
                trip, self._points[trip.id], index, self._orders[trip.id], self.config.order_ttl_s
            )
            key = self._key(release_key(self.day, trip, index), trip)
            if await self._submit(vehicle_id, request, key):
                self._released.add((trip.id, index))
                self.stats.releases_sent += 1

    def _key(self, key: str, trip: Trip) -> str:
        """A key of the trip's current attempt: a retry is a new command, not the old."""
        attempt = self._attempts.get(trip.id, 0)
        return f"{key}#{attempt}" if attempt else key

    async def _order_stands(self, trip_id: str) -> bool:
        """False when the trip's drive was refused, lapsed or failed before the vehicle
        took it (a vehicle that moved on since its last report refuses an order)."""
        assert self._commands is not None
        command_id = self._orders[trip_id]
        if command_id in self._taken:
            return True
        command = await self._commands.get(command_id)
        if command is None:
            return True
        if command.status in (CommandStatus.ACCEPTED, CommandStatus.SENT):
            return True
        if command.status in _REFUSED and not any(
            h.status is CommandStatus.ACKNOWLEDGED for h in command.history
        ):
            log.info(
                "trip %s: drive %s %s (%s)", trip_id, command.id, command.status, command.reason
            )
            return False
        self._taken.add(command_id)
        return True

    async def _submit(
        self, vehicle_id: str, request: CommandRequest, key: str
    ) -> tuple[str, bool] | None:
        assert self._commands is not None
        try:
            command, new = await self._commands.submit(vehicle_id, request, "fixed-routes", key)
        except HeadwayError as exc:
            self.stats.order_failures += 1
            log.warning("%s for %s not accepted: %s", request.kind, vehicle_id, exc)
            return None
        return command.id, new

    def _on_event(self, event: StopEvent, latest: Mapping[str, VehicleState]) -> Hold | None:
        trip = self._trips[event.trip_id]
        key = (trip.route_id, trip.direction_id, event.stop_id)
        if event.kind is StopEventKind.DEPARTED:
            self._last_departure[key] = (event.at, event.vehicle_id)
            self._departures[key].append(event.at)
            return None
        if event.index >= len(trip.stop_ids) - 1:
            self.stats.trips_completed += 1
            return None
        control = self.config.control_stops
        if control is not None and event.stop_id not in control:
            return None
        ahead = self._last_departure.get(key)
        point = ControlPoint(
            vehicle_id=event.vehicle_id,
            stop_id=event.stop_id,
            now=event.at,
            previous_departure=ahead[0] if ahead and ahead[1] != event.vehicle_id else None,
            follower_arrival=self._follower_arrival(event, trip, latest),
            target_headway_s=self._scheduled_headway(trip, event.index),
            scheduled_departure=self._day_start + trip.departures[event.index],
            timed_point=trip.timepoints[event.index] and not trip.frequency_based,
        )
        return hold_for(point, self.config.holding)

    def _scheduled_headway(self, trip: Trip, index: int) -> float | None:
        times = self._schedule.get((trip.route_id, trip.direction_id, trip.stop_ids[index]), [])
        mine = trip.departures[index]
        i = bisect.bisect_left(times, mine)
        return float(mine - times[i - 1]) if i > 0 else None

    def _follower_arrival(
        self, event: StopEvent, trip: Trip, latest: Mapping[str, VehicleState]
    ) -> float | None:
        """The earliest predicted arrival at this stop of another vehicle on the same
        route and direction that has not reached it yet, on its current trip or (on a
        loop, or past a terminal) the next trip of its block."""
        best: float | None = None
        for vehicle_id, progress in self._progress.items():
            if vehicle_id == event.vehicle_id:
                continue
            eta = self._eta_at(progress, latest.get(vehicle_id), trip, event.stop_id, event.at)
            if eta is not None and eta >= event.at and (best is None or eta < best):
                best = eta
        return best

    def _eta_at(
        self,
        progress: TripProgress,
        state: VehicleState | None,
        like: Trip,
        stop_id: str,
        now: float,
    ) -> float | None:
        trip = progress.trip
        if trip is None:
            return None
        same = (like.route_id, like.direction_id)
        predicted = self._predict(progress, state, now)
        if (trip.route_id, trip.direction_id) == same:
            ahead = trip.stop_ids[progress.next_index :]
            if stop_id in ahead:
                return predicted.get(progress.next_index + ahead.index(stop_id))
        following = progress.trips[progress.trip_index + 1 : progress.trip_index + 2]
        if not following:
            return None
        nxt = following[0]
        if (nxt.route_id, nxt.direction_id) != same or stop_id not in nxt.stop_ids:
            return None
        end = predicted[len(trip.stop_ids) - 1]
        start = end if nxt.frequency_based else max(end, self._day_start + nxt.start_s)
        return start + nxt.arrivals[nxt.stop_ids.index(stop_id)] - nxt.start_s

    async def _send(self, hold: Hold) -> None:
        if self._commands is None:
            return
        progress = self._progress[hold.vehicle_id]
        trip = progress.trip
        # One hold per trip and stop: deciding again (after a restart) sends nothing new.
        key = f"hold:{self.day}:{trip.id if trip else ''}:{hold.stop_id}"
        request = CommandRequest(
            CommandKind.HOLD,
            CommandParams(duration_s=round(hold.hold_s, 1)),
            ttl_s=self.config.hold_ttl_s,
        )
        try:
            await self._commands.submit(hold.vehicle_id, request, "fixed-routes", key)
        except HeadwayError as exc:
            self.stats.hold_failures += 1
            log.warning("hold for %s not accepted: %s", hold.vehicle_id, exc)
            return
        self.stats.holds_issued += 1
        self.stats.held_s += hold.hold_s
        reasons = self.stats.holds_by_reason
        reasons[hold.reason.value] = reasons.get(hold.reason.value, 0) + 1

    # -- predictions -------------------------------------------------------------------

    def _predict(
        self, progress: TripProgress, state: VehicleState | None, now: float
    ) -> dict[int, float]:
        """Predicted arrival at each stop ahead on the vehicle's current trip."""
        trip = progress.trip
        if trip is None:
            return {}
        first = progress.next_index
        out: dict[int, float] = {}
        dwell = trip.departures[first] - trip.arrivals[first]
        if progress.at_stop:
            arrived = progress.arrivals.get(first, now)
            out[first] = arrived
            depart = max(now, arrived + dwell)
        else:
            out[first] = self._eta_next(progress, state, now)
            depart = out[first] + dwell
        for index in range(first + 1, len(trip.stop_ids)):
            out[index] = depart + (trip.arrivals[index] - trip.departures[first])
        return out

    def _eta_next(self, progress: TripProgress, state: VehicleState | None, now: float) -> float:
        trip = progress.trip
        assert trip is not None
        index = progress.next_index
        stop = self.feed.stops[trip.stop_ids[index]]
        if self._travel_time is not None and state is not None and stop.place is not None:
            seconds = self._travel_time(state, stop)
            if seconds is not None:
                return now + seconds
        scheduled = progress.scheduled_arrival(index)
        if index == 0 and not progress.departures:
            return max(now, scheduled)
        return max(now, scheduled + progress.delay_s)

    def _build_board(
        self, now: float, latest: Mapping[str, VehicleState] | None = None
    ) -> ArrivalBoard:
        latest = latest or {}
        by_stop: dict[str, list[Arrival]] = defaultdict(list)
        covered: set[str] = set()
        for vehicle_id, progress in self._progress.items():
            trip = progress.trip
            if trip is None:
                continue
            covered.add(trip.id)
            state = latest.get(vehicle_id)
            if state is None:
                # Not heard from this tick: its trips are listed as scheduled.
                for planned in progress.trips[progress.trip_index :]:
                    self._add_scheduled(by_stop, planned, vehicle_id, now)
                    covered.add(planned.id)
                continue
            for index, eta in self._predict(progress, state, now).items():
                if progress.at_stop and index == progress.next_index:
                    continue
                by_stop[trip.stop_ids[index]].append(
                    Arrival(
                        trip.stop_ids[index],
                        trip.route_id,
                        trip.id,
                        trip.headsign,
                        vehicle_id,
                        self._day_start + trip.arrivals[index],
                        eta,
                    )
                )
            for later in progress.trips[progress.trip_index + 1 :]:
                covered.add(later.id)
                self._add_scheduled(by_stop, later, vehicle_id, now)
        for trip in self._trips.values():
            if trip.id not in covered:
                self._add_scheduled(by_stop, trip, None, now)
        return ArrivalBoard(
            at=now,
            by_stop={
                stop: tuple(sorted(items, key=lambda a: (a.expected, a.trip_id)))
                for stop, items in by_stop.items()
            },
        )

    def _add_scheduled(
        self,
        by_stop: dict[str, list[Arrival]],
        trip: Trip,
        vehicle_id: str | None,
        now: float,
    ) -> None:
        start = self._day_start
        if start + trip.end_s < now or start + trip.start_s > now + self.config.horizon_s:
            return
        for stop_id, arrival in zip(trip.stop_ids, trip.arrivals, strict=True):
            if now <= start + arrival <= now + self.config.horizon_s:
                by_stop[stop_id].append(
                    Arrival(
                        stop_id,
                        trip.route_id,
                        trip.id,
                        trip.headsign,
                        vehicle_id,
                        start + arrival,
                        None,
                    )
                )


def route_stops(feed: TransitFeed, route_id: str) -> dict[int, list[str]]:
    """Each direction's stops in order, from its trip with the most stops."""
    longest: dict[int, Trip] = {}
    for trip in feed.trips.values():
        if trip.route_id != route_id:
            continue
        best = longest.get(trip.direction_id)
        if best is None or (len(trip.stop_ids), best.id) > (len(best.stop_ids), trip.id):
            longest[trip.direction_id] = trip
    return {d: list(t.stop_ids) for d, t in sorted(longest.items())}


def route_shape(feed: TransitFeed, route_id: str) -> list[tuple[float, float]]:
    """(lat, lon) of the route's first direction: the feed's shape, else its stops."""
    trips: Iterable[Trip] = sorted(
        (t for t in feed.trips.values() if t.route_id == route_id),
        key=lambda t: (t.direction_id, -len(t.stop_ids), t.id),
    )
    for trip in trips:
        if trip.shape_id and trip.shape_id in feed.shapes:
            return list(feed.shapes[trip.shape_id].points)
    stops = route_stops(feed, route_id)
    first = stops[min(stops)] if stops else []
    return [(feed.stops[s].lat, feed.stops[s].lon) for s in first]
