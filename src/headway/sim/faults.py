"""Faults a simulated vehicle can suffer, random or injected, and how long they last.

Each fault is a countdown in simulated seconds. The vehicle reads the active set to
decide whether it may move; the fleet reads it to decide whether to publish and whether
the MQTT link should be up. Random faults draw from their own random stream, so they
never shift a vehicle's route decisions.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Literal, get_args

from headway.contracts.vda5050 import Error, EStop, Reference
from headway.sim.config import FaultRates

FaultKind = Literal[
    "estop", "sensor_warning", "drive_fault", "radio_silence", "connection_lost", "clear"
]
FAULT_KINDS: tuple[FaultKind, ...] = get_args(FaultKind)

SENSOR_WARNING = "lidarDegraded"
DRIVE_FAULT = "driveFault"
BATTERY_DEPLETED = "batteryDepleted"


@dataclass(slots=True)
class ActiveFaults:
    estop: EStop = "NONE"
    estop_left: float = 0.0
    errors: dict[str, tuple[Error, float]] = field(default_factory=dict)
    """Active errors by type, with their remaining time (``inf`` until cleared)."""
    radio_silence_left: float = 0.0
    connection_lost_left: float = 0.0

    @property
    def immobilised(self) -> bool:
        """E-stop or a FATAL error: the vehicle must stand still."""
        if self.estop != "NONE":
            return True
        return any(error.error_level == "FATAL" for error, _ in self.errors.values())

    @property
    def silent(self) -> bool:
        return self.radio_silence_left > 0.0 or self.connection_lost_left > 0.0

    @property
    def link_down(self) -> bool:
        return self.connection_lost_left > 0.0

    def error_list(self) -> list[Error]:
        return [error for error, _ in self.errors.values()]

    def start(self, kind: FaultKind, duration_s: float, node_id: str) -> bool:
        """Begin a fault; returns True if the vehicle's reported state changed."""
        if kind == "clear":
            changed = self.estop != "NONE" or bool(self.errors)
            self.estop, self.estop_left = "NONE", 0.0
            self.errors.clear()
            self.radio_silence_left = 0.0
            self.connection_lost_left = 0.0
            return changed
        if kind == "estop":
            if self.estop == "NONE":
                self.estop = "AUTOACK" if duration_s < 60.0 else "REMOTE"
            self.estop_left = max(self.estop_left, duration_s)
            return True
        if kind == "sensor_warning":
            self._raise(SENSOR_WARNING, "WARNING", duration_s, node_id)
            return True
        if kind == "drive_fault":
            self._raise(DRIVE_FAULT, "FATAL", duration_s, node_id)
            return True
        if kind == "radio_silence":
            self.radio_silence_left = max(self.radio_silence_left, duration_s)
            return False
        self.connection_lost_left = max(self.connection_lost_left, duration_s)
        return False

    def raise_depleted(self, node_id: str) -> None:
        self._raise(BATTERY_DEPLETED, "FATAL", math.inf, node_id)

    def tick(self, dt: float) -> bool:
        """Count down; returns True if the vehicle's reported state changed."""
        changed = False
        if self.estop != "NONE":
            self.estop_left -= dt
            if self.estop_left <= 0.0:
                self.estop, self.estop_left = "NONE", 0.0
                changed = True
        if self.errors:
            for kind, (error, left) in list(self.errors.items()):
                if left - dt <= 0.0:
                    del self.errors[kind]
                    changed = True
                else:
                    self.errors[kind] = (error, left - dt)
        if self.radio_silence_left > 0.0:
            self.radio_silence_left = max(self.radio_silence_left - dt, 0.0)
        if self.connection_lost_left > 0.0:
            self.connection_lost_left = max(self.connection_lost_left - dt, 0.0)
        return changed

    def _raise(
        self, error_type: str, level: Literal["WARNING", "FATAL"], left: float, node: str
    ) -> None:
        description = _DESCRIPTIONS[error_type]
        error = Error(
            error_type=error_type,
            error_level=level,
            error_references=[Reference(reference_key="nodeId", reference_value=node)],
            error_description=description[0],
            error_hint=description[1],
        )
        previous = self.errors.get(error_type)
        self.errors[error_type] = (error, max(left, previous[1] if previous else 0.0))


_DESCRIPTIONS = {
    SENSOR_WARNING: (
        "front lidar returns degraded; speed limited by the safety controller",
        "clean the lidar window at the next depot visit",
    ),
    DRIVE_FAULT: (
        "traction inverter fault; vehicle immobilised",
        "send a service crew; the vehicle cannot move until the fault is cleared",
    ),
    BATTERY_DEPLETED: (
        "traction battery empty; vehicle stranded",
        "tow the vehicle to a charger",
    ),
}


class FaultDice:
    """Draws random faults as independent Poisson processes, one random stream per vehicle."""

    def __init__(self, rates: FaultRates, rng: random.Random) -> None:
        self._rates = rates
        self._rng = rng
        self._kinds: tuple[tuple[FaultKind, float, tuple[float, float]], ...] = (
            ("estop", rates.estop_per_hour, rates.estop_s),
            ("sensor_warning", rates.sensor_warning_per_hour, rates.sensor_warning_s),
            ("drive_fault", rates.drive_fault_per_hour, rates.drive_fault_s),
            ("radio_silence", rates.radio_silence_per_hour, rates.radio_silence_s),
            ("connection_lost", rates.connection_lost_per_hour, rates.connection_lost_s),
        )
        self._total = rates.total_per_hour / 3600.0

    def roll(self, dt: float) -> tuple[FaultKind, float] | None:
        """The fault that starts within the next ``dt`` seconds, with its duration, if any."""
        if self._total <= 0.0 or self._rng.random() >= -math.expm1(-self._total * dt):
            return None
        pick = self._rng.random() * self._rates.total_per_hour
        for kind, rate, (low, high) in self._kinds:
            if pick < rate:
                return kind, self._rng.uniform(low, high)
            pick -= rate
        kind, _, (low, high) = self._kinds[-1]
        return kind, self._rng.uniform(low, high)
