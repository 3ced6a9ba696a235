"""A simulated vehicle's view of its VDA 5050 order: acceptance rules and bookkeeping.

Pure: no motion, no I/O. ``check_order`` applies the acceptance rules of VDA 5050 2.1
(section 6.6) to an incoming order; ``OrderRun`` holds what is left to do (the node
and edge states) and the state of every action, as the vehicle reports them.

Rules, as Headway's road shuttles apply them (``docs/protocol.md``):

* malformed graph (no nodes, edges that do not join the nodes, sequence ids out of
  order, released after unreleased) → ``validationError``;
* unknown node or edge, an edge that is not the road between its nodes, an action the
  vehicle cannot do, charging where there is no charger → ``orderError``;
* a new order while the previous one is still executing, or while e-stopped or
  immobilised → ``orderError``; a first node the vehicle is not on nor within the
  node's deviation range of → ``noRouteError``;
* the same order with a lower ``orderUpdateId`` → ``orderUpdateError``; the same
  ``orderUpdateId`` again → ignored (a resend); a higher one that does not start at the
  decision point (node id and sequence id) → ``orderUpdateError``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from headway.contracts.vda5050 import Action, ActionStatus, Edge, Error, Node, Order, Reference

NODE_ACTIONS = frozenset(
    {"pick", "drop", "doorOpen", "doorClose", "hold", "startCharging", "stopCharging"}
)
INSTANT_ACTIONS = frozenset({"startPause", "stopPause", "cancelOrder", "hold"})
ENDED: frozenset[ActionStatus] = frozenset({"FINISHED", "FAILED"})


@dataclass(slots=True)
class ActionRun:
    action: Action
    status: ActionStatus = "WAITING"
    result: str = ""
    left: float = 0.0
    """Simulated seconds until a running action finishes."""

    @property
    def id(self) -> str:
        return self.action.action_id

    @property
    def type(self) -> str:
        return self.action.action_type

    @property
    def ended(self) -> bool:
        return self.status in ENDED


@dataclass(slots=True)
class NodeRun:
    node_id: str
    node: int
    seq: int
    released: bool
    actions: list[ActionRun]


@dataclass(slots=True)
class EdgeRun:
    edge_id: str
    edge: int
    seq: int
    released: bool
    start: int
    end: int


@dataclass(slots=True)
class OrderRun:
    order_id: str
    update_id: int
    nodes: list[NodeRun]
    """Nodes not yet traversed (the nodeStates)."""
    edges: list[EdgeRun]
    """Edges not yet left (the edgeStates)."""
    actions: dict[str, ActionRun] = field(default_factory=dict)
    last_node_id: str = ""
    last_seq: int = 0
    pending: list[ActionRun] = field(default_factory=list)
    """Actions to do at the node the vehicle stands at, in order."""

    @property
    def executing(self) -> bool:
        """Nodes left to traverse or actions not ended (VDA 5050 6.6.2, step 3)."""
        return bool(self.nodes) or any(not a.ended for a in self.actions.values())

    @property
    def horizon(self) -> bool:
        return any(not n.released for n in self.nodes)

    def decision_point(self) -> tuple[str, int]:
        """The last released node (traversed or not): where an update must start."""
        released = [n for n in self.nodes if n.released]
        if released:
            return released[-1].node_id, released[-1].seq
        return self.last_node_id, self.last_seq

    def next_released(self) -> NodeRun | None:
        if self.nodes and self.nodes[0].released:
            return self.nodes[0]
        return None

    def reach(self, seq: int) -> list[ActionRun]:
        """Nodes up to ``seq`` traversed; returns the reached node's actions."""
        reached: list[ActionRun] = []
        while self.nodes and self.nodes[0].seq <= seq:
            node = self.nodes.pop(0)
            self.last_node_id, self.last_seq = node.node_id, node.seq
            reached = node.actions
        while self.edges and self.edges[0].seq < seq:
            self.edges.pop(0)
        return reached

    def cancel(self, why: str) -> None:
        """Every action not ended fails; nothing is left to traverse (VDA 5050 6.6.3)."""
        for action in self.actions.values():
            if not action.ended:
                action.status, action.result = "FAILED", why
        self.pending.clear()
        self.nodes.clear()
        self.edges.clear()


class Verdict(Enum):
    NEW = "new"
    UPDATE = "update"
    IGNORE = "ignore"
    REJECT = "reject"


@dataclass(frozen=True, slots=True)
class VehicleView:
    """What acceptance depends on."""

    run: OrderRun | None
    immobilised: bool
    x: float
    y: float
    last_road_node: int


@dataclass(frozen=True, slots=True)
class Graph:
    """The slice of the road map acceptance checks an order against."""

    n_nodes: int
    node_xy: Callable[[int], tuple[float, float]]
    edge_ends: Callable[[int], tuple[int, int] | None]
    has_charger: Callable[[int], bool]
    map_id: str


