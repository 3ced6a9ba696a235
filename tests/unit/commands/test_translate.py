"""Commands as VDA 5050 messages on the road graph, checked against the official schemas."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from headway.contracts.vda5050 import encoder, timestamp_now
from headway.domain.commands import Command, CommandKind, CommandParams, StopVisit
from headway.network.cch_router import CCHRouter
from headway.network.graph import RoadNetwork
from headway.services.commands.errors import NotTranslatable
from headway.services.commands.translate import JOIN_DEVIATION_M, Position, Translator

from .builders import cmd
from .schemas import problems

K = CommandKind


def stamped(message: Any) -> dict[str, Any]:
    message.header_id = 7
    message.timestamp = timestamp_now()
    body: dict[str, Any] = json.loads(encoder.encode(message))
    return body


@pytest.fixture
def translator(town: RoadNetwork, town_router: CCHRouter) -> Translator:
    return Translator(town, town_router)


def at_stop(town: RoadNetwork, index: int) -> Position:
    node = int(town.stops[index].node)
    x, y = town.node_xy[node]
    return Position(f"n{node}", float(x), float(y))


def drive(town: RoadNetwork, *stops: int, horizon: int = 0, **kw: Any) -> Command:
    visits = tuple(StopVisit(str(town.stops[i].id), **kw) for i in stops)
    return cmd(1, K.DRIVE, params=CommandParams(stops=visits, horizon=horizon))


def test_a_journey_is_a_routed_chain_of_road_nodes_and_edges(
    town: RoadNetwork, translator: Translator
) -> None:
    order, plan = translator.new_order(drive(town, 10, 40), at_stop(town, 0))
    body = stamped(order)
    assert problems("order", body) == []
    nodes, edges = body["nodes"], body["edges"]
    assert len(edges) == len(nodes) - 1 >= 2
    assert [n["sequenceId"] for n in nodes] == list(range(0, 2 * len(nodes), 2))
    assert [e["sequenceId"] for e in edges] == list(range(1, 2 * len(nodes) - 1, 2))
    for k, edge in enumerate(edges):
        index = int(edge["edgeId"][1:])
        assert edge["startNodeId"] == nodes[k]["nodeId"] == f"n{town.edge_src[index]}"
        assert edge["endNodeId"] == nodes[k + 1]["nodeId"] == f"n{town.edge_dst[index]}"
    assert nodes[0]["nodeId"] == f"n{town.stops[0].node}"
    assert nodes[0]["nodePosition"]["allowedDeviationXY"] == JOIN_DEVIATION_M
    assert {n["nodePosition"]["mapId"] for n in nodes} == {town.frame.map_id}
    with_actions = [n for n in nodes if n["actions"]]
    assert [n["nodeId"] for n in with_actions] == [
        f"n{town.stops[10].node}",
        f"n{town.stops[40].node}",
    ]
    assert [a["actionType"] for a in with_actions[0]["actions"]] == [
        "doorOpen",
        "drop",
        "pick",
        "doorClose",
    ]
    assert all(n["released"] for n in nodes)
    assert all(e["released"] for e in edges)
    assert plan.decision_node == town.stops[40].node
    assert plan.decision_seq == nodes[-1]["sequenceId"]
    assert len(plan.action_ids) == 8


def test_the_horizon_is_sent_unreleased_and_an_update_stitches_on(
    town: RoadNetwork, translator: Translator
) -> None:
    base = drive(town, 10, 40, horizon=1)
    order, plan = translator.new_order(base, at_stop(town, 0))
    body = stamped(order)
    assert problems("order", body) == []
    released = [n["released"] for n in body["nodes"]]
    cut = released.index(False)
    assert all(released[:cut])
    assert not any(released[cut:])
    assert body["nodes"][cut - 1]["nodeId"] == f"n{town.stops[10].node}"
    assert plan.decision_node == town.stops[10].node
    assert len(plan.action_ids) == 4, "the horizon's actions are not the order's to finish"

    update = replace(drive(town, 40, 70), kind=K.UPDATE, id="c2")
    message, next_plan = translator.update(update, base.order_id, 1, plan)
    body = stamped(message)
    assert problems("order", body) == []
    assert body["orderId"] == base.order_id
    assert body["orderUpdateId"] == 1
    first = body["nodes"][0]
    assert (first["nodeId"], first["sequenceId"]) == (f"n{plan.decision_node}", plan.decision_seq)
    assert first["actions"] == []
    assert body["nodes"][-1]["nodeId"] == f"n{town.stops[70].node}"
    assert next_plan.first_seq == plan.decision_seq


@pytest.mark.parametrize(
    ("kind", "params", "last_action"),
    [
        (K.RETURN_TO_DEPOT, CommandParams(), None),
        (K.CHARGE, CommandParams(target_pct=80.0), "startCharging"),
    ],
)
def test_depot_and_charger_orders_go_to_the_nearest_one(
    town: RoadNetwork,
    translator: Translator,
    kind: CommandKind,
    params: CommandParams,
    last_action: str | None,
) -> None:
    order, _ = translator.new_order(cmd(1, kind, params=params), at_stop(town, 3))
    body = stamped(order)
    assert problems("order", body) == []
    places = town.depots if kind is K.RETURN_TO_DEPOT else town.chargers
    nodes = {f"n{p.node}" for p in places}
    assert body["nodes"][-1]["nodeId"] in nodes
    actions = [a["actionType"] for a in body["nodes"][-1]["actions"]]
    assert actions == ([last_action] if last_action else [])


@pytest.mark.parametrize(
    ("kind", "action_type", "parameters"),
    [
        (K.PAUSE, "startPause", None),
        (K.RESUME, "stopPause", None),
        (K.CANCEL, "cancelOrder", None),
        (K.HOLD, "hold", [{"key": "durationS", "value": 30.0}]),
    ],
)
def test_instant_commands(
    translator: Translator, kind: CommandKind, action_type: str, parameters: Any
) -> None:
    body = stamped(translator.instant(cmd(1, kind)))
    assert problems("instantActions", body) == []
    (action,) = body["actions"]
    assert action["actionType"] == action_type
    assert action["actionId"] == "c1"
    assert action.get("actionParameters") == parameters


def test_a_stop_where_the_vehicle_stands_carries_its_actions_on_the_first_node(
    town: RoadNetwork, translator: Translator
) -> None:
    order, plan = translator.new_order(drive(town, 5), at_stop(town, 5))
    body = stamped(order)
    assert problems("order", body) == []
    assert len(body["nodes"]) == 1
    assert body["edges"] == []
    assert len(body["nodes"][0]["actions"]) == 4
    assert plan.decision_seq == 0
    assert len(plan.action_ids) == 4


def test_hold_seconds_at_a_stop_become_a_hold_action(
    town: RoadNetwork, translator: Translator
) -> None:
    order, _ = translator.new_order(
        drive(town, 9, actions=("doorOpen", "doorClose"), hold_s=45.0), at_stop(town, 0)
    )
    body = stamped(order)
    assert problems("order", body) == []
    actions = body["nodes"][-1]["actions"]
    assert [a["actionType"] for a in actions] == ["doorOpen", "doorClose", "hold"]
    assert actions[-1]["actionParameters"] == [{"key": "durationS", "value": 45.0}]


def test_what_cannot_be_built_says_why(town: RoadNetwork, translator: Translator) -> None:
    unknown = cmd(1, K.DRIVE, params=CommandParams(stops=(StopVisit("nowhere"),)))
    with pytest.raises(NotTranslatable, match="no stop 'nowhere'"):
        translator.new_order(unknown, at_stop(town, 0))
    lost = Position("", float("nan"), float("nan"))
    with pytest.raises(NotTranslatable, match="position is unknown"):
        translator.new_order(drive(town, 1), lost)
