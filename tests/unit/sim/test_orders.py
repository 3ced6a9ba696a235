"""Simulated vehicles taking VDA 5050 orders and instant actions, in simulated time."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from msgspec import structs

from headway.contracts.vda5050 import (
    Action,
    ActionParameter,
    InstantActions,
    Order,
    encoder,
    instant_actions_decoder,
    order_decoder,
)
from headway.domain.commands import (
    Command,
    CommandKind,
    CommandParams,
    CommandStatus,
    OrderPlan,
    StopVisit,
)
from headway.network.graph import RoadNetwork
from headway.network.routing import DijkstraRouter
from headway.services.commands.translate import Position, Translator
from headway.sim.config import SimConfig
from headway.sim.messages import MessageFactory
from headway.sim.model import FleetModel
from headway.sim.vehicle import Activity, Vehicle

CONFIG = SimConfig(vehicles=4, seed=11, faults=False)


@pytest.fixture
def model(city: RoadNetwork, router: DijkstraRouter) -> FleetModel:
    return FleetModel(city, router, CONFIG)


def command(kind: CommandKind, cid: str, **params: Any) -> Command:
    return Command(
        id=cid,
        vehicle_id="v0001",
        manufacturer="headway-sim",
        kind=kind,
        params=CommandParams(**params),
        status=CommandStatus.ACCEPTED,
        created_at=0.0,
        expires_at=60.0,
        updated_at=0.0,
        order_id=cid,
        action_id=cid,
    )


class Platform:
    """Builds messages as the commander would and reads the vehicle's state back."""

    def __init__(self, model: FleetModel, router: DijkstraRouter) -> None:
        self.model = model
        self.translator = Translator(model.network, router)  # type: ignore[arg-type]
        self.messages = MessageFactory(model, CONFIG)

    def position(self, vehicle: Vehicle) -> Position:
        x, y, _ = self.model.pose(vehicle)
        return Position(self.state(vehicle)["lastNodeId"], x, y)

    def drive(self, vehicle: Vehicle, stops: list[int], cid: str = "c1", **kw: Any) -> Order:
        visits = tuple(StopVisit(str(self.model.network.stops[i].id)) for i in stops)
        order, _ = self.translator.new_order(
            command(CommandKind.DRIVE, cid, stops=visits, **kw), self.position(vehicle)
        )
        return order_decoder.decode(encoder.encode(order))

    def instant(self, kind: CommandKind, cid: str, **params: Any) -> list[Action]:
        message = self.translator.instant(command(kind, cid, **params))
        decoded: InstantActions = instant_actions_decoder.decode(encoder.encode(message))
        return decoded.actions

    def state(self, vehicle: Vehicle) -> dict[str, Any]:
        body: dict[str, Any] = json.loads(self.messages.state(vehicle, 0))
        return body

    def actions(self, vehicle: Vehicle) -> dict[str, str]:
        return {a["actionId"]: a["actionStatus"] for a in self.state(vehicle)["actionStates"]}

    def errors(self, vehicle: Vehicle) -> list[str]:
        return [e["errorType"] for e in self.state(vehicle)["errors"]]

    def run(self, seconds: float, dt: float = 1.0) -> None:
        for _ in range(int(seconds / dt)):
            self.model.advance(dt)


@pytest.fixture
def platform(model: FleetModel, router: DijkstraRouter) -> Platform:
    return Platform(model, router)