def check_order(order: Order, view: VehicleView, graph: Graph) -> tuple[Verdict, Error | None]:
    """Accept (as a new order or an update), ignore or reject, with the error to report."""
    refs = [
        Reference(reference_key="orderId", reference_value=order.order_id),
        Reference(reference_key="orderUpdateId", reference_value=str(order.order_update_id)),
    ]

    def refuse(kind: str, why: str, *extra: tuple[str, str]) -> tuple[Verdict, Error]:
        more = [Reference(reference_key=k, reference_value=v) for k, v in extra]
        return Verdict.REJECT, Error(
            error_type=kind,
            error_level="WARNING",
            error_references=refs + more,
            error_description=why,
        )

    run = view.run
    if run is not None and run.order_id == order.order_id:
        if order.order_update_id < run.update_id:
            return refuse(
                "orderUpdateError",
                f"orderUpdateId {order.order_update_id} is below the current {run.update_id}",
            )
        if order.order_update_id == run.update_id:
            return Verdict.IGNORE, None
    problem = _check_graph(order, graph)
    if problem is not None:
        return refuse(*problem)
    first = order.nodes[0]
    if run is not None and run.order_id == order.order_id:
        node_id, seq = run.decision_point()
        if first.node_id != node_id or first.sequence_id != seq:
            return refuse(
                "orderUpdateError",
                f"update starts at {first.node_id}/{first.sequence_id}, "
                f"not at the decision point {node_id}/{seq}",
                ("nodeId", first.node_id),
            )
        return Verdict.UPDATE, None
    if view.immobilised:
        return refuse("orderError", "the vehicle is e-stopped or immobilised")
    if run is not None and run.executing:
        return refuse("orderError", f"still executing order {run.order_id}")
    node = int(first.node_id[1:])
    deviation = 0.0
    if first.node_position is not None and first.node_position.allowed_deviation_x_y:
        deviation = first.node_position.allowed_deviation_x_y
    x, y = graph.node_xy(node)
    if node != view.last_road_node and math.hypot(x - view.x, y - view.y) > deviation + 1.0:
        return refuse(
            "noRouteError",
            f"the first node {first.node_id} is not where the vehicle is",
            ("nodeId", first.node_id),
        )
    return Verdict.NEW, None


def _check_graph(order: Order, graph: Graph) -> tuple[str, str, tuple[str, str]] | None:
    nodes, edges = order.nodes, order.edges
    if not nodes or len(edges) != len(nodes) - 1:
        return (
            "validationError",
            "an order needs n nodes and n - 1 edges",
            ("orderId", order.order_id),
        )
    seen_unreleased = False
    for k, node in enumerate(nodes):
        if node.sequence_id != nodes[0].sequence_id + 2 * k:
            return ("validationError", "node sequenceIds out of order", ("nodeId", node.node_id))
        if not node.released:
            seen_unreleased = True
        elif seen_unreleased:
            return ("validationError", "released node after the horizon", ("nodeId", node.node_id))
        index = _index(node.node_id, "n")
        if index is None or index >= graph.n_nodes:
            return ("orderError", f"unknown node {node.node_id}", ("nodeId", node.node_id))
        position = node.node_position
        if position is not None and position.map_id != graph.map_id:
            return ("orderError", f"node on map {position.map_id}", ("nodeId", node.node_id))
        for action in node.actions:
            if action.action_type not in NODE_ACTIONS:
                return (
                    "orderError",
                    f"cannot do {action.action_type!r}",
                    ("actionId", action.action_id),
                )
            if action.action_type == "startCharging" and not graph.has_charger(index):
                return ("orderError", "no charger at this node", ("nodeId", node.node_id))
    for k, edge in enumerate(edges):
        problem = _check_edge(edge, nodes[k], nodes[k + 1], graph)
        if problem is not None:
            return problem
    return None


def _check_edge(
    edge: Edge, start: Node, end: Node, graph: Graph
) -> tuple[str, str, tuple[str, str]] | None:
    ref = ("edgeId", edge.edge_id)
    if edge.sequence_id != start.sequence_id + 1:
        return ("validationError", "edge sequenceId out of order", ref)
    if edge.start_node_id != start.node_id or edge.end_node_id != end.node_id:
        return ("validationError", "edge does not join its nodes", ref)
    if edge.released and not end.released:
        return ("validationError", "released edge to an unreleased node", ref)
    index = _index(edge.edge_id, "e")
    ends = graph.edge_ends(index) if index is not None else None
    if ends is None:
        return ("orderError", f"unknown edge {edge.edge_id}", ref)
    if (f"n{ends[0]}", f"n{ends[1]}") != (start.node_id, end.node_id):
        return ("orderError", f"{edge.edge_id} is not the road between its nodes", ref)
    return None


def _index(text: str, prefix: str) -> int | None:
    if text.startswith(prefix) and text[1:].isdigit():
        return int(text[1:])
    return None


def build_run(order: Order) -> OrderRun:
    run = OrderRun(order.order_id, order.order_update_id, [], [])
    extend(run, order, skip_first=False)
    return run


def extend(run: OrderRun, order: Order, skip_first: bool) -> None:
    """Append an order's nodes, edges and actions (an update: after its stitching node,
    whose content stays as first sent; the horizon is replaced)."""
    run.update_id = order.order_update_id
    for dropped in (n for n in run.nodes if not n.released):
        for action in dropped.actions:
            run.actions.pop(action.id, None)
    run.nodes = [n for n in run.nodes if n.released]
    run.edges = [e for e in run.edges if e.released]
    for k, node in enumerate(order.nodes):
        if skip_first and k == 0:
            continue
        actions = [ActionRun(a) for a in node.actions]
        for action in actions:
            run.actions[action.id] = action
        run.nodes.append(
            NodeRun(node.node_id, int(node.node_id[1:]), node.sequence_id, node.released, actions)
        )
    for edge in order.edges:
        start, end = int(edge.start_node_id[1:]), int(edge.end_node_id[1:])
        run.edges.append(
            EdgeRun(
                edge.edge_id, int(edge.edge_id[1:]), edge.sequence_id, edge.released, start, end
            )
        )
