"""API models: the JSON the API speaks, kept apart from domain objects."""

from __future__ import annotations

import math

from pydantic import BaseModel, Field

from headway.contracts.events import DeadLetter
from headway.domain.alerts import Alert
from headway.domain.vehicles import VehicleState


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    role: str


class VehicleOut(BaseModel):
    id: str
    manufacturer: str
    lat: float
    lon: float
    x: float
    y: float
    heading_deg: float = Field(
        description="compass bearing of travel, degrees clockwise from north"
    )
    speed_mps: float
    battery_pct: float
    status: str
    charging: bool
    driving: bool
    occupancy: int
    capacity: int
    segment: int | None = Field(description="road edge id, as in the network's 'edges'")
    connection: str
    estop: str
    errors: list[str]
    order_id: str
    last_node_id: str
    map_id: str
    ts: float = Field(description="vehicle clock of the newest telemetry, unix seconds")
    last_seen: float = Field(description="platform clock when it arrived, unix seconds")
    alerts: list[str]


class VehiclePage(BaseModel):
    items: list[VehicleOut]
    next_cursor: str | None = Field(description="pass as 'cursor' for the next page")


class NearbyVehicle(BaseModel):
    vehicle: VehicleOut
    distance_m: float


class NearbyPage(BaseModel):
    items: list[NearbyVehicle]


class TrackPoint(BaseModel):
    ts: float
    lat: float
    lon: float
    speed_mps: float
    battery_pct: float
    status: str


class TrackOut(BaseModel):
    vehicle_id: str
    points: list[TrackPoint]


class AlertOut(BaseModel):
    id: str
    vehicle_id: str
    kind: str
    severity: str
    message: str
    raised_at: float
    cleared_at: float | None


class AlertPage(BaseModel):
    items: list[AlertOut]


class DeadLetterOut(BaseModel):
    source: str
    reason: str
    detail: str
    received_at: float
    topic: str
    payload_excerpt: str


class DeadLetterPage(BaseModel):
    counts: dict[str, int]
    items: list[DeadLetterOut]


class VehicleRegistration(BaseModel):
    manufacturer: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._-]+$")
    serial_number: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._-]+$")


def vehicle_dict(s: VehicleState) -> dict[str, object]:
    """The wire form of a vehicle; also used by the live feed, so built without pydantic."""
    return {
        "id": s.id,
        "manufacturer": s.manufacturer,
        "lat": round(s.lat, 7),
        "lon": round(s.lon, 7),
        "x": round(s.x, 2),
        "y": round(s.y, 2),
        "heading_deg": compass_deg(s.heading_rad),
        "speed_mps": round(s.speed_mps, 2),
        "battery_pct": round(s.battery_pct, 1),
        "status": s.status.value,
        "charging": s.charging,
        "driving": s.driving,
        "occupancy": s.occupancy,
        "capacity": s.capacity,
        "segment": s.segment,
        "connection": s.connection,
        "estop": s.estop,
        "errors": list(s.errors),
        "order_id": s.order_id,
        "last_node_id": s.last_node_id,
        "map_id": s.map_id,
        "ts": s.ts,
        "last_seen": s.last_seen,
        "alerts": sorted(a.value for a in s.alerts),
    }


def compass_deg(theta_rad: float) -> float:
    """VDA 5050's theta (counter-clockwise from the map's x axis, east) as a bearing."""
    return round((90.0 - math.degrees(theta_rad)) % 360.0, 1)


def alert_dict(a: Alert) -> dict[str, object]:
    return {
        "id": a.id,
        "vehicle_id": a.vehicle_id,
        "kind": a.kind.value,
        "severity": a.severity,
        "message": a.message,
        "raised_at": a.raised_at,
        "cleared_at": a.cleared_at,
    }


def dead_letter_out(d: DeadLetter) -> DeadLetterOut:
    return DeadLetterOut(
        source=d.source,
        reason=d.reason,
        detail=d.detail,
        received_at=d.received_at,
        topic=d.topic,
        payload_excerpt=d.payload[:300].decode("utf-8", "replace"),
    )
