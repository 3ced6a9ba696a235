"""Turning commands into VDA 5050 messages on the road graph (Headway's profile,
``docs/protocol.md``).

Nodes are road nodes (``n<index>``) and edges road segments (``e<index>``), positions in
the service area's map frame (``mapId``). A journey through stops is routed on the road
graph; stops become nodes carrying their actions (doorOpen, drop, pick, doorClose, hold),
the road nodes in between are plain nodes. The first node of a new order is where the
platform last saw the vehicle, with a deviation range wide enough for a vehicle that
moved on a little since (VDA 5050 6.6.3.1): a road vehicle joins the route by itself.
An update starts at the previous decision point (the stitching node) with its
sequenceId, and replaces the horizon.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from headway.contracts.vda5050 import (
    PROTOCOL_VERSION,
    Action,
    ActionParameter,
    Edge,
    InstantActions,
    Node,
    Order,
    OrderNodePosition,
)
from headway.domain.commands import (
    Command,
    CommandKind,
    OrderPlan,
    StopVisit,
    node_action_id,
)
from headway.network.graph import Charger, Depot, RoadNetwork
from headway.network.routing import Router
from headway.services.commands.errors import NotTranslatable

STOP_ACTIONS = ("doorOpen", "drop", "pick", "doorClose", "hold")
DEFAULT_STOP_ACTIONS = ("doorOpen", "drop", "pick", "doorClose")
INSTANT_ACTION_TYPES = {
    CommandKind.PAUSE: "startPause",
    CommandKind.RESUME: "stopPause",
    CommandKind.CANCEL: "cancelOrder",
    CommandKind.HOLD: "hold",
}
JOIN_DEVIATION_M = 300.0
"""Deviation range of a new order's first node: how far the vehicle may be from it."""


@dataclass(frozen=True, slots=True)
class Position:
    """Where the platform last saw a vehicle (from its live state)."""

    last_node_id: str
    x: float
    y: float


@dataclass(frozen=True, slots=True)
class _Point:
    node: int
    actions: tuple[Action, ...]
    description: str