def test_a_vehicle_drives_an_order_node_to_node_and_does_the_stop_actions(
    platform: Platform,
) -> None:
    vehicle = platform.model.vehicles[0]
    platform.run(5)
    order = platform.drive(vehicle, [7])
    assert platform.model.orders.receive_order(vehicle, order)
    state = platform.state(vehicle)
    assert state["orderId"] == "c1"
    assert state["orderUpdateId"] == 0
    assert len(state["nodeStates"]) == len(order.nodes) - 1
    assert vehicle.applied == ["order:c1:0"]
    seen_nodes = [len(state["nodeStates"])]
    for _ in range(900):
        platform.model.advance(1.0)
        seen_nodes.append(len(platform.state(vehicle)["nodeStates"]))
        if vehicle.activity is Activity.IDLE and not platform.state(vehicle)["nodeStates"]:
            break
    assert seen_nodes == sorted(seen_nodes, reverse=True), "node states only shrink"
    state = platform.state(vehicle)
    assert state["nodeStates"] == []
    assert state["edgeStates"] == []
    assert state["lastNodeId"] == order.nodes[-1].node_id
    assert state["lastNodeSequenceId"] == order.nodes[-1].sequence_id
    assert set(platform.actions(vehicle).values()) == {"FINISHED"}
    assert vehicle.node == int(order.nodes[-1].node_id[1:])
    platform.run(120)
    assert vehicle.node == int(order.nodes[-1].node_id[1:]), "commanded: waits, never roams"


def verdict(platform: Platform, vehicle: Vehicle, order: Order) -> str:
    """What the vehicle made of an order: taken, ignored, or the error it reported."""
    taken = len(vehicle.applied)
    errors = len(vehicle.order_errors)
    changed = platform.model.orders.receive_order(vehicle, order)
    if len(vehicle.applied) > taken:
        return "taken"
    if not changed:
        return "ignored"
    assert len(vehicle.order_errors) > errors or errors == 8
    error = vehicle.order_errors[-1]
    refs = {r.reference_key: r.reference_value for r in error.error_references or ()}
    assert refs["orderId"] == order.order_id
    assert refs["orderUpdateId"] == str(order.order_update_id)
    return error.error_type


def test_malformed_and_impossible_orders_are_refused(platform: Platform) -> None:
    vehicle = platform.model.vehicles[1]
    order = platform.drive(vehicle, [3, 8])
    assert len(order.edges) >= 2
    wrong_node = structs.replace(order.nodes[-1], node_id="n99999")
    assert verdict(
        platform, vehicle, structs.replace(order, nodes=[*order.nodes[:-1], wrong_node])
    ) == ("orderError")
    other_edge = structs.replace(order.edges[0], edge_id=order.edges[1].edge_id)
    assert verdict(
        platform, vehicle, structs.replace(order, edges=[other_edge, *order.edges[1:]])
    ) == ("orderError")
    unjoined = structs.replace(order.edges[0], end_node_id=order.nodes[0].node_id)
    assert verdict(
        platform, vehicle, structs.replace(order, edges=[unjoined, *order.edges[1:]])
    ) == ("validationError")
    gap = [structs.replace(n, released=k != 1) for k, n in enumerate(order.nodes)]
    assert verdict(platform, vehicle, structs.replace(order, nodes=gap)) == "validationError"
    odd = [structs.replace(n, actions=[*n.actions]) for n in order.nodes]
    odd[-1].actions.append(Action(action_type="fly", action_id="a1", blocking_type="HARD"))
    assert verdict(platform, vehicle, structs.replace(order, nodes=odd)) == "orderError"
    assert vehicle.applied == []


def test_the_first_node_must_be_where_the_vehicle_is(platform: Platform) -> None:
    model = platform.model
    here = model.vehicles[0]
    elsewhere = next(v for v in model.vehicles[1:] if v.last_node != here.last_node)
    order = platform.drive(elsewhere, [3])
    assert int(order.nodes[0].node_id[1:]) != here.last_node
    first = order.nodes[0]
    assert first.node_position is not None
    strict = structs.replace(
        first, node_position=structs.replace(first.node_position, allowed_deviation_x_y=0.0)
    )
    assert verdict(platform, here, structs.replace(order, nodes=[strict, *order.nodes[1:]])) == (
        "noRouteError"
    )


