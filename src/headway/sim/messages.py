"""VDA 5050 messages of one simulated vehicle: state, visualization, connection, factsheet.

Headway's profile of VDA 5050 for road shuttles: no order means ``orderId`` ``""`` and
``orderUpdateId`` 0; ``lastNodeId`` is the last road node passed, as ``n<index>``;
passengers are ``loads`` with ``loadType`` ``"passenger"`` on positions ``seat1`` ..
``seatN``; the stop or charger being driven to is an ``information`` entry of type
``routeTarget``. Header ids count per topic and per vehicle, from 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from headway.contracts.factsheet import (
    AgvAction,
    AgvGeometry,
    Envelope2d,
    Factsheet,
    LoadSet,
    LoadSpecification,
    MaxArrayLens,
    MaxStringLens,
    PhysicalParameters,
    PolygonPoint,
    ProtocolFeatures,
    ProtocolLimits,
    Timing,
    TypeSpecification,
)
from headway.contracts.vda5050 import (
    PROTOCOL_VERSION,
    ActionState,
    AgvPosition,
    BatteryState,
    Connection,
    ConnectionState,
    EdgeState,
    Information,
    Load,
    MapInfo,
    NodeState,
    Reference,
    SafetyState,
    State,
    Velocity,
    Visualization,
    encoder,
    timestamp_now,
)
from headway.sim.config import SimConfig
from headway.sim.model import FleetModel
from headway.sim.orders import ActionRun
from headway.sim.vehicle import Activity, TargetKind, Vehicle

PASSENGER = "passenger"
_ACTIONS: list[tuple[str, list[Literal["INSTANT", "NODE", "EDGE"]], str]] = [
    ("pick", ["NODE"], "board waiting passengers (parameter stopId)"),
    ("drop", ["NODE"], "let passengers alight (parameter stopId)"),
    ("doorOpen", ["NODE"], "open the doors"),
    ("doorClose", ["NODE"], "close the doors"),
    ("hold", ["INSTANT", "NODE"], "stay at the (next) stop for durationS seconds"),
    ("startCharging", ["NODE"], "charge at the charger of this node (parameter targetPct)"),
    ("stopCharging", ["INSTANT", "NODE"], "stop charging"),
    ("startPause", ["INSTANT"], "stop where the vehicle is until stopPause"),
    ("stopPause", ["INSTANT"], "carry on after startPause"),
    ("cancelOrder", ["INSTANT"], "cancel the order; the vehicle stops at the next node"),
]
_KG_PER_PASSENGER = 90.0
_NO_ESTOP = SafetyState(e_stop="NONE", field_violation=False)


@dataclass(slots=True)
class HeaderIds:
    """Next ``headerId`` per topic of one vehicle."""

    counters: dict[str, int] = field(default_factory=dict)

    def next(self, topic: str) -> int:
        value = self.counters.get(topic, 0)
        self.counters[topic] = value + 1
        return value


class MessageFactory:
    """Encodes one fleet's messages; shared parts are built once."""

    def __init__(self, model: FleetModel, config: SimConfig) -> None:
        self._model = model
        self._manufacturer = config.manufacturer
        self._map_id = model.network.frame.map_id
        self._maps = [MapInfo(map_id=self._map_id, map_version="1", map_status="ENABLED")]
        self._config = config

    def state(self, vehicle: Vehicle, header_id: int) -> bytes:
        x, y, theta = self._model.pose(vehicle)
        speed = vehicle.speed
        faults = vehicle.faults
        leg = vehicle.leg
        safety = _NO_ESTOP
        if faults.estop != "NONE":
            safety = SafetyState(e_stop=faults.estop, field_violation=False)
        run = vehicle.order
        last_node_id, last_seq = f"n{vehicle.last_node}", 0
        # lastNodeId is the node last passed, or stood on: after a cancel that is a road
        # node off the order, with no sequenceId to stitch an update onto.
        if run is not None and (run.executing or run.last_node_id == last_node_id):
            last_node_id, last_seq = run.last_node_id or last_node_id, run.last_seq
        message = State(
            header_id=header_id,
            timestamp=timestamp_now(),
            version=PROTOCOL_VERSION,
            manufacturer=self._manufacturer,
            serial_number=vehicle.serial,
            order_id=run.order_id if run is not None else "",
            order_update_id=run.update_id if run is not None else 0,
            last_node_id=last_node_id,
            last_node_sequence_id=last_seq,
            driving=speed > 0.0,
            operating_mode="AUTOMATIC",
            node_states=[
                NodeState(node_id=n.node_id, sequence_id=n.seq, released=n.released)
                for n in (run.nodes if run is not None else ())
            ],
            edge_states=[
                EdgeState(edge_id=e.edge_id, sequence_id=e.seq, released=e.released)
                for e in (run.edges if run is not None else ())
            ],
            action_states=_action_states(vehicle),
            battery_state=BatteryState(
                battery_charge=round(vehicle.battery_pct, 2),
                charging=vehicle.charging,
                reach=round(vehicle.reach_m),
            ),
            errors=faults.error_list() + vehicle.order_errors,
            safety_state=safety,
            paused=vehicle.paused,
            new_base_request=run is not None and run.horizon and vehicle.driving,
            maps=self._maps,
            distance_since_last_node=round(leg.offset_on_edge, 2) if leg is not None else 0.0,
            agv_position=self._position(x, y, theta),
            velocity=_velocity(speed, theta),
            loads=[
                Load(
                    load_id=passenger,
                    load_type=PASSENGER,
                    load_position=f"seat{seat}",
                    weight=_KG_PER_PASSENGER,
                )
                for seat, passenger in sorted(vehicle.seats.items())
            ],
            information=_information(vehicle),
        )
        return encoder.encode(message)

    def visualization(self, vehicle: Vehicle, header_id: int) -> bytes:
        x, y, theta = self._model.pose(vehicle)
        message = Visualization(
            header_id=header_id,
            timestamp=timestamp_now(),
            version=PROTOCOL_VERSION,
            manufacturer=self._manufacturer,
            serial_number=vehicle.serial,
            agv_position=self._position(x, y, theta),
            velocity=_velocity(vehicle.speed, theta),
        )
        return encoder.encode(message)

    def connection(self, serial: str, header_id: int, state: ConnectionState) -> bytes:
        message = Connection(
            header_id=header_id,
            timestamp=timestamp_now(),
            version=PROTOCOL_VERSION,
            manufacturer=self._manufacturer,
            serial_number=serial,
            connection_state=state,
        )
        return encoder.encode(message)

    def factsheet(self, serial: str, header_id: int) -> bytes:
        config, spec = self._config, self._config.vehicle
        seats = [f"seat{k}" for k in range(1, config.capacity + 1)]
        half_l, half_w = spec.length_m / 2.0, spec.width_m / 2.0
        message = Factsheet(
            header_id=header_id,
            timestamp=timestamp_now(),
            version=PROTOCOL_VERSION,
            manufacturer=self._manufacturer,
            serial_number=serial,
            type_specification=TypeSpecification(
                series_name="headway-shuttle-8",
                series_description="autonomous electric shuttle, "
                f"{config.capacity} seats, {spec.battery_kwh:g} kWh",
                # VDA 5050 has no Ackermann kinematic; a car steers like a tricycle.
                agv_kinematic="THREEWHEEL",
                agv_class="CARRIER",
                max_load_mass=config.capacity * _KG_PER_PASSENGER,
                localization_types=["NATURAL"],
                navigation_types=["AUTONOMOUS"],
            ),
            physical_parameters=PhysicalParameters(
                speed_min=0.0,
                speed_max=spec.max_speed_mps,
                acceleration_max=spec.acceleration_mps2,
                deceleration_max=spec.deceleration_mps2,
                height_max=spec.height_m,
                width=spec.width_m,
                length=spec.length_m,
            ),
            protocol_limits=ProtocolLimits(
                max_string_lens=MaxStringLens(id_len=128, topic_serial_len=128),
                max_array_lens=MaxArrayLens(state_loads=config.capacity),
                timing=Timing(
                    min_order_interval=1.0,
                    min_state_interval=min(config.state_interval_s, 1.0),
                    default_state_interval=config.state_interval_s,
                    visualization_interval=config.visualization_interval_s or None,
                ),
            ),
            protocol_features=ProtocolFeatures(
                optional_parameters=[],
                agv_actions=[
                    AgvAction(action_type=kind, action_scopes=scopes, action_description=text)
                    for kind, scopes, text in _ACTIONS
                ],
            ),
            agv_geometry=AgvGeometry(
                envelopes2d=[
                    Envelope2d(
                        set="body",
                        polygon_points=[
                            PolygonPoint(x=half_l, y=half_w),
                            PolygonPoint(x=-half_l, y=half_w),
                            PolygonPoint(x=-half_l, y=-half_w),
                            PolygonPoint(x=half_l, y=-half_w),
                        ],
                    )
                ]
            ),
            load_specification=LoadSpecification(
                load_positions=seats,
                load_sets=[
                    LoadSet(
                        set_name="PASSENGERS",
                        load_type=PASSENGER,
                        load_positions=seats,
                        max_weight=150.0,
                        description="one seated passenger per load position",
                    )
                ],
            ),
        )
        return encoder.encode(message)

    def _position(self, x: float, y: float, theta: float) -> AgvPosition:
        return AgvPosition(
            x=round(x, 3),
            y=round(y, 3),
            theta=round(theta, 4),
            map_id=self._map_id,
            position_initialized=True,
        )