class Translator:
    def __init__(self, network: RoadNetwork, router: Router) -> None:
        self._network = network
        self._router = router
        self._map_id = network.frame.map_id
        self._stops = {str(s.id): s for s in network.stops}
        self._depots = {str(d.id): d for d in network.depots}
        self._chargers = {str(c.id): c for c in network.chargers}

    def knows_stop(self, stop_id: str) -> bool:
        return stop_id in self._stops

    def knows_depot(self, depot_id: str) -> bool:
        return depot_id in self._depots

    def knows_charger(self, charger_id: str) -> bool:
        return charger_id in self._chargers

    def instant(self, command: Command) -> InstantActions:
        action_type = INSTANT_ACTION_TYPES[command.kind]
        parameters = None
        if command.kind is CommandKind.HOLD:
            parameters = [ActionParameter(key="durationS", value=command.params.duration_s)]
        return InstantActions(
            header_id=0,
            timestamp="",
            version=PROTOCOL_VERSION,
            manufacturer=command.manufacturer,
            serial_number=command.vehicle_id,
            actions=[
                Action(
                    action_type=action_type,
                    action_id=command.action_id,
                    blocking_type="HARD" if command.kind is CommandKind.HOLD else "NONE",
                    action_parameters=parameters,
                )
            ],
        )

    def new_order(self, command: Command, position: Position) -> tuple[Order, OrderPlan]:
        """A new order from where the vehicle is; raises NotTranslatable."""
        start = self._start_node(position)
        first = _Point(start, (), "start")
        if command.kind is CommandKind.DRIVE:
            points = [self._stop_point(command, i, v) for i, v in enumerate(command.params.stops)]
            released = len(points) - command.params.horizon
        elif command.kind is CommandKind.RETURN_TO_DEPOT:
            node, name = self._place(start, command.params.place_id, "depot")
            points, released = [_Point(node, (), name)], 1
        elif command.kind is CommandKind.CHARGE:
            node, name = self._place(start, command.params.place_id, "charger")
            charge = Action(
                action_type="startCharging",
                action_id=node_action_id(command.id, 1, "startCharging"),
                blocking_type="HARD",
                action_parameters=[
                    ActionParameter(key="targetPct", value=command.params.target_pct)
                ],
            )
            points, released = [_Point(node, (charge,), name)], 1
        else:
            raise NotTranslatable(f"a {command.kind} command is not an order")
        return self._order(command, command.order_id, 0, first, 0, points, released, True)

    def update(
        self, command: Command, order_id: str, update_id: int, previous: OrderPlan
    ) -> tuple[Order, OrderPlan]:
        """An update of ``order_id`` stitched onto ``previous``'s decision point."""
        points = [self._stop_point(command, i, v) for i, v in enumerate(command.params.stops)]
        released = len(points) - command.params.horizon
        first = _Point(previous.decision_node, (), "stitching node")
        return self._order(
            command, order_id, update_id, first, previous.decision_seq, points, released, False
        )

    def _order(
        self,
        command: Command,
        order_id: str,
        update_id: int,
        first: _Point,
        first_seq: int,
        points: Sequence[_Point],
        released: int,
        joining: bool,
    ) -> tuple[Order, OrderPlan]:
        network = self._network
        node_xy = network.node_xy
        nodes: list[Node] = []
        edges: list[Edge] = []
        seq = first_seq
        decision_node, decision_seq = first.node, first_seq
        action_ids: list[str] = []

        def add_node(point: _Point, is_released: bool, deviation: float | None) -> None:
            x, y = node_xy[point.node]
            nodes.append(
                Node(
                    node_id=f"n{point.node}",
                    sequence_id=seq,
                    released=is_released,
                    actions=list(point.actions),
                    node_description=point.description or None,
                    node_position=OrderNodePosition(
                        x=round(float(x), 3),
                        y=round(float(y), 3),
                        map_id=self._map_id,
                        allowed_deviation_x_y=deviation,
                    ),
                )
            )

        add_node(first, True, JOIN_DEVIATION_M if joining else None)
        here = first.node
        for index, point in enumerate(points):
            is_released = index < released
            if point.node == here:
                # A stop at the node the vehicle is at already: its actions join that node.
                last = nodes[-1]
                last.actions.extend(point.actions)
                if point.description:
                    last.node_description = point.description
            else:
                route = self._router.route(here, point.node)
                if route is None or not route.edges:
                    raise NotTranslatable(
                        f"no road leads from node n{here} to {point.description or point.node}"
                    )
                for k, edge in enumerate(route.edges):
                    seq += 1
                    edge = int(edge)
                    end = int(route.nodes[k + 1])
                    edges.append(
                        Edge(
                            edge_id=f"e{edge}",
                            sequence_id=seq,
                            released=is_released,
                            start_node_id=f"n{int(route.nodes[k])}",
                            end_node_id=f"n{end}",
                            actions=[],
                            max_speed=round(float(network.edge_speed_mps[edge]), 2),
                            length=round(float(network.edge_length_m[edge]), 2),
                        )
                    )
                    seq += 1
                    stop = end == point.node
                    add_node(point if stop else _Point(end, (), ""), is_released, None)
                here = point.node
            if is_released:
                decision_node, decision_seq = here, seq
                action_ids.extend(a.action_id for a in point.actions)
        order = Order(
            header_id=0,
            timestamp="",
            version=PROTOCOL_VERSION,
            manufacturer=command.manufacturer,
            serial_number=command.vehicle_id,
            order_id=order_id,
            order_update_id=update_id,
            nodes=nodes,
            edges=edges,
        )
        plan = OrderPlan(
            decision_node=decision_node,
            decision_seq=decision_seq,
            first_seq=first_seq,
            next_seq=seq + 1,
            action_ids=tuple(action_ids),
        )
        return order, plan

    def _stop_point(self, command: Command, index: int, visit: StopVisit) -> _Point:
        stop = self._stops.get(visit.stop_id)
        if stop is None:
            raise NotTranslatable(f"no stop {visit.stop_id!r} in this service area")
        actions: list[Action] = []
        for kind in visit.actions or DEFAULT_STOP_ACTIONS:
            parameters = None
            if kind in ("pick", "drop"):
                parameters = [ActionParameter(key="stopId", value=visit.stop_id)]
            elif kind == "hold":
                parameters = [ActionParameter(key="durationS", value=visit.hold_s)]
            actions.append(
                Action(
                    action_type=kind,
                    action_id=node_action_id(command.id, 10 * (index + 1) + len(actions), kind),
                    blocking_type="HARD",
                    action_parameters=parameters,
                )
            )
        if visit.hold_s > 0 and "hold" not in visit.actions:
            actions.append(
                Action(
                    action_type="hold",
                    action_id=node_action_id(command.id, 10 * (index + 1) + len(actions), "hold"),
                    blocking_type="HARD",
                    action_parameters=[ActionParameter(key="durationS", value=visit.hold_s)],
                )
            )
        return _Point(int(stop.node), tuple(actions), str(stop.name))

    def _start_node(self, position: Position) -> int:
        text = position.last_node_id
        if text.startswith("n") and text[1:].isdigit():
            node = int(text[1:])
            if node < self._network.n_nodes:
                return node
        if not (math.isfinite(position.x) and math.isfinite(position.y)):
            raise NotTranslatable("the vehicle's position is unknown")
        return int(self._network.nearest_road_node(position.x, position.y))

    def _place(self, start: int, place_id: str, kind: str) -> tuple[int, str]:
        places: Mapping[str, Depot | Charger] = self._depots if kind == "depot" else self._chargers
        if place_id:
            place = places.get(place_id)
            if place is None:
                raise NotTranslatable(f"no {kind} {place_id!r} in this service area")
            return int(place.node), str(place.name)
        if not places:
            raise NotTranslatable(f"this service area has no {kind}")
        times = self._router.travel_times_from(start)
        best = min(places.values(), key=lambda p: float(times[int(p.node)]))
        if not math.isfinite(float(times[int(best.node)])):
            raise NotTranslatable(f"no {kind} can be reached from node n{start}")
        return int(best.node), str(best.name)
