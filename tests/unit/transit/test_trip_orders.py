"""Trips sent as orders: the synthetic city's lines driven through the fixed-route
service with a command service that remembers idempotency keys. Each trip's order is
released up to its first stop, then control stop by control stop as the vehicle stands
at each; a hold goes before the release; nothing is sent twice, not even by a service
that restarts; the vehicles given no block stay out of the fixed-route share."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import pytest

from headway.domain.commands import Command, CommandKind, CommandStatus, Transition
from headway.domain.transit import Trip
from headway.domain.vehicles import VehicleState, VehicleStatus
from headway.network.cch_router import CCHRouter
from headway.network.city import CityParams, generate_city
from headway.services.city_timetable import CityTimetable, CityTimetableParams, city_timetable
from headway.services.commands.service import MAX_STOPS, CommandRequest
from headway.services.fixed_routes import (
    FixedRouteConfig,
    FixedRouteService,
    service_day_at,
    service_day_start,
)
from headway.services.trip_orders import release_points
from tests.unit.transit.service_fixtures import Clock

DAY = dt.date(2026, 3, 4)
TZ = "Europe/Berlin"


def at(hhmm: str) -> float:
    h, m = (int(x) for x in hhmm.split(":"))
    return service_day_start(DAY, TZ) + h * 3600 + m * 60


@pytest.fixture(scope="module")
def timetable() -> CityTimetable:
    network = generate_city(CityParams(seed=7))
    return city_timetable(network, CCHRouter(network), CityTimetableParams(headway_s=600))


@dataclass
class Commands:
    """A command service that keeps what it was given and honours idempotency keys."""

    created: list[tuple[str, CommandRequest, str]] = field(default_factory=list)
    by_key: dict[str, Command] = field(default_factory=dict)

    async def submit(
        self,
        vehicle_id: str,
        request: CommandRequest,
        issued_by: str = "",
        idempotency_key: str | None = None,
    ) -> tuple[Command, bool]:
        key = f"{issued_by}:{idempotency_key}"
        if key in self.by_key:
            return self.by_key[key], False
        self.created.append((vehicle_id, request, key))
        command = Command(
            id=f"c{len(self.created)}", vehicle_id=vehicle_id, manufacturer="test",
            kind=request.kind, params=request.params, status=CommandStatus.ACCEPTED,
            created_at=0.0, expires_at=0.0, updated_at=0.0,
        )  # fmt: skip
        self.by_key[key] = command
        return command, True

    async def get(self, command_id: str) -> Command | None:
        return next((c for c in self.by_key.values() if c.id == command_id), None)

    def of(self, vehicle_id: str, kind: CommandKind) -> list[CommandRequest]:
        return [r for v, r, _ in self.created if v == vehicle_id and r.kind is kind]


@dataclass
class Live:
    states: dict[str, VehicleState] = field(default_factory=dict)

    async def get_many(self, vehicle_ids: Sequence[str]) -> list[VehicleState | None]:
        return [self.states.get(v) for v in vehicle_ids]

    def put(self, vehicle_id: str, lat: float, lon: float, ts: float) -> None:
        self.states[vehicle_id] = VehicleState(
            id=vehicle_id, manufacturer="test", ts=ts, last_seen=ts, x=0.0, y=0.0,
            lat=lat, lon=lon, heading_rad=0.0, speed_mps=0.0, battery_pct=80.0,
            charging=False, driving=True, status=VehicleStatus.DRIVING,
        )  # fmt: skip


class Line:
    """The service with its fakes, and vehicles put at the stops of their trips."""

    def __init__(self, timetable: CityTimetable, commands: Commands, now: float) -> None:
        self.feed = timetable.feed
        self.clock = Clock(now)
        self.live = Live()
        self.commands = commands
        self.svc = FixedRouteService(
            timetable.feed,
            self.live,
            commands,
            config=FixedRouteConfig(control_stops=timetable.control_stops, drive_trips=True),
            clock=self.clock,
        )

    def trip(self, vehicle_id: str) -> Trip:
        progress = self.svc.progress(vehicle_id)
        assert progress is not None
        assert progress.trip is not None
        return progress.trip

    def at_stop(self, vehicle_id: str, trip: Trip, index: int) -> None:
        stop = self.feed.stops[trip.stop_ids[index]]
        self.live.put(vehicle_id, stop.lat, stop.lon, self.clock.now)

    def away(self, vehicle_id: str, trip: Trip, index: int) -> None:
        stop = self.feed.stops[trip.stop_ids[index]]
        self.live.put(vehicle_id, stop.lat + 0.001, stop.lon, self.clock.now)  # 110 m

    async def tick(self, seconds: float = 1.0) -> None:
        self.clock.now += seconds
        await self.svc.step()


VEHICLES = [f"v{i:04d}" for i in range(1, 21)]


async def test_a_trip_is_sent_released_stop_by_stop_and_never_twice(
    timetable: CityTimetable,
) -> None:
    line = Line(timetable, Commands(), at("08:55"))
    line.svc.start_day(DAY, VEHICLES)
    await line.tick()
    vehicle = next(v for v in sorted(line.svc.vehicle_ids) if line.trip(v).route_id == "1")
    trip = line.trip(vehicle)
    points = release_points(trip, timetable.control_stops)
    assert points[:3] == (0, 3, 6)
    # One drive per vehicle with a trip due; the first stop alone is released.
    drives = line.commands.of(vehicle, CommandKind.DRIVE)
    assert len(drives) == 1
    stops = drives[0].params.stops
    assert [s.stop_id for s in stops] == list(trip.stop_ids[: len(stops)])
    assert len(stops) - drives[0].params.horizon == 1
    assert len(stops) <= MAX_STOPS
    assert stops[0].actions == ("doorOpen", "pick", "doorClose")
    assert stops[1].actions == ("doorOpen", "drop", "pick", "doorClose")
    if len(stops) == len(trip.stop_ids):
        assert stops[-1].actions == ("doorOpen", "drop", "doorClose")
    assert line.svc.stats.trips_sent == sum(
        1 for _, r, _ in line.commands.created if r.kind is CommandKind.DRIVE
    )
    # At its first stop before its time: it is not released until then.
    start = service_day_start(DAY, TZ) + trip.departures[0]
    line.clock.now = start - 100
    line.at_stop(vehicle, trip, 0)
    await line.tick()
    assert line.commands.of(vehicle, CommandKind.UPDATE) == []
    line.clock.now = start
    await line.tick()
    updates = line.commands.of(vehicle, CommandKind.UPDATE)
    assert len(updates) == 1
    released = updates[0].params
    drive = line.commands.by_key[f"fixed-routes:trip:{DAY}:{trip.id}"]
    assert released.order_command_id == drive.id
    assert [s.stop_id for s in released.stops][:3] == list(trip.stop_ids[1:4])
    assert len(released.stops) - released.horizon == 3  # stops 1, 2 and 3 (a control stop)
    # Seen again and again at the same stop: nothing more.
    for _ in range(3):
        line.at_stop(vehicle, trip, 0)
        await line.tick()
    assert len(line.commands.of(vehicle, CommandKind.UPDATE)) == 1
    assert len(line.commands.of(vehicle, CommandKind.DRIVE)) == 1
    # Through stops 1 and 2 (not control stops: no release) to stop 3: the next release.
    for index in (1, 2, 3):
        line.away(vehicle, trip, index - 1)
        await line.tick(30)
        line.at_stop(vehicle, trip, index)
        await line.tick(20)
    updates = line.commands.of(vehicle, CommandKind.UPDATE)
    assert len(updates) == 2
    assert [s.stop_id for s in updates[1].params.stops][:3] == list(trip.stop_ids[4:7])


async def test_a_restarted_service_sends_nothing_new(timetable: CityTimetable) -> None:
    commands = Commands()
    first = Line(timetable, commands, at("12:00"))
    first.svc.start_day(DAY, VEHICLES)
    await first.tick(0)
    # The vehicle whose trip is due soonest (already due: a vehicle joining late).
    vehicle = min(first.svc.vehicle_ids, key=lambda v: first.trip(v).start_s)
    trip = first.trip(vehicle)
    assert service_day_start(DAY, TZ) + trip.departures[0] <= first.clock.now
    first.at_stop(vehicle, trip, 0)
    await first.tick(0)
    sent = len(commands.created)
    assert first.svc.stats.trips_sent > 0
    assert first.svc.stats.releases_sent == 1
    # The process restarts: a new service decides everything again from the same state
    # (at the same moment: a later one may find a vehicle too late for its trip).
    again = Line(timetable, commands, first.clock.now)
    again.live = first.live
    again.svc = FixedRouteService(
        timetable.feed,
        first.live,
        commands,
        config=FixedRouteConfig(control_stops=timetable.control_stops, drive_trips=True),
        clock=again.clock,
    )
    again.svc.start_day(DAY, VEHICLES)
    await again.tick(0)
    await again.tick(0)
    assert len(commands.created) == sent
    assert again.svc.stats.trips_sent == 0


async def test_a_hold_goes_before_the_release(timetable: CityTimetable) -> None:
    line = Line(timetable, Commands(), at("10:00"))
    line.svc.start_day(DAY, VEHICLES)
    await line.tick()
    ahead, behind = sorted(
        (
            v
            for v in line.svc.vehicle_ids
            if (line.trip(v).route_id, line.trip(v).direction_id) == ("2", 0)
        ),
        key=lambda v: line.trip(v).start_s,
    )[:2]
    # The one behind catches up with the one ahead: it reaches stop 3 (a control stop)
    # seconds after the other left it. It is held there, and released after the hold.
    line.clock.now = service_day_start(DAY, TZ) + line.trip(behind).departures[0]
    for vehicle in (ahead, behind):
        trip = line.trip(vehicle)
        for index in range(4):
            line.at_stop(vehicle, trip, index)
            await line.tick(5)
            if vehicle == ahead or index < 3:
                line.away(vehicle, trip, index)
                await line.tick(5)
    mine = [r for v, r, _ in line.commands.created if v == behind]
    kinds = [r.kind for r in mine]
    assert kinds[-2:] == [CommandKind.HOLD, CommandKind.UPDATE]
    assert mine[-2].params.duration_s > 0
    assert mine[-1].params.stops[0].stop_id == line.trip(behind).stop_ids[4]
    assert line.svc.stats.holds_by_reason.get("even_headways", 0) >= 1


async def test_vehicles_without_a_block_stay_on_demand(timetable: CityTimetable) -> None:
    line = Line(timetable, Commands(), at("09:00"))
    fleet = [f"v{i:04d}" for i in range(1, 41)]
    plan = line.svc.start_day(DAY, fleet)
    with_blocks = {v for v, blocks in plan.items() if blocks}
    assert line.svc.vehicle_ids == with_blocks
    assert len(with_blocks) == len(timetable.feed.blocks_on(DAY)) < len(fleet)
    await line.tick()
    assert {v for v, _, _ in line.commands.created} <= with_blocks
    assert line.svc.stats.blocks_unassigned == 0


def test_the_service_day_runs_past_midnight() -> None:
    assert service_day_at(at("03:59") + 86400, TZ) == DAY
    assert service_day_at(at("04:00") + 86400, TZ) == DAY + dt.timedelta(days=1)
    assert service_day_at(at("12:00"), TZ) == DAY


async def test_a_refused_drive_is_sent_again_under_new_keys(timetable: CityTimetable) -> None:
    line = Line(timetable, Commands(), at("09:00"))
    line.svc.start_day(DAY, VEHICLES)
    await line.tick()
    vehicle = sorted(line.svc.vehicle_ids)[0]
    trip = line.trip(vehicle)
    key = f"fixed-routes:trip:{DAY}:{trip.id}"
    refused = line.commands.by_key[key]
    # The vehicle had moved on from where it last reported: it refused the order.
    line.commands.by_key[key] = replace(
        refused,
        status=CommandStatus.REJECTED,
        history=(Transition(CommandStatus.SENT, 0.0), Transition(CommandStatus.REJECTED, 1.0)),
    )
    await line.tick()
    assert len(line.commands.of(vehicle, CommandKind.DRIVE)) == 1  # not at once
    await line.tick(line.svc.config.order_retry_s)
    drives = line.commands.of(vehicle, CommandKind.DRIVE)
    assert len(drives) == 2
    assert drives[1] == drives[0]
    assert f"{key}#1" in line.commands.by_key
    assert line.svc.stats.trips_resent == 1
    await line.tick()
    assert len(line.commands.of(vehicle, CommandKind.DRIVE)) == 2