def _velocity(speed: float, theta: float) -> Velocity:
    if speed <= 0.0:
        return Velocity(vx=0.0, vy=0.0, omega=0.0)
    return Velocity(vx=round(speed * math.cos(theta), 3), vy=round(speed * math.sin(theta), 3))


def _action_states(vehicle: Vehicle) -> list[ActionState]:
    runs: list[ActionRun] = []
    if vehicle.order is not None:
        runs.extend(vehicle.order.actions.values())
    runs.extend(vehicle.instant_states)
    return [
        ActionState(
            action_id=r.id,
            action_type=r.type,
            action_status=r.status,
            result_description=r.result or None,
        )
        for r in runs
    ]


def _information(vehicle: Vehicle) -> list[Information]:
    infos: list[Information] = []
    target = vehicle.target
    if target is not None and vehicle.activity is Activity.DRIVING:
        key = "chargerId" if vehicle.target_kind is TargetKind.CHARGER else "stopId"
        infos.append(
            Information(
                info_type="routeTarget",
                info_level="INFO",
                info_references=[Reference(reference_key=key, reference_value=str(target.id))],
                info_description=str(target.name),
            )
        )
    if vehicle.activity is Activity.QUEUED:
        infos.append(Information(info_type="waitingForCharger", info_level="INFO"))
    return infos
