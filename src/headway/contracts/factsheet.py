"""VDA 5050 v2.1 ``factsheet`` message, as msgspec structs.

A vehicle publishes its factsheet retained on ``uagv/v2/{manufacturer}/{serial}/factsheet``
so the platform learns what it can carry and how fast it can go. Headway's profile puts a
shuttle's seats in ``loadSpecification.loadPositions`` (``seat1`` .. ``seatN``) and one
load set with ``loadType`` ``"passenger"``.

The structs cover every field the official schema requires and the optional ones Headway
reads. ``agvActions[].blockingTypes`` is left out on purpose: the 2.1.0 schema puts an
``enum`` of strings on that array itself, so no array can validate against it.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

NonNegFloat = Annotated[float, msgspec.Meta(ge=0.0)]

AgvKinematic = Literal["DIFF", "OMNI", "THREEWHEEL"]
AgvClass = Literal["FORKLIFT", "CONVEYOR", "TUGGER", "CARRIER"]
LocalizationType = Literal["NATURAL", "REFLECTOR", "RFID", "DMC", "SPOT", "GRID"]
NavigationType = Literal["PHYSICAL_LINE_GUIDED", "VIRTUAL_LINE_GUIDED", "AUTONOMOUS"]
ActionScope = Literal["INSTANT", "NODE", "EDGE"]
ValueDataType = Literal["BOOL", "NUMBER", "INTEGER", "FLOAT", "STRING", "OBJECT", "ARRAY"]
Support = Literal["SUPPORTED", "REQUIRED"]


class _Wire(msgspec.Struct, rename="camel", omit_defaults=True, forbid_unknown_fields=False):
    """camelCase on the wire, optional fields left out (same convention as ``vda5050``)."""


class TypeSpecification(_Wire, kw_only=True):
    series_name: str
    agv_kinematic: AgvKinematic
    agv_class: AgvClass
    max_load_mass: NonNegFloat
    localization_types: list[LocalizationType]
    navigation_types: list[NavigationType]
    series_description: str | None = None


class PhysicalParameters(_Wire, kw_only=True):
    speed_min: float
    speed_max: float
    acceleration_max: float
    deceleration_max: float
    height_max: float
    width: float
    length: float
    height_min: float | None = None


class MaxStringLens(_Wire, kw_only=True):
    msg_len: int | None = None
    topic_serial_len: int | None = None
    topic_elem_len: int | None = None
    id_len: int | None = None
    id_numerical_only: bool | None = None
    enum_len: int | None = None
    load_id_len: int | None = None


class MaxArrayLens(msgspec.Struct, omit_defaults=True, kw_only=True):
    """Keys on the wire are dotted paths (``order.nodes``), hence the explicit names."""

    order_nodes: int | None = msgspec.field(default=None, name="order.nodes")
    order_edges: int | None = msgspec.field(default=None, name="order.edges")
    node_actions: int | None = msgspec.field(default=None, name="node.actions")
    edge_actions: int | None = msgspec.field(default=None, name="edge.actions")
    actions_parameters: int | None = msgspec.field(default=None, name="actions.actionsParameters")
    instant_actions: int | None = msgspec.field(default=None, name="instantActions")
    state_node_states: int | None = msgspec.field(default=None, name="state.nodeStates")
    state_edge_states: int | None = msgspec.field(default=None, name="state.edgeStates")
    state_loads: int | None = msgspec.field(default=None, name="state.loads")
    state_action_states: int | None = msgspec.field(default=None, name="state.actionStates")
    state_errors: int | None = msgspec.field(default=None, name="state.errors")
    state_information: int | None = msgspec.field(default=None, name="state.information")


class Timing(_Wire, kw_only=True):
    min_order_interval: float
    min_state_interval: float
    default_state_interval: float | None = None
    visualization_interval: float | None = None


class ProtocolLimits(_Wire, kw_only=True):
    max_string_lens: MaxStringLens
    max_array_lens: MaxArrayLens
    timing: Timing


class OptionalParameter(_Wire, kw_only=True):
    parameter: str
    support: Support
    description: str | None = None


class ActionParameterSpec(_Wire, kw_only=True):
    key: str
    value_data_type: ValueDataType
    description: str | None = None
    is_optional: bool | None = None


class AgvAction(_Wire, kw_only=True):
    action_type: str
    action_scopes: list[ActionScope]
    action_description: str | None = None
    action_parameters: list[ActionParameterSpec] | None = None
    result_description: str | None = None


class ProtocolFeatures(_Wire, kw_only=True):
    optional_parameters: list[OptionalParameter]
    agv_actions: list[AgvAction]


class PolygonPoint(_Wire, kw_only=True):
    x: float
    y: float


class Envelope2d(_Wire, kw_only=True):
    set: str
    polygon_points: list[PolygonPoint]
    description: str | None = None


class AgvGeometry(_Wire, kw_only=True):
    envelopes2d: list[Envelope2d] | None = None


class LoadSet(_Wire, kw_only=True):
    set_name: str
    load_type: str
    load_positions: list[str] | None = None
    max_weight: NonNegFloat | None = None
    pick_time: float | None = None
    drop_time: float | None = None
    description: str | None = None


class LoadSpecification(_Wire, kw_only=True):
    load_positions: list[str] | None = None
    load_sets: list[LoadSet] | None = None


class Factsheet(_Wire, kw_only=True):
    version: str
    manufacturer: str
    serial_number: str
    type_specification: TypeSpecification
    physical_parameters: PhysicalParameters
    protocol_limits: ProtocolLimits
    protocol_features: ProtocolFeatures
    agv_geometry: AgvGeometry
    load_specification: LoadSpecification
    header_id: int | None = None
    timestamp: str | None = None


factsheet_decoder = msgspec.json.Decoder(Factsheet)
