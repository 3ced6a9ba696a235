"""Where idle vehicles should wait: demand per zone, estimated from recent requests, and
moves that spread the idle vehicles in proportion to it.

Zones are squares of ``zone_size_m`` over the network. Each request's origin adds one to
its zone's count; counts decay exponentially with ``half_life_s``, so a count is the
request rate over roughly the last half-life (rate = count x ln 2 / half-life). Idle
vehicles are shared out between zones in proportion to those rates; vehicles in zones
holding well over their share go to zones holding well under it, by an assignment that
minimises the total driving time (each move at most ``max_move_s``). The slack keeps
vehicles from shuttling between zones whose demand differs a little: every move is
driven empty.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

from headway.network.graph import RoadNetwork
from headway.optimizer.dispatch.model import StopKind
from headway.optimizer.dispatch.plans import Plans
from headway.optimizer.dispatch.state import Stop
from headway.optimizer.dispatch.travel import TravelTimes

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


class Zones:
    """A square grid over the network; each zone's centre is a road node in it."""

    def __init__(self, network: RoadNetwork, size_m: float) -> None:
        xy = network.node_xy
        lo = xy.min(axis=0)
        cells = np.floor((xy - lo) / size_m).astype(np.int64)
        self.nx = int(cells[:, 0].max()) + 1
        cell = cells[:, 0] + self.nx * cells[:, 1]
        used, self.of_node = np.unique(cell, return_inverse=True)
        self.of_node = self.of_node.astype(np.int64)
        self.n = len(used)
        stop_nodes = np.array(sorted({s.node for s in network.stops}), dtype=np.int64)
        centres = np.zeros(self.n, dtype=np.int64)
        for z in range(self.n):
            members = np.flatnonzero(self.of_node == z)
            preferred = stop_nodes[self.of_node[stop_nodes] == z] if len(stop_nodes) else members
            pool = preferred if len(preferred) else members
            middle = xy[members].mean(axis=0)
            centres[z] = pool[np.argmin(np.hypot(*(xy[pool] - middle).T))]
        self.centre = centres


class DemandEstimate:
    """Exponentially decaying counts of request origins per zone."""

    def __init__(self, zones: Zones, half_life_s: float) -> None:
        self.zones = zones
        self.half_life_s = half_life_s
        self._counts = np.zeros(zones.n)
        self._at = 0.0

    def note(self, node: int, now_s: float) -> None:
        self._decay(now_s)
        self._counts[self.zones.of_node[node]] += 1.0

    def rates(self, now_s: float) -> FloatArray:
        """Requests per second per zone."""
        self._decay(now_s)
        out: FloatArray = self._counts * math.log(2) / self.half_life_s
        return out

    def _decay(self, now_s: float) -> None:
        if now_s > self._at:
            self._counts *= 0.5 ** ((now_s - self._at) / self.half_life_s)
            self._at = now_s


def rebalancing_moves(
    idle: Sequence[tuple[str, int]],
    staying: Sequence[int],
    zones: Zones,
    rates: FloatArray,
    travel: TravelTimes,
    max_move_s: float,
    slack: float = 0.5,
) -> list[tuple[str, int]]:
    """(vehicle, zone centre node) moves for the idle vehicles (id, node); vehicles
    already on their way to wait somewhere (``staying``: their targets) count where
    they go but are not moved again. Zones within ``slack`` (a share) of their due are
    left alone: vehicles move only from zones holding well over their share to zones
    holding well under it."""
    total = float(rates.sum())
    if not idle or total <= 0:
        return []
    share = (len(idle) + len(staying)) * rates / total
    nodes = np.array([node for _, node in idle], dtype=np.int64)
    where = zones.of_node[nodes]
    fixed = zones.of_node[np.array(staying, dtype=np.int64)]
    supply = np.bincount(where, minlength=zones.n) + np.bincount(fixed, minlength=zones.n)
    keep = np.ceil(share * (1.0 + slack)).astype(np.int64) + 1
    movers: list[int] = []
    for z in np.flatnonzero(supply > keep):
        movers.extend(np.flatnonzero(where == z)[: supply[z] - keep[z]].tolist())
    short = supply < share * (1.0 - slack)
    gaps = np.where(short, np.floor(share - supply), 0).astype(np.int64)
    slots = np.repeat(np.arange(zones.n), np.maximum(gaps, 0))
    if not movers or len(slots) == 0:
        return []
    targets = zones.centre[slots]
    unique, column = np.unique(targets, return_inverse=True)
    times = travel.matrix(nodes[movers], unique)[:, column]
    cost = np.where(times <= max_move_s, times, 1e9)
    rows, cols = linear_sum_assignment(cost)
    return [
        (idle[movers[r]][0], int(targets[c]))
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True)
        if cost[r, c] < 1e9
    ]


def rebalance(plans: Plans, zones: Zones, demand: DemandEstimate, now_s: float) -> set[str]:
    """Give a rebalancing stop to the idle vehicles that should move; their ids."""
    c, f = plans.config, plans.fleet
    idle: list[tuple[str, int]] = []
    staying: list[int] = []
    for vehicle in plans.vehicles.values():
        if not f.active[vehicle.row]:
            continue
        if vehicle.bound_for(StopKind.REBALANCE):
            staying.append(vehicle.stops[-1].node)
        elif not vehicle.stops and now_s - vehicle.idle_since_s >= c.rebalance_idle_s:
            idle.append((vehicle.id, vehicle.snap.node))
    rates = demand.rates(now_s)
    moves = rebalancing_moves(
        idle, staying, zones, rates, plans.travel, c.rebalance_max_move_s, c.rebalance_slack
    )
    changed: set[str] = set()
    for vehicle_id, node in moves:
        vehicle = plans.vehicles[vehicle_id]
        if node == vehicle.snap.node:
            continue
        drive = plans.travel.time(vehicle.snap.node, node)
        if drive + plans.tail[node] > f.budget[vehicle.row]:
            continue  # it could not reach a charger above its reserve from there
        vehicle.stops = [Stop(StopKind.REBALANCE, node)]
        plans.write(vehicle)
        changed.add(vehicle_id)
    return changed
