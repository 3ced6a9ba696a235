"""Events on Headway's event log (in-process log or Kafka), encoded with msgpack.

The bridge turns validated VDA 5050 messages into these; the processor folds them.
Keyed by vehicle id so one vehicle's events stay in order on one partition.
"""

from __future__ import annotations

import msgspec

TELEMETRY_TOPIC = "headway.telemetry"
DEAD_LETTER_TOPIC = "headway.deadletter"


class ActionProgress(msgspec.Struct, array_like=True, omit_defaults=True):
    action_id: str
    status: str
    result: str = ""


class ErrorReport(msgspec.Struct, array_like=True, omit_defaults=True):
    """A vehicle error that names what it is about (an order, an update, an action)."""

    error_type: str
    level: str
    references: tuple[tuple[str, str], ...] = ()
    description: str = ""


class Progress(msgspec.Struct, array_like=True, omit_defaults=True):
    """How the vehicle is getting on with its order and actions: what the commander
    reads to acknowledge, track and end commands (see docs/commands.md)."""

    order_update_id: int = 0
    last_node_sequence_id: int = 0
    next_node_sequence_id: int = -1
    """The lowest sequenceId still in nodeStates; -1 when nodeStates is empty."""
    horizon: bool = False
    """Unreleased nodes remain: the vehicle waits for an update at the decision point."""
    paused: bool = False
    actions: tuple[ActionProgress, ...] = ()
    errors: tuple[ErrorReport, ...] = ()


class Telemetry(msgspec.Struct, tag="telemetry", array_like=True, omit_defaults=True):
    """A position report, from ``state`` (full) or ``visualization`` (position only)."""

    vehicle_id: str
    manufacturer: str
    ts: float
    received_at: float
    x: float
    y: float
    theta: float
    map_id: str
    speed_mps: float | None = None
    full: bool = False
    battery_pct: float = 0.0
    charging: bool = False
    driving: bool = False
    estop: str = "NONE"
    errors: tuple[str, ...] = ()
    fatal: bool = False
    occupancy: int = 0
    order_id: str = ""
    last_node_id: str = ""
    progress: Progress | None = None
    """Only on states that carry an order, action states or errors with references."""


class ConnectionChanged(msgspec.Struct, tag="connection", array_like=True):
    vehicle_id: str
    manufacturer: str
    ts: float
    received_at: float
    state: str


class Capability(msgspec.Struct, tag="capability", array_like=True):
    """What a vehicle's factsheet says the platform needs to know (seats)."""

    vehicle_id: str
    manufacturer: str
    ts: float
    received_at: float
    capacity: int


class DeadLetter(msgspec.Struct, omit_defaults=True):
    source: str
    reason: str
    detail: str
    received_at: float
    topic: str = ""
    key: str = ""
    payload: bytes = b""


Event = Telemetry | ConnectionChanged | Capability

event_encoder = msgspec.msgpack.Encoder()
event_decoder = msgspec.msgpack.Decoder(Event)
dead_letter_decoder = msgspec.msgpack.Decoder(DeadLetter)
