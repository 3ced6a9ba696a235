"""The state of one simulated shuttle: where it is, what it does, who rides, its battery.

Behaviour (choosing where to go, charging, reacting to faults) lives in
:mod:`headway.sim.model`; this module only holds the state and the few operations on it
that need nothing but the vehicle itself.
"""

from __future__ import annotations

import math
import random
from collections import deque
from dataclasses import dataclass, field
from enum import Enum

from headway.contracts.vda5050 import Error
from headway.sim.config import VehicleSpec
from headway.sim.faults import ActiveFaults, FaultDice
from headway.sim.motion import Leg
from headway.sim.orders import ActionRun, OrderRun
from headway.sim.roads import Place


class Activity(Enum):
    DWELLING = "dwelling"
    DRIVING = "driving"
    QUEUED = "queued"
    """Waiting at a charger for a free plug."""
    CHARGING = "charging"
    ACTING = "acting"
    """Doing the actions of an order node (doors, passengers, hold, charging)."""
    IDLE = "idle"
    """Under the platform's control with nothing to do: waits for an order or update."""


class TargetKind(Enum):
    STOP = "stop"
    CHARGER = "charger"


def serial_number(index: int) -> str:
    """Serial numbers are ``v0001``, ``v0002``, ... in fleet order."""
    return f"v{index + 1:04d}"


@dataclass(slots=True, eq=False)
class Vehicle:
    index: int
    serial: str
    spec: VehicleSpec
    capacity: int
    rng: random.Random
    """Decisions (targets, passengers, dwell times): one stream, consumed in event order."""
    dice: FaultDice | None
    place: Place
    node: int
    battery_kwh: float
    activity: Activity = Activity.DWELLING
    dwell_left: float = 0.0
    leg: Leg | None = None
    target: Place | None = None
    target_kind: TargetKind = TargetKind.STOP
    needs_charge: bool = False
    charger: int | None = None
    """Index of the charger the vehicle is queued at or plugged into."""
    charge_goal_pct: float | None = None
    """Charge to this, as an order's startCharging asked (None: the spec's target)."""
    heading: float = 0.0
    odometer_m: float = 0.0
    faults: ActiveFaults = field(default_factory=ActiveFaults)
    seats: dict[int, str] = field(default_factory=dict)
    """Occupied seat number (1-based) to passenger id."""
    passengers_served: int = 0
    targets: deque[str] = field(default_factory=lambda: deque(maxlen=64))
    """The most recent route targets chosen, oldest first (for tests and logs)."""
    urgent: bool = False
    """Set when something important changed: the fleet publishes state at once."""
    order: OrderRun | None = None
    """The order taken over last (kept when done: its id stays in the state)."""
    commanded: bool = False
    """Took an order once: from then on it waits for orders instead of roaming."""
    paused: bool = False
    hold: ActionRun | None = None
    """An instant hold, waiting for the vehicle to stand at a node or running."""
    cancelling: ActionRun | None = None
    """A cancelOrder running until the vehicle has stopped at the next node."""
    instant_states: deque[ActionRun] = field(default_factory=lambda: deque(maxlen=16))
    """The latest instant actions, reported across orders so none is missed."""
    seen_actions: dict[str, None] = field(default_factory=dict)
    """Instant action ids already taken (bounded): a resend is not done twice."""
    order_errors: list[Error] = field(default_factory=list)
    """Refusals, reported until the next order is taken over (VDA 5050 6.6.4)."""
    leg_reach: tuple[int, ...] = ()
    """Per edge of the current leg: the order node sequenceId reached at its end, or -1."""
    leg_done: int = 0
    """Edges of the current leg already accounted for in the order's node states."""
    applied: list[str] = field(default_factory=list)
    """What took effect, in order: ``order:<id>:<update>`` and ``action:<id>`` (tests)."""

    @property
    def battery_pct(self) -> float:
        return min(max(100.0 * self.battery_kwh / self.spec.battery_kwh, 0.0), 100.0)

    @property
    def reach_m(self) -> float:
        return max(self.battery_kwh, 0.0) / self.spec.consumption_kwh_per_km * 1000.0

    @property
    def speed(self) -> float:
        return self.leg.v if self.leg is not None and self.activity is Activity.DRIVING else 0.0

    @property
    def driving(self) -> bool:
        return self.speed > 0.0

    @property
    def charging(self) -> bool:
        return self.activity is Activity.CHARGING

    @property
    def last_node(self) -> int:
        return self.leg.last_node if self.leg is not None else self.node

    def consume(self, distance_m: float) -> None:
        self.odometer_m += distance_m
        energy = distance_m * self.spec.consumption_kwh_per_km / 1000.0
        self.battery_kwh = max(self.battery_kwh - energy, 0.0)

    def alight(self, count: int) -> None:
        for seat in self.rng.sample(sorted(self.seats), min(count, len(self.seats))):
            del self.seats[seat]

    def board(self, count: int) -> None:
        free = (seat for seat in range(1, self.capacity + 1) if seat not in self.seats)
        for seat, _ in zip(free, range(count), strict=False):
            self.passengers_served += 1
            self.seats[seat] = f"{self.serial}-p{self.passengers_served}"

    @property
    def free_seats(self) -> int:
        return self.capacity - len(self.seats)


def normalise_angle(theta: float) -> float:
    """An angle in (-pi, pi]."""
    wrapped = math.remainder(theta, math.tau)
    return math.pi if wrapped == -math.pi else wrapped
