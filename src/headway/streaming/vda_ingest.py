"""Edge validation: one MQTT message from a vehicle in, one Headway event out, or a reason.

Pure: the bridge runner calls it for every message and sends rejections to the dead
letters. Every ``InvalidMessage.reason`` is a short stable label, used as a metric label.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import msgspec

from headway.contracts import vda5050
from headway.contracts.events import (
    ActionProgress,
    Capability,
    ConnectionChanged,
    ErrorReport,
    Event,
    Progress,
    Telemetry,
)
from headway.domain.errors import InvalidMessage

MAX_PAYLOAD_BYTES = 64 * 1024
MAX_CLOCK_AHEAD_S = 300.0
SUBSCRIPTIONS = ("state", "visualization", "connection", "factsheet")


def decode_vehicle_message(
    topic: str,
    payload: bytes,
    received_at: float,
    is_known: Callable[[str, str], bool],
    max_bytes: int = MAX_PAYLOAD_BYTES,
) -> Event:
    """Validate and normalise; raises InvalidMessage with the reason."""
    if len(payload) > max_bytes:
        raise InvalidMessage("oversized", f"{len(payload)} bytes > {max_bytes}")
    parts = vda5050.parse_topic(topic)
    if parts is None:
        raise InvalidMessage("bad_topic", topic)
    manufacturer, serial, kind = parts
    if not is_known(manufacturer, serial):
        raise InvalidMessage("unknown_vehicle", f"{manufacturer}/{serial}")
    try:
        if kind == "state":
            return _state(vda5050.state_decoder.decode(payload), serial, received_at)
        if kind == "visualization":
            return _visualization(
                vda5050.visualization_decoder.decode(payload), manufacturer, serial, received_at
            )
        if kind == "connection":
            return _connection(vda5050.connection_decoder.decode(payload), serial, received_at)
        if kind == "factsheet":
            return _factsheet(payload, manufacturer, serial, received_at)
    except msgspec.ValidationError as exc:
        raise InvalidMessage("schema", str(exc)) from None
    except msgspec.DecodeError as exc:
        raise InvalidMessage("malformed_json", str(exc)) from None
    raise InvalidMessage("bad_topic", f"no such message type {kind!r}")


def _check_serial(payload_serial: str | None, serial: str) -> None:
    if payload_serial is not None and payload_serial != serial:
        raise InvalidMessage(
            "serial_mismatch", f"topic says {serial!r}, payload {payload_serial!r}"
        )


def _timestamp(text: str | None, received_at: float) -> float:
    if text is None:
        return received_at
    try:
        ts = vda5050.parse_timestamp(text)
    except ValueError:
        raise InvalidMessage("bad_timestamp", text) from None
    if ts > received_at + MAX_CLOCK_AHEAD_S:
        raise InvalidMessage("clock_ahead", f"{text} is {ts - received_at:.0f} s in the future")
    return ts


def _position(pos: vda5050.AgvPosition) -> tuple[float, float, float]:
    if not (math.isfinite(pos.x) and math.isfinite(pos.y) and math.isfinite(pos.theta)):
        raise InvalidMessage("schema", "agvPosition has a non-finite coordinate")
    return pos.x, pos.y, pos.theta


def _speed(velocity: vda5050.Velocity | None) -> float | None:
    if velocity is None or velocity.vx is None or velocity.vy is None:
        return None
    return math.hypot(velocity.vx, velocity.vy)


def _state(msg: vda5050.State, serial: str, received_at: float) -> Telemetry:
    _check_serial(msg.serial_number, serial)
    if msg.agv_position is None or not msg.agv_position.position_initialized:
        raise InvalidMessage("no_position", "state without an initialised agvPosition")
    x, y, theta = _position(msg.agv_position)
    seats = sum(1 for load in msg.loads or () if load.load_type == "passenger")
    return Telemetry(
        vehicle_id=serial,
        manufacturer=msg.manufacturer,
        ts=_timestamp(msg.timestamp, received_at),
        received_at=received_at,
        x=x,
        y=y,
        theta=theta,
        map_id=msg.agv_position.map_id,
        speed_mps=_speed(msg.velocity),
        full=True,
        battery_pct=msg.battery_state.battery_charge,
        charging=msg.battery_state.charging,
        driving=msg.driving,
        estop=msg.safety_state.e_stop,
        errors=tuple(f"{e.error_level}:{e.error_type}" for e in msg.errors),
        fatal=any(e.error_level == "FATAL" for e in msg.errors),
        occupancy=seats,
        order_id=msg.order_id,
        last_node_id=msg.last_node_id,
        progress=_progress(msg),
    )


def _progress(msg: vda5050.State) -> Progress | None:
    """What the commander needs from a state; None for a vehicle with nothing to report."""
    referenced = [e for e in msg.errors if e.error_references]
    if not (msg.order_id or msg.action_states or referenced):
        return None
    pending = [n.sequence_id for n in msg.node_states]
    return Progress(
        order_update_id=msg.order_update_id,
        last_node_sequence_id=msg.last_node_sequence_id,
        next_node_sequence_id=min(pending) if pending else -1,
        horizon=any(not n.released for n in msg.node_states),
        paused=bool(msg.paused),
        actions=tuple(
            ActionProgress(a.action_id, a.action_status, a.result_description or "")
            for a in msg.action_states
        ),
        errors=tuple(
            ErrorReport(
                e.error_type,
                e.error_level,
                tuple((r.reference_key, r.reference_value) for r in e.error_references or ()),
                e.error_description or "",
            )
            for e in referenced
        ),
    )


def _visualization(
    msg: vda5050.Visualization, manufacturer: str, serial: str, received_at: float
) -> Telemetry:
    _check_serial(msg.serial_number, serial)
    if msg.agv_position is None or not msg.agv_position.position_initialized:
        raise InvalidMessage("no_position", "visualization without an initialised agvPosition")
    x, y, theta = _position(msg.agv_position)
    return Telemetry(
        vehicle_id=serial,
        manufacturer=manufacturer,
        ts=_timestamp(msg.timestamp, received_at),
        received_at=received_at,
        x=x,
        y=y,
        theta=theta,
        map_id=msg.agv_position.map_id,
        speed_mps=_speed(msg.velocity),
    )


def _connection(msg: vda5050.Connection, serial: str, received_at: float) -> ConnectionChanged:
    _check_serial(msg.serial_number, serial)
    return ConnectionChanged(
        vehicle_id=serial,
        manufacturer=msg.manufacturer,
        ts=_timestamp(msg.timestamp, received_at),
        received_at=received_at,
        state=msg.connection_state,
    )


class _LoadSpecification(msgspec.Struct, rename="camel"):
    load_positions: list[str] | None = None


class _FactsheetHead(msgspec.Struct, rename="camel"):
    """Only what the platform reads from a factsheet; the rest is kept by the vehicle."""

    manufacturer: str
    serial_number: str
    load_specification: _LoadSpecification
    timestamp: str | None = None


_factsheet_decoder = msgspec.json.Decoder(_FactsheetHead)


def _factsheet(payload: bytes, manufacturer: str, serial: str, received_at: float) -> Capability:
    msg = _factsheet_decoder.decode(payload)
    _check_serial(msg.serial_number, serial)
    seats = msg.load_specification.load_positions or []
    return Capability(
        vehicle_id=serial,
        manufacturer=manufacturer,
        ts=_timestamp(msg.timestamp, received_at),
        received_at=received_at,
        capacity=len(seats),
    )
