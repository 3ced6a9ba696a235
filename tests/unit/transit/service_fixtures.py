"""A frequency line for the fixed-route service's tests, fake live states and a fake
command service that records what it was asked."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from headway.adapters.gtfs_feed import read_gtfs
from headway.domain.commands import Command, CommandStatus
from headway.domain.errors import HeadwayError
from headway.domain.transit import TransitFeed
from headway.domain.vehicles import VehicleState, VehicleStatus
from headway.services.commands.service import CommandRequest
from headway.services.fixed_routes import service_day_start
from tests.unit.transit.feeds import VALID, write_zip

DAY = dt.date(2024, 1, 2)
# Line F: A -> B -> C, five minutes a hop, every 300 s from 09:00 to 10:00, no fixed times.
LINE = dict(
    VALID,
    **{
        "routes.txt": VALID["routes.txt"] + "F,T,F,Frequent line,3\n",
        "trips.txt": VALID["trips.txt"] + "F,WK,f,0,,\n",
        "stop_times.txt": VALID["stop_times.txt"]
        + "f,09:00:00,09:00:00,A,1,1\nf,09:05:00,09:05:00,B,2,1\nf,09:10:00,09:10:00,C,3,1\n",
        "frequencies.txt": "trip_id,start_time,end_time,headway_secs,exact_times\n"
        "f,09:00:00,09:59:00,300,0\n",
    },
)
WHERE = {"A": (49.41, 8.69), "B": (49.41, 8.70), "C": (49.41, 8.71), "between": (49.41, 8.695)}


def line_feed(tmp_path: Path) -> TransitFeed:
    return read_gtfs(write_zip(tmp_path / "line.zip", LINE))


def at(hhmm: str) -> float:
    h, m = (int(x) for x in hhmm.split(":"))
    return service_day_start(DAY, "Europe/Berlin") + h * 3600 + m * 60


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class FakeLive:
    states: dict[str, VehicleState] = field(default_factory=dict)

    async def get_many(self, vehicle_ids: Sequence[str]) -> list[VehicleState | None]:
        return [self.states.get(v) for v in vehicle_ids]

    def put(self, vehicle_id: str, place: str, ts: float) -> None:
        lat, lon = WHERE[place]
        self.states[vehicle_id] = VehicleState(
            id=vehicle_id, manufacturer="test", ts=ts, last_seen=ts, x=0.0, y=0.0,
            lat=lat, lon=lon, heading_rad=0.0, speed_mps=0.0, battery_pct=80.0,
            charging=False, driving=True, status=VehicleStatus.DRIVING,
        )  # fmt: skip


@dataclass
class FakeCommands:
    sent: list[tuple[str, CommandRequest, str, str | None]] = field(default_factory=list)
    refuse: bool = False

    async def submit(
        self,
        vehicle_id: str,
        request: CommandRequest,
        issued_by: str = "",
        idempotency_key: str | None = None,
    ) -> tuple[Command, bool]:
        if self.refuse:
            raise HeadwayError("refused for the test")
        self.sent.append((vehicle_id, request, issued_by, idempotency_key))
        command = Command(
            id=f"c{len(self.sent)}", vehicle_id=vehicle_id, manufacturer="test",
            kind=request.kind, params=request.params, status=CommandStatus.ACCEPTED,
            created_at=0.0, expires_at=0.0, updated_at=0.0,
        )  # fmt: skip
        return command, True
