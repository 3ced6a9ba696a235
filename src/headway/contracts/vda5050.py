"""VDA 5050 v2.1 wire messages, as msgspec structs.

The structs mirror the official JSON schemas in ``shared/data/schemas/vda5050/2.1.0``;
``tests/unit/contracts`` checks that what they encode validates against those schemas.
msgspec decodes and type-checks in one pass, several times cheaper than pydantic, which
matters on the ingest hot path. Headway's profile (topics, seats as load positions,
map frames) is described in ``docs/protocol.md``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import msgspec

PROTOCOL_VERSION = "2.1.0"
INTERFACE = "uagv"
MAJOR = "v2"

Percent = Annotated[float, msgspec.Meta(ge=0.0, le=100.0)]
NonNegInt = Annotated[int, msgspec.Meta(ge=0)]
Identifier = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]

ConnectionState = Literal["ONLINE", "OFFLINE", "CONNECTIONBROKEN"]
OperatingMode = Literal["AUTOMATIC", "SEMIAUTOMATIC", "MANUAL", "SERVICE", "TEACHIN"]
EStop = Literal["AUTOACK", "MANUAL", "REMOTE", "NONE"]
ErrorLevel = Literal["WARNING", "FATAL"]
InfoLevel = Literal["INFO", "DEBUG"]
ActionStatus = Literal["WAITING", "INITIALIZING", "RUNNING", "FINISHED", "FAILED"]


class _Wire(msgspec.Struct, rename="camel", omit_defaults=True, forbid_unknown_fields=False):
    """Base for every wire struct: camelCase on the wire, optional fields left out."""


class Connection(_Wire, kw_only=True):
    header_id: NonNegInt
    timestamp: str
    version: str
    manufacturer: Identifier
    serial_number: Identifier
    connection_state: ConnectionState


class AgvPosition(_Wire, kw_only=True):
    x: float
    y: float
    theta: float
    map_id: str
    position_initialized: bool
    map_description: str | None = None
    localization_score: float | None = None
    deviation_range: float | None = None


class Velocity(_Wire, kw_only=True):
    vx: float | None = None
    vy: float | None = None
    omega: float | None = None


class MapInfo(_Wire, kw_only=True):
    map_id: str
    map_version: str
    map_status: Literal["ENABLED", "DISABLED"]
    map_description: str | None = None


class NodePosition(_Wire, kw_only=True):
    x: float
    y: float
    map_id: str
    theta: float | None = None


class NodeState(_Wire, kw_only=True):
    node_id: str
    sequence_id: NonNegInt
    released: bool
    node_description: str | None = None
    node_position: NodePosition | None = None


class EdgeState(_Wire, kw_only=True):
    edge_id: str
    sequence_id: NonNegInt
    released: bool
    edge_description: str | None = None


class Load(_Wire, kw_only=True):
    load_id: str | None = None
    load_type: str | None = None
    load_position: str | None = None
    weight: Annotated[float, msgspec.Meta(ge=0.0)] | None = None


class ActionState(_Wire, kw_only=True):
    action_id: str
    action_status: ActionStatus
    action_type: str | None = None
    action_description: str | None = None
    result_description: str | None = None


class BatteryState(_Wire, kw_only=True):
    battery_charge: Percent
    charging: bool
    battery_voltage: float | None = None
    battery_health: Percent | None = None
    reach: Annotated[float, msgspec.Meta(ge=0.0)] | None = None


class Reference(_Wire, kw_only=True):
    reference_key: str
    reference_value: str


class Error(_Wire, kw_only=True):
    error_type: str
    error_level: ErrorLevel
    error_references: list[Reference] | None = None
    error_description: str | None = None
    error_hint: str | None = None


class Information(_Wire, kw_only=True):
    info_type: str
    info_level: InfoLevel
    info_references: list[Reference] | None = None
    info_description: str | None = None


class SafetyState(_Wire, kw_only=True):
    e_stop: EStop
    field_violation: bool


class State(_Wire, kw_only=True):
    header_id: NonNegInt
    timestamp: str
    version: str
    manufacturer: Identifier
    serial_number: Identifier
    order_id: str
    order_update_id: NonNegInt
    last_node_id: str
    last_node_sequence_id: NonNegInt
    driving: bool
    operating_mode: OperatingMode
    node_states: list[NodeState]
    edge_states: list[EdgeState]
    action_states: list[ActionState]
    battery_state: BatteryState
    errors: list[Error]
    safety_state: SafetyState
    maps: list[MapInfo] | None = None
    zone_set_id: str | None = None
    paused: bool | None = None
    new_base_request: bool | None = None
    distance_since_last_node: float | None = None
    agv_position: AgvPosition | None = None
    velocity: Velocity | None = None
    loads: list[Load] | None = None
    information: list[Information] | None = None


class Visualization(_Wire, kw_only=True):
    header_id: NonNegInt | None = None
    timestamp: str | None = None
    version: str | None = None
    manufacturer: str | None = None
    serial_number: str | None = None
    agv_position: AgvPosition | None = None
    velocity: Velocity | None = None


BlockingType = Literal["NONE", "SOFT", "HARD"]
ParameterValue = bool | float | str | list[Any] | dict[str, Any]


class ActionParameter(_Wire, kw_only=True):
    key: str
    value: ParameterValue


class Action(_Wire, kw_only=True):
    """An action on a node or edge of an order, or an instant action."""

    action_type: str
    action_id: Identifier
    blocking_type: BlockingType
    action_description: str | None = None
    action_parameters: list[ActionParameter] | None = None

    def parameter(self, key: str) -> ParameterValue | None:
        for item in self.action_parameters or ():
            if item.key == key:
                return item.value
        return None


class OrderNodePosition(_Wire, kw_only=True):
    x: float
    y: float
    map_id: str
    theta: Annotated[float, msgspec.Meta(ge=-3.14159265359, le=3.14159265359)] | None = None
    allowed_deviation_x_y: Annotated[float, msgspec.Meta(ge=0.0)] | None = msgspec.field(
        default=None, name="allowedDeviationXY"
    )
    allowed_deviation_theta: float | None = None
    map_description: str | None = None


class Node(_Wire, kw_only=True):
    node_id: Identifier
    sequence_id: NonNegInt
    released: bool
    actions: list[Action]
    node_description: str | None = None
    node_position: OrderNodePosition | None = None


class Edge(_Wire, kw_only=True):
    edge_id: Identifier
    sequence_id: NonNegInt
    released: bool
    start_node_id: Identifier
    end_node_id: Identifier
    actions: list[Action]
    edge_description: str | None = None
    max_speed: float | None = None
    length: Annotated[float, msgspec.Meta(ge=0.0)] | None = None


class Order(_Wire, kw_only=True):
    header_id: NonNegInt
    timestamp: str
    version: str
    manufacturer: Identifier
    serial_number: Identifier
    order_id: Identifier
    order_update_id: NonNegInt
    nodes: list[Node]
    edges: list[Edge]
    zone_set_id: str | None = None


class InstantActions(_Wire, kw_only=True):
    header_id: NonNegInt
    timestamp: str
    version: str
    manufacturer: Identifier
    serial_number: Identifier
    actions: list[Action]


def minimal_state(
    *,
    manufacturer: str,
    serial_number: str,
    header_id: int,
    x: float,
    y: float,
    theta: float,
    map_id: str,
    battery_pct: float = 80.0,
    driving: bool = True,
) -> State:
    """A valid ``state`` with a position and nothing else going on: load generators and
    tests that need many vehicles without simulating them."""
    return State(
        header_id=header_id,
        timestamp=timestamp_now(),
        version=PROTOCOL_VERSION,
        manufacturer=manufacturer,
        serial_number=serial_number,
        order_id="",
        order_update_id=0,
        last_node_id="",
        last_node_sequence_id=0,
        driving=driving,
        operating_mode="AUTOMATIC",
        node_states=[],
        edge_states=[],
        action_states=[],
        battery_state=BatteryState(battery_charge=battery_pct, charging=False),
        errors=[],
        safety_state=SafetyState(e_stop="NONE", field_violation=False),
        agv_position=AgvPosition(x=x, y=y, theta=theta, map_id=map_id, position_initialized=True),
    )


def topic(manufacturer: str, serial_number: str, name: str) -> str:
    """The MQTT topic of one vehicle's message stream, e.g. ``uagv/v2/acme/v0001/state``."""
    return f"{INTERFACE}/{MAJOR}/{manufacturer}/{serial_number}/{name}"


def parse_topic(name: str) -> tuple[str, str, str] | None:
    """``(manufacturer, serial_number, message)`` of a vehicle topic, or None if it is not one."""
    parts = name.split("/")
    if len(parts) != 5 or parts[0] != INTERFACE or parts[1] != MAJOR:
        return None
    return parts[2], parts[3], parts[4]


def timestamp_now() -> str:
    """ISO 8601 UTC with milliseconds, the form VDA 5050 uses (``2026-01-01T12:00:00.000Z``)."""
    return format_timestamp(datetime.now(UTC).timestamp())


def format_timestamp(unix_s: float) -> str:
    moment = datetime.fromtimestamp(unix_s, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_timestamp(text: str) -> float:
    """Unix seconds of an ISO 8601 timestamp; raises ValueError if it is not one."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


state_decoder = msgspec.json.Decoder(State)
connection_decoder = msgspec.json.Decoder(Connection)
visualization_decoder = msgspec.json.Decoder(Visualization)
order_decoder = msgspec.json.Decoder(Order)
instant_actions_decoder = msgspec.json.Decoder(InstantActions)
encoder = msgspec.json.Encoder()
