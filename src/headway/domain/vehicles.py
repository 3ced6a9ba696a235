"""A vehicle's live state: what the fleet looks like right now.

States are immutable: the stream fold builds a new one for every event it applies, so
readers (API, live feed) never see a half-applied update.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class VehicleStatus(StrEnum):
    DRIVING = "driving"
    IDLE = "idle"
    CHARGING = "charging"
    OFFLINE = "offline"
    FAULT = "fault"


class AlertKind(StrEnum):
    LOW_BATTERY = "low_battery"
    OFFLINE = "offline"
    ESTOP = "estop"
    FAULT = "fault"


@dataclass(frozen=True, slots=True)
class VehicleState:
    """Everything the platform knows about one vehicle now.

    ``ts`` is the vehicle's own clock for the newest telemetry applied; the fold never
    lets it go backwards. ``last_seen`` is the platform's clock when that telemetry
    arrived, used to notice silence.
    """

    id: str
    manufacturer: str
    ts: float
    last_seen: float
    x: float
    y: float
    lat: float
    lon: float
    heading_rad: float
    speed_mps: float
    battery_pct: float
    charging: bool
    driving: bool
    status: VehicleStatus
    occupancy: int = 0
    capacity: int = 0
    segment: int | None = None
    connection: str = "ONLINE"
    stale: bool = False
    estop: str = "NONE"
    errors: tuple[str, ...] = ()
    fatal: bool = False
    order_id: str = ""
    last_node_id: str = ""
    map_id: str = ""
    alerts: frozenset[AlertKind] = field(default_factory=frozenset)


def derive_status(
    *, connection: str, stale: bool, estop: str, fatal: bool, charging: bool, driving: bool
) -> VehicleStatus:
    """One status per vehicle, the most urgent first: offline, fault, charging, driving, idle."""
    if connection != "ONLINE" or stale:
        return VehicleStatus.OFFLINE
    if estop != "NONE" or fatal:
        return VehicleStatus.FAULT
    if charging:
        return VehicleStatus.CHARGING
    if driving:
        return VehicleStatus.DRIVING
    return VehicleStatus.IDLE
