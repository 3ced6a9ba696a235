"""The fixed-route service running a bunching loop line, end to end: simulated
vehicles report positions once a second, the service follows them along their trips,
predicts, decides holds and sends them as commands, and the vehicles obey.

Unlike ``line_sim.py`` (the rule alone, fed exact knowledge) everything the controller
knows here it learned from positions: arrivals inside a 30 m circle, delays against the
timetable, followers' ETAs from schedule plus delay.

Run it to print the figures: ``.venv/bin/python -m tests.unit.transit.service_line_sim``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import statistics
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from headway.adapters.gtfs_feed import read_gtfs
from headway.domain.commands import Command, CommandKind, CommandStatus
from headway.domain.transit import TransitFeed, format_time
from headway.domain.vehicles import VehicleState, VehicleStatus
from headway.optimizer.headway_control import headway_cv
from headway.services.commands.service import CommandRequest
from headway.services.fixed_routes import FixedRouteConfig, FixedRouteService, service_day_start
from tests.unit.transit.feeds import write_zip

DAY = dt.date(2024, 1, 2)
CENTRE = (49.41, 8.70)


@dataclass(frozen=True)
class LoopParams:
    stops: int = 12
    spacing_m: float = 500.0
    speed_mps: float = 6.0
    speed_cv: float = 0.15
    dwell_s: float = 8.0
    board_s: float = 3.0
    arrivals_per_s: float = 0.006
    vehicles: int = 6
    warmup_s: float = 3600.0
    hours: float = 3.0

    @property
    def run_s(self) -> float:
        return self.spacing_m / self.speed_mps

    @property
    def headway_s(self) -> int:
        k = self.stops * self.board_s * self.arrivals_per_s / self.vehicles
        cycle = self.stops * (self.run_s + self.dwell_s) / (1.0 - k)
        return round(cycle / self.vehicles)

    def where(self, s: float) -> tuple[float, float]:
        """(lat, lon) at ``s`` metres along the loop."""
        length = self.stops * self.spacing_m
        radius = length / (2.0 * math.pi)
        angle = 2.0 * math.pi * (s % length) / length
        lat = CENTRE[0] + radius * math.cos(angle) / 111_320.0
        lon = CENTRE[1] + radius * math.sin(angle) / (111_320.0 * math.cos(math.radians(lat)))
        return lat, lon


def loop_feed(params: LoopParams, folder: Path) -> TransitFeed:
    """One loop pattern (stop 0 round to stop 0), every headway from 06:00 for 5 h."""
    h = params.headway_s
    hop = round(params.run_s + params.dwell_s + params.board_s * params.arrivals_per_s * h)
    stops = "".join(
        f"s{j},Stop {j},{params.where(j * params.spacing_m)[0]:.6f},"
        f"{params.where(j * params.spacing_m)[1]:.6f}\n"
        for j in range(params.stops)
    )
    times = "".join(
        f"loop,{format_time(21600 + i * hop)},{format_time(21600 + i * hop)},"
        f"s{i % params.stops},{i + 1}\n"
        for i in range(params.stops + 1)
    )
    files = {
        "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\n"
        "T,Loop,https://example.org,Europe/Berlin\n",
        "stops.txt": "stop_id,stop_name,stop_lat,stop_lon\n" + stops,
        "routes.txt": "route_id,agency_id,route_short_name,route_long_name,route_type\n"
        "O,T,O,Loop,3\n",
        "trips.txt": "route_id,service_id,trip_id\nO,WK,loop\n",
        "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n" + times,
        "calendar.txt": "service_id,monday,tuesday,wednesday,thursday,friday,saturday,"
        "sunday,start_date,end_date\nWK,1,1,1,1,1,1,1,20240101,20241231\n",
        "frequencies.txt": "trip_id,start_time,end_time,headway_secs,exact_times\n"
        f"loop,06:00:00,11:00:00,{h},0\n",
    }
    return read_gtfs(write_zip(folder / "loop.zip", files))


@dataclass
class _Bus:
    id: str
    start: float
    s: float = 0.0
    next_stop: int = 0
    at_stop: bool = True
    leave_at: float = 0.0
    hold_until: float = 0.0
    pending_hold_s: float = 0.0
    speed: float = 0.0


@dataclass
class LoopResult:
    departures: dict[int, list[float]] = field(default_factory=dict)
    holds: int = 0
    held_s: float = 0.0

    def cv(self) -> float:
        return statistics.fmean(headway_cv(t) for t in self.departures.values() if len(t) > 2)


class _Obeying:
    """The command service, as far as holds go: the vehicle stays at its stop."""

    def __init__(self, line: _Line) -> None:
        self._line = line
        self.count = 0

    async def submit(
        self,
        vehicle_id: str,
        request: CommandRequest,
        issued_by: str = "",
        idempotency_key: str | None = None,
    ) -> tuple[Command, bool]:
        assert request.kind is CommandKind.HOLD
        self._line.hold(vehicle_id, request.params.duration_s)
        self.count += 1
        command = Command(
            id=f"c{self.count}", vehicle_id=vehicle_id, manufacturer="sim",
            kind=request.kind, params=request.params, status=CommandStatus.ACCEPTED,
            created_at=0.0, expires_at=0.0, updated_at=0.0,
        )  # fmt: skip
        return command, True


class _Line:
    def __init__(self, params: LoopParams, seed: int, starts: dict[str, float]) -> None:
        self.p = params
        self.rng = np.random.default_rng(seed)
        self.now = min(starts.values()) - 60.0
        self.buses = {v: _Bus(v, t, leave_at=t) for v, t in starts.items()}
        self.waiting = [0] * params.stops
        self.result = LoopResult({j: [] for j in range(params.stops)})
        self.measure_from = self.now + params.warmup_s
        sigma = math.sqrt(math.log(1.0 + params.speed_cv**2))
        self._mu, self._sigma = math.log(params.speed_mps) - sigma**2 / 2.0, sigma

    def hold(self, vehicle_id: str, seconds: float) -> None:
        bus = self.buses[vehicle_id]
        self.result.holds += 1
        self.result.held_s += seconds
        if bus.at_stop:
            bus.hold_until = max(bus.hold_until, self.now + seconds)
        else:
            bus.pending_hold_s = seconds  # for the stop it is pulling into

    def tick(self) -> None:
        self.now += 1.0
        p = self.p
        for j in range(p.stops):
            self.waiting[j] += int(self.rng.poisson(p.arrivals_per_s))
        for bus in self.buses.values():
            if bus.at_stop:
                if self.now < max(bus.leave_at, bus.hold_until):
                    continue
                stop = bus.next_stop % p.stops
                if self.now >= self.measure_from:
                    self.result.departures[stop].append(self.now)
                bus.at_stop = False
                bus.next_stop += 1
                bus.speed = float(self.rng.lognormal(self._mu, self._sigma))
                continue
            bus.s += bus.speed
            target = bus.next_stop * p.spacing_m
            if bus.s >= target:
                bus.s = target
                bus.at_stop = True
                stop = bus.next_stop % p.stops
                boarding = self.waiting[stop]
                self.waiting[stop] = 0
                bus.leave_at = self.now + p.dwell_s + p.board_s * boarding
                bus.hold_until = self.now + bus.pending_hold_s
                bus.pending_hold_s = 0.0

    def states(self) -> dict[str, VehicleState]:
        out = {}
        for bus in self.buses.values():
            lat, lon = self.p.where(bus.s)
            out[bus.id] = VehicleState(
                id=bus.id, manufacturer="sim", ts=self.now, last_seen=self.now, x=0.0,
                y=0.0, lat=lat, lon=lon, heading_rad=0.0, speed_mps=0.0, battery_pct=90.0,
                charging=False, driving=not bus.at_stop, status=VehicleStatus.DRIVING,
            )  # fmt: skip
        return out


class _Live:
    def __init__(self, line: _Line) -> None:
        self._line = line

    async def get_many(self, vehicle_ids: list[str]) -> list[VehicleState | None]:
        states = self._line.states()
        return [states.get(v) for v in vehicle_ids]


async def run_loop(params: LoopParams, seed: int, control: bool) -> LoopResult:
    with tempfile.TemporaryDirectory() as folder:
        feed = loop_feed(params, Path(folder))
    day_start = service_day_start(DAY, feed.timezone)
    clock_box = [day_start + 6 * 3600.0 - 60.0]
    config = FixedRouteConfig(board_interval_s=3600.0)
    vehicle_ids = [f"v{i}" for i in range(params.vehicles + 1)]
    probe = FixedRouteService(feed, _NoLive(), None, config=config, clock=lambda: clock_box[0])
    plan = probe.start_day(DAY, vehicle_ids)
    starts = {v: day_start + blocks[0].start_s for v, blocks in plan.items() if blocks}
    line = _Line(params, seed, starts)
    line.now = clock_box[0]
    commands = _Obeying(line) if control else None
    service = FixedRouteService(feed, _Live(line), commands, config=config, clock=lambda: line.now)
    service.start_day(DAY, vehicle_ids)
    end = line.measure_from + params.hours * 3600.0
    while line.now < end:
        line.tick()
        await service.step()
    return line.result


class _NoLive:
    async def get_many(self, vehicle_ids: list[str]) -> list[VehicleState | None]:
        return [None for _ in vehicle_ids]


def main() -> None:
    params = LoopParams()
    print(
        f"loop of {params.stops} stops, {len(loop_feed(params, Path(tempfile.mkdtemp())).trips)}"
        f" pattern, headway {params.headway_s} s, {params.hours:g} h measured after "
        f"{params.warmup_s / 3600:g} h, holds through FixedRouteService"
    )
    print(f"{'seed':>4} {'CV no control':>14} {'CV holding':>11} {'holds':>6} {'mean hold':>10}")
    for seed in range(5):
        free = asyncio.run(run_loop(params, seed, control=False))
        held = asyncio.run(run_loop(params, seed, control=True))
        mean = held.held_s / max(1, held.holds)
        print(f"{seed:>4} {free.cv():>14.3f} {held.cv():>11.3f} {held.holds:>6} {mean:>9.0f}s")


if __name__ == "__main__":
    main()
