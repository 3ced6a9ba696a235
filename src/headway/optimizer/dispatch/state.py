"""The engine's own records of vehicles, their stops and rides (mutable, internal)."""

from __future__ import annotations

from dataclasses import dataclass, field

from headway.optimizer.dispatch.charging import Slot
from headway.optimizer.dispatch.model import RidePhase, RideRequest, StopKind, VehicleSnapshot

RIDE_STOPS = (StopKind.PICK, StopKind.DROP)


@dataclass(slots=True)
class Stop:
    kind: StopKind
    node: int
    ride: str | None = None
    charger: int = -1
    slot: Slot | None = None
    leg_from: int = -1  # the node the cached leg was computed from
    leg: float = 0.0


@dataclass(slots=True)
class Vehicle:
    snap: VehicleSnapshot
    row: int
    stops: list[Stop] = field(default_factory=list)
    onboard: dict[str, int] = field(default_factory=dict)
    idle_since_s: float = 0.0

    @property
    def id(self) -> str:
        return self.snap.id

    def ride_stops(self) -> list[Stop]:
        return [s for s in self.stops if s.kind in RIDE_STOPS]

    def tail_stop(self) -> Stop | None:
        """The charge, rebalancing or depot stop that ends the plan, if any."""
        if self.stops and self.stops[-1].kind not in RIDE_STOPS:
            return self.stops[-1]
        return None

    def bound_for(self, kind: StopKind) -> bool:
        tail = self.tail_stop()
        return tail is not None and tail.kind == kind


@dataclass(slots=True)
class Ride:
    request: RideRequest
    direct_s: float
    max_ride_s: float
    window: tuple[float, float]
    phase: RidePhase
    vehicle: str | None
    expires_s: float
    picked_up_s: float | None = None
    dropped_off_s: float | None = None

    @property
    def id(self) -> str:
        return self.request.id

    @property
    def dropoff_latest_s(self) -> float:
        start = self.window[1] if self.picked_up_s is None else self.picked_up_s
        return start + self.max_ride_s