def test_order_updates_follow_the_update_ids(platform: Platform) -> None:
    vehicle = platform.model.vehicles[0]
    order = platform.drive(vehicle, [3], horizon=0)
    assert verdict(platform, vehicle, structs.replace(order, order_update_id=2)) == "taken"
    assert verdict(platform, vehicle, structs.replace(order, order_update_id=2)) == "ignored"
    assert verdict(platform, vehicle, structs.replace(order, order_update_id=1)) == (
        "orderUpdateError"
    )
    busy = platform.drive(vehicle, [5], cid="c4")
    assert verdict(platform, vehicle, busy) == "orderError"
    assert vehicle.applied == ["order:c1:2"]
    assert "orderError" in platform.errors(vehicle)


def test_errors_are_cleared_by_the_next_order_taken(platform: Platform) -> None:
    model = platform.model
    vehicle = model.vehicles[0]
    bad = platform.drive(vehicle, [3], cid="bad")
    assert verdict(platform, vehicle, structs.replace(bad, edges=bad.edges[:-1])) == (
        "validationError"
    )
    assert "validationError" in platform.errors(vehicle)
    assert model.orders.receive_order(vehicle, platform.drive(vehicle, [3], cid="good"))
    assert platform.errors(vehicle) == []


def test_an_update_stitches_on_at_the_decision_point(platform: Platform) -> None:
    model = platform.model
    vehicle = model.vehicles[0]
    order = platform.drive(vehicle, [2, 6], horizon=1)
    assert model.orders.receive_order(vehicle, order)
    platform.run(600)
    state = platform.state(vehicle)
    assert vehicle.activity is Activity.IDLE
    assert state["nodeStates"], "waits at the decision point with the horizon"
    assert not any(n["released"] for n in state["nodeStates"])
    base_command = command(CommandKind.DRIVE, "c1")
    decision = next(n for n in reversed(order.nodes) if n.released)
    plan = OrderPlan(int(decision.node_id[1:]), decision.sequence_id, 0, 0)
    visits = (StopVisit(str(model.network.stops[6].id)),)
    update, _ = platform.translator.update(
        replace(base_command, kind=CommandKind.UPDATE, id="u1", params=CommandParams(stops=visits)),
        "c1",
        1,
        plan,
    )
    wrong = order_decoder.decode(encoder.encode(update))
    wrong.nodes[0].sequence_id += 2
    for edge in wrong.edges:
        edge.sequence_id += 2
    for node in wrong.nodes[1:]:
        node.sequence_id += 2
    assert model.orders.receive_order(vehicle, wrong)
    assert "orderUpdateError" in platform.errors(vehicle)
    assert model.orders.receive_order(vehicle, order_decoder.decode(encoder.encode(update)))
    platform.run(900)
    state = platform.state(vehicle)
    assert state["orderUpdateId"] == 1
    assert state["nodeStates"] == []
    assert vehicle.node == int(update.nodes[-1].node_id[1:])
    assert vehicle.applied == ["order:c1:0", "order:c1:1"]


def test_pause_stops_the_vehicle_where_it_is_and_resume_carries_on(platform: Platform) -> None:
    model = platform.model
    vehicle = model.vehicles[0]
    assert model.orders.receive_order(vehicle, platform.drive(vehicle, [9]))
    for _ in range(200):
        model.advance(1.0)
        if vehicle.driving:
            break
    assert vehicle.driving
    model.orders.receive_instant(vehicle, platform.instant(CommandKind.PAUSE, "p1"))
    where = model.pose(vehicle)
    platform.run(60)
    assert model.pose(vehicle) == where
    assert platform.state(vehicle)["paused"] is True
    assert platform.actions(vehicle)["p1"] == "FINISHED"
    model.orders.receive_instant(vehicle, platform.instant(CommandKind.RESUME, "r1"))
    platform.run(30)
    assert model.pose(vehicle) != where


