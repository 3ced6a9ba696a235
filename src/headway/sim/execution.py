"""Carrying out orders and instant actions on the road graph, in simulated time.

``OrderExecutor`` is the part of :class:`~headway.sim.model.FleetModel` that deals with
what the platform asks: it takes orders over or refuses them (``orders.check_order``),
drives from node to node along the order's edges, does the actions at the nodes
(doors, passengers, holds, charging), and handles pause, resume, hold and cancel.
A vehicle that took an order once stays under the platform's control: when it has
nothing left to do it stands still (``Activity.IDLE``) instead of roaming.

Legs run from the node the vehicle stands at to the next node with actions (or to the
decision point), so the vehicle does not stop at plain road nodes. A vehicle that is
not on the order's first node joins it by its own road routing (Headway's profile: the
first node of a new order carries a deviation range, VDA 5050 6.6.3.1).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from headway.contracts.vda5050 import Action, Error, Order, Reference
from headway.sim.motion import Leg, Path
from headway.sim.orders import (
    ActionRun,
    Graph,
    VehicleView,
    Verdict,
    build_run,
    check_order,
    extend,
)
from headway.sim.vehicle import Activity, Vehicle

if TYPE_CHECKING:
    from headway.sim.model import FleetModel

DOOR_S = 3.0
BOARD_S = (2.0, 2.0)
"""Seconds to start boarding, and per passenger."""
ALIGHT_S = (2.0, 1.5)
_KEEP_ERRORS = 8
_KEEP_SEEN = 512


class OrderExecutor:
    def __init__(self, model: FleetModel) -> None:
        self._model = model
        network = model.network
        xy = network.node_xy
        src, dst = network.edge_src, network.edge_dst
        n_edges = len(src)
        self._charger_at = {int(c.node): i for i, c in enumerate(network.chargers)}
        self.graph = Graph(
            n_nodes=len(xy),
            node_xy=lambda n: (float(xy[n][0]), float(xy[n][1])),
            edge_ends=lambda e: (int(src[e]), int(dst[e])) if 0 <= e < n_edges else None,
            has_charger=lambda n: n in self._charger_at,
            map_id=network.frame.map_id,
        )

    # ------------------------------------------------------------ messages in

    def receive_order(self, vehicle: Vehicle, order: Order) -> bool:
        """Take an order over, or refuse it; returns True if the state changed."""
        x, y, _ = self._model.pose(vehicle)
        view = VehicleView(vehicle.order, vehicle.faults.immobilised, x, y, vehicle.last_node)
        verdict, error = check_order(order, view, self.graph)
        if verdict is Verdict.IGNORE:
            return False
        if verdict is Verdict.REJECT:
            assert error is not None
            vehicle.order_errors = [*vehicle.order_errors, error][-_KEEP_ERRORS:]
            return True
        vehicle.applied.append(f"order:{order.order_id}:{order.order_update_id}")
        if verdict is Verdict.UPDATE:
            assert vehicle.order is not None
            extend(vehicle.order, order, skip_first=True)
            if vehicle.activity is Activity.IDLE:
                self.advance(vehicle)
            return True
        vehicle.order_errors = []
        run = build_run(order)
        vehicle.order = run
        vehicle.commanded = True
        run.pending = list(run.reach(run.nodes[0].seq))
        vehicle.target = None
        if vehicle.activity is Activity.DRIVING and vehicle.leg is not None:
            if not vehicle.leg_reach:
                # Roaming: stop at the end of this road segment and join the order there.
                _truncate(vehicle)
            return True
        if vehicle.activity in (Activity.CHARGING, Activity.QUEUED):
            self._model.leave_charger(vehicle)
        vehicle.activity = Activity.IDLE
        self.advance(vehicle)
        return True

    def receive_instant(self, vehicle: Vehicle, actions: list[Action]) -> bool:
        changed = False
        for action in actions:
            if action.action_id in vehicle.seen_actions:
                continue
            vehicle.seen_actions[action.action_id] = None
            if len(vehicle.seen_actions) > _KEEP_SEEN:
                del vehicle.seen_actions[next(iter(vehicle.seen_actions))]
            vehicle.applied.append(f"action:{action.action_id}")
            run = ActionRun(action)
            vehicle.instant_states.append(run)
            self._instant(vehicle, run)
            changed = True
        return changed

    def _instant(self, vehicle: Vehicle, run: ActionRun) -> None:
        kind = run.type
        if kind == "startPause":
            vehicle.paused = True
            if vehicle.leg is not None:
                vehicle.leg.halt()
            run.status = "FINISHED"
        elif kind == "stopPause":
            vehicle.paused = False
            run.status = "FINISHED"
        elif kind == "hold":
            duration = run.action.parameter("durationS")
            if not isinstance(duration, float | int) or duration <= 0:
                run.status, run.result = "FAILED", "hold needs a durationS above 0"
                return
            if vehicle.hold is not None and not vehicle.hold.ended:
                vehicle.hold.status, vehicle.hold.result = "FAILED", f"replaced by {run.id}"
            run.left = float(duration)
            vehicle.hold = run
            if vehicle.activity is not Activity.DRIVING:
                run.status = "RUNNING"
        elif kind == "cancelOrder":
            self._cancel(vehicle, run)
        else:
            run.status, run.result = "FAILED", f"unsupported instant action {kind!r}"

    def _cancel(self, vehicle: Vehicle, run: ActionRun) -> None:
        order = vehicle.order
        if order is None or not order.executing:
            run.status, run.result = "FAILED", "no order to cancel"
            error = Error(
                error_type="noOrderToCancel",
                error_level="WARNING",
                error_references=[Reference(reference_key="actionId", reference_value=run.id)],
                error_description="the vehicle has no order to cancel",
            )
            vehicle.order_errors = [*vehicle.order_errors, error][-_KEEP_ERRORS:]
            return
        order.cancel(f"cancelled by {run.id}")
        if vehicle.activity is Activity.DRIVING and vehicle.leg is not None:
            _truncate(vehicle)
            vehicle.leg_reach = ()
            run.status = "RUNNING"
            vehicle.cancelling = run
            return
        if vehicle.activity is Activity.ACTING:
            vehicle.activity = Activity.IDLE
        run.status = "FINISHED"

    # ------------------------------------------------------------ motion

    def tick_hold(self, vehicle: Vehicle, dt: float) -> None:
        hold = vehicle.hold
        if hold is None:
            return
        if hold.status == "WAITING" and vehicle.activity is not Activity.DRIVING:
            hold.status = "RUNNING"
            vehicle.urgent = True
        if hold.status != "RUNNING":
            return
        hold.left -= dt
        if hold.left <= 0.0:
            hold.status = "FINISHED"
            vehicle.hold = None
            vehicle.urgent = True
            if vehicle.commanded and vehicle.activity is Activity.IDLE:
                self.advance(vehicle)

    def advance(self, vehicle: Vehicle) -> None:
        """A commanded vehicle standing at a node: do what comes next."""
        run = vehicle.order
        vehicle.urgent = True
        if run is None:
            vehicle.activity = Activity.IDLE
            return
        following = run.next_released()
        while following is not None and following.node == vehicle.node and not run.pending:
            run.pending = list(run.reach(following.seq))
            following = run.next_released()
        if run.pending:
            vehicle.activity = Activity.ACTING
            return
        if following is None or holding(vehicle):
            vehicle.activity = Activity.IDLE
            return
        if not self._set_off(vehicle):
            vehicle.activity = Activity.IDLE

    def _set_off(self, vehicle: Vehicle) -> bool:
        run = vehicle.order
        assert run is not None
        released = [n for n in run.nodes if n.released]
        target = next((i for i, n in enumerate(released) if n.actions), len(released) - 1)
        chain = released[: target + 1]
        into = {e.seq: e for e in run.edges}
        nodes, edges, reach = [vehicle.node], [], []
        first = chain[0]
        entry = into.get(first.seq - 1)
        if entry is not None and entry.start == vehicle.node:
            nodes.append(first.node)
            edges.append(entry.edge)
            reach.append(first.seq)
        else:
            approach = self._model.path(vehicle.node, first.node)
            if approach is None:
                run.cancel(f"no road from n{vehicle.node} to {first.node_id}")
                return False
            nodes.extend(approach.nodes[1:])
            edges.extend(approach.edges)
            reach.extend([-1] * (len(approach.edges) - 1) + [first.seq])
        for node in chain[1:]:
            edge = into[node.seq - 1]
            nodes.append(node.node)
            edges.append(edge.edge)
            reach.append(node.seq)
        spec = vehicle.spec
        path = self._model.build_path(tuple(nodes), tuple(edges))
        vehicle.leg = Leg(path, spec.acceleration_mps2, spec.deceleration_mps2)
        vehicle.leg_reach = tuple(reach)
        vehicle.leg_done = 0
        vehicle.activity = Activity.DRIVING
        return True

    def passed(self, vehicle: Vehicle) -> None:
        """Account for the order nodes the current leg has passed."""
        leg, run = vehicle.leg, vehicle.order
        if leg is None or run is None or not vehicle.leg_reach:
            return
        done = len(leg.path.edges) if leg.done else leg.k
        for index in range(vehicle.leg_done, min(done, len(vehicle.leg_reach))):
            seq = vehicle.leg_reach[index]
            if seq >= 0:
                run.pending.extend(run.reach(seq))
                vehicle.urgent = True
        vehicle.leg_done = max(vehicle.leg_done, done)

    def arrive(self, vehicle: Vehicle) -> None:
        """The leg ended at ``vehicle.node``."""
        vehicle.leg_reach = ()
        vehicle.leg_done = 0
        cancelling = vehicle.cancelling
        if cancelling is not None:
            cancelling.status = "FINISHED"
            vehicle.cancelling = None
        self.advance(vehicle)

    def act(self, vehicle: Vehicle, left: float) -> float:
        """Do the pending node actions for up to ``left`` seconds; returns what is left."""
        run = vehicle.order
        while left > 1e-9:
            if run is None or not run.pending:
                self.advance(vehicle)
                return left if vehicle.activity is Activity.DRIVING else 0.0
            action = run.pending[0]
            if action.status == "WAITING":
                self._start(vehicle, action)
                vehicle.urgent = True
                if vehicle.activity is not Activity.ACTING:
                    return 0.0
            if action.status == "RUNNING":
                if action.left > left:
                    action.left -= left
                    return 0.0
                left -= action.left
                action.left = 0.0
                action.status = "FINISHED"
                vehicle.urgent = True
            if action.ended:
                run.pending.pop(0)
        return 0.0

    def _start(self, vehicle: Vehicle, action: ActionRun) -> None:
        kind = action.type
        rng = vehicle.rng
        action.status = "RUNNING"
        if kind in ("doorOpen", "doorClose"):
            action.left = DOOR_S
        elif kind == "drop":
            count = rng.randint(0, len(vehicle.seats))
            vehicle.alight(count)
            action.left = ALIGHT_S[0] + ALIGHT_S[1] * count
            action.result = f"{count} alighted"
        elif kind == "pick":
            count = rng.randint(0, min(vehicle.free_seats, 4))
            vehicle.board(count)
            action.left = BOARD_S[0] + BOARD_S[1] * count
            action.result = f"{count} boarded"
        elif kind == "hold":
            duration = action.action.parameter("durationS")
            action.left = float(duration) if isinstance(duration, float | int) else 0.0
        elif kind == "startCharging":
            index = self._charger_at.get(vehicle.node)
            if index is None:
                action.status, action.result = "FAILED", "no charger here"
                return
            target = action.action.parameter("targetPct")
            goal = float(target) if isinstance(target, float | int) else None
            if goal is not None and vehicle.battery_pct >= goal:
                action.status, action.result = "FINISHED", "already charged"
                return
            vehicle.charge_goal_pct = goal
            self._model.plug_in(vehicle, index)
            if vehicle.activity is Activity.CHARGING:
                action.status = "FINISHED"
            else:
                action.result = "waiting for a free plug"
        elif kind == "stopCharging":
            if vehicle.activity in (Activity.CHARGING, Activity.QUEUED):
                self._model.leave_charger(vehicle)
                vehicle.activity = Activity.ACTING
            action.status = "FINISHED"
        else:
            action.status, action.result = "FAILED", f"unsupported action {kind!r}"

    def plugged(self, vehicle: Vehicle) -> None:
        """A queued vehicle got its plug: its startCharging has now started charging."""
        run = vehicle.order
        if run is not None and run.pending and run.pending[0].type == "startCharging":
            action = run.pending[0]
            if action.status == "RUNNING":
                action.status, action.result = "FINISHED", ""


def holding(vehicle: Vehicle) -> bool:
    """A running hold keeps the vehicle where it stands."""
    return vehicle.hold is not None and vehicle.hold.status == "RUNNING"


def _truncate(vehicle: Vehicle) -> None:
    """Make the current leg end at the end of the road segment the vehicle is on."""
    leg = vehicle.leg
    assert leg is not None
    path = leg.path
    k = leg.k
    if k >= len(path.edges) - 1:
        return
    cut = Path.build(
        path.nodes[: k + 2], path.edges[: k + 1], path.lengths[: k + 1], path.limits[: k + 1]
    )
    vehicle.leg = Leg(cut, leg.accel, leg.decel, s=leg.s, v=leg.v, k=k)
    if vehicle.leg_reach:
        vehicle.leg_reach = vehicle.leg_reach[: k + 1]