def test_a_hold_waits_for_the_next_stop_and_keeps_the_vehicle_there(
    platform: Platform,
) -> None:
    model = platform.model
    vehicle = model.vehicles[3]
    for _ in range(300):
        model.advance(1.0)
        if vehicle.activity is Activity.DRIVING:
            break
    model.orders.receive_instant(
        vehicle, platform.instant(CommandKind.HOLD, "h1", duration_s=200.0)
    )
    assert platform.actions(vehicle)["h1"] == "WAITING"
    for _ in range(900):
        model.advance(1.0)
        if platform.actions(vehicle)["h1"] == "RUNNING":
            break
    assert platform.actions(vehicle)["h1"] == "RUNNING"
    node = vehicle.node
    platform.run(150)
    assert vehicle.node == node
    assert not vehicle.driving
    platform.run(80)
    assert platform.actions(vehicle)["h1"] == "FINISHED"


def test_cancel_stops_at_the_next_node_and_fails_what_was_left(platform: Platform) -> None:
    model = platform.model
    vehicle = model.vehicles[0]
    order = platform.drive(vehicle, [9, 1])
    assert model.orders.receive_order(vehicle, order)
    for _ in range(300):
        model.advance(0.5)
        if vehicle.driving:
            break
    model.orders.receive_instant(vehicle, platform.instant(CommandKind.CANCEL, "x1"))
    assert platform.actions(vehicle)["x1"] == "RUNNING"
    platform.run(120)
    actions = platform.actions(vehicle)
    assert actions["x1"] == "FINISHED"
    assert {s for k, s in actions.items() if k.startswith("c1.")} == {"FAILED"}
    state = platform.state(vehicle)
    assert state["nodeStates"] == []
    assert state["orderId"] == "c1"
    assert not vehicle.driving
    model.orders.receive_instant(vehicle, platform.instant(CommandKind.CANCEL, "x2"))
    assert platform.actions(vehicle)["x2"] == "FAILED"
    assert "noOrderToCancel" in platform.errors(vehicle)


def test_an_instant_action_sent_twice_is_done_once(platform: Platform) -> None:
    model = platform.model
    vehicle = model.vehicles[0]
    pause = platform.instant(CommandKind.PAUSE, "p1")
    assert model.orders.receive_instant(vehicle, pause)
    assert not model.orders.receive_instant(vehicle, pause)
    assert vehicle.applied == ["action:p1"]


def test_a_charge_order_charges_at_the_charger(platform: Platform) -> None:
    model = platform.model
    vehicle = model.vehicles[2]
    vehicle.battery_kwh = vehicle.spec.battery_kwh * 0.3
    order, _ = platform.translator.new_order(
        command(CommandKind.CHARGE, "ch1", target_pct=80.0), platform.position(vehicle)
    )
    assert model.orders.receive_order(vehicle, order_decoder.decode(encoder.encode(order)))
    seen = set()
    for _ in range(3000):
        model.advance(1.0)
        seen.add(vehicle.activity)
        if Activity.CHARGING in seen and vehicle.activity is Activity.IDLE:
            break
    assert Activity.CHARGING in seen
    assert vehicle.battery_pct > 50.0
    assert set(platform.actions(vehicle).values()) == {"FINISHED"}


def test_orders_are_refused_while_e_stopped(platform: Platform) -> None:
    model = platform.model
    vehicle = model.vehicles[0]
    model.start_fault(vehicle, "estop", 100.0)
    assert model.orders.receive_order(vehicle, platform.drive(vehicle, [4]))
    assert vehicle.applied == []
    (error,) = vehicle.order_errors
    assert error.error_type == "orderError"
    assert "e-stopped" in (error.error_description or "")


def test_a_hold_without_a_duration_fails(platform: Platform) -> None:
    vehicle = platform.model.vehicles[0]
    action = Action(
        action_type="hold",
        action_id="h0",
        blocking_type="HARD",
        action_parameters=[ActionParameter(key="durationS", value=0.0)],
    )
    platform.model.orders.receive_instant(vehicle, [action])
    assert platform.actions(vehicle)["h0"] == "FAILED"
