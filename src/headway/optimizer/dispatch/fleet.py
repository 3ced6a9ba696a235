"""The fleet's plans as flat arrays, and the compiled kernels that time them and find
the cheapest feasible insertion of a ride.

Row v holds vehicle v's pickup and drop-off stops in order, after its anchor (the node
where it can next be diverted, at ``ready``). Per stop: the node, the seats it adds or
frees, its window, the driving time from the previous stop (``leg``), and for a
drop-off the position of its pickup (-1 for a rider on board, whose deadline is then
absolute in ``late``). The cached schedule (start of service, departure, running cost,
load) is what an insertion keeps before the point where it changes the route.

Vehicles leave as soon as they can and wait only for a pickup window to open, so the
forward pass below is the schedule they will follow: checking it is exact. Stops at one
node whose windows are open are served together, in one dwell.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from headway.optimizer.darp.arrays import FloatArray, IntArray
from headway.optimizer.darp.jit import njit

EPS = 1e-6
OK, PICK_LATE, DROP_LATE, OTHER = 0, 1, 2, 3


class Fleet(NamedTuple):
    size: IntArray  # stops in each row
    anchor: IntArray
    ready: FloatArray
    onboard: IntArray  # seats taken at the anchor
    capacity: IntArray
    active: IntArray  # 1: may take new rides
    budget: FloatArray  # seconds of driving left before the reserve
    node: IntArray  # vehicle x stop
    delta: IntArray
    early: FloatArray
    late: FloatArray
    ref: FloatArray  # pickup: earliest requested; drop of a rider on board: picked-up time
    partner: IntArray
    max_ride: FloatArray
    leg: FloatArray
    start: FloatArray  # cached schedule
    depart: FloatArray
    cum_cost: FloatArray
    cum_drive: FloatArray
    load: IntArray
    base_cost: FloatArray


def new_fleet(n_vehicles: int, width: int) -> Fleet:
    shape = (n_vehicles, width)
    return Fleet(
        size=np.zeros(n_vehicles, dtype=np.int64),
        anchor=np.zeros(n_vehicles, dtype=np.int64),
        ready=np.zeros(n_vehicles),
        onboard=np.zeros(n_vehicles, dtype=np.int64),
        capacity=np.zeros(n_vehicles, dtype=np.int64),
        active=np.zeros(n_vehicles, dtype=np.int64),
        budget=np.zeros(n_vehicles),
        node=np.zeros(shape, dtype=np.int64),
        delta=np.zeros(shape, dtype=np.int64),
        early=np.zeros(shape),
        late=np.zeros(shape),
        ref=np.zeros(shape),
        partner=np.full(shape, -1, dtype=np.int64),
        max_ride=np.zeros(shape),
        leg=np.zeros(shape),
        start=np.zeros(shape),
        depart=np.zeros(shape),
        cum_cost=np.zeros(shape),
        cum_drive=np.zeros(shape),
        load=np.zeros(shape, dtype=np.int64),
        base_cost=np.zeros(n_vehicles),
    )


def grown(f: Fleet, n_vehicles: int) -> Fleet:
    """A copy of ``f`` with room for ``n_vehicles`` rows."""
    out = new_fleet(n_vehicles, f.node.shape[1])
    n = f.size.shape[0]
    for old, new in zip(f, out, strict=True):
        new[:n] = old
    return out


class Params(NamedTuple):
    dwell: float
    wait_weight: float
    ride_weight: float


@njit
def retime(f: Fleet, v: int, tail: FloatArray, p: Params) -> bool:
    """Recompute row v's schedule and cost from its legs. Windows and ride limits the
    schedule already misses (the vehicle ran late) are relaxed to what it achieves, so
    later insertions may not make those riders later still. False when the battery
    cannot cover the plan and the way to a charger."""
    t = f.ready[v]
    load = f.onboard[v]
    drive = 0.0
    cost = 0.0
    prev = f.anchor[v]
    prev_begin = -np.inf
    for x in range(f.size[v]):
        node = f.node[v, x]
        begin, t = _serve(t, f.leg[v, x], f.early[v, x], node, prev, prev_begin, p.dwell)
        if begin > f.late[v, x]:
            f.late[v, x] = begin
        drive += f.leg[v, x]
        load += f.delta[v, x]
        if f.delta[v, x] > 0:
            cost += p.wait_weight * (begin - f.ref[v, x])
        else:
            y = f.partner[v, x]
            picked = f.ref[v, x] if y < 0 else f.start[v, y]
            if y >= 0 and begin - picked > f.max_ride[v, x]:
                f.max_ride[v, x] = begin - picked
            cost += p.ride_weight * (begin - picked)
        f.start[v, x] = begin
        f.depart[v, x] = t
        f.load[v, x] = load
        f.cum_drive[v, x] = drive
        f.cum_cost[v, x] = drive + cost
        prev = node
        prev_begin = begin
    f.base_cost[v] = drive + cost
    last = f.node[v, f.size[v] - 1] if f.size[v] > 0 else f.anchor[v]
    return bool(drive + tail[last] <= f.budget[v] + EPS)


@njit
def _serve(
    t: float, leg: float, early: float, node: int, prev: int, prev_begin: float, dwell: float
) -> tuple[float, float]:
    """(start of service, departure) of a stop reached ``leg`` after leaving at ``t``.
    A stop at the node of the one before, whose window was already open when that one
    began, is served with it in the same dwell; any other stop begins when the vehicle
    is there and the window open, and costs a dwell."""
    if node == prev and early <= prev_begin:
        return prev_begin, t
    begin = max(t + leg, early)
    return begin, begin + dwell


class Ask(NamedTuple):
    """A ride to insert: its pickup window, ride limit, seats, and the travel-time rows."""

    pick: int
    drop: int
    early: float
    late: float
    ref: float
    max_ride: float
    seats: int
    direct: float
    to_pick: FloatArray
    from_pick: FloatArray
    to_drop: FloatArray
    from_drop: FloatArray


@njit
def _walk(
    f: Fleet, v: int, i: int, j: int, q: Ask, tail: FloatArray, p: Params, times: FloatArray
) -> tuple[int, float, float, float]:
    """Route v with the pickup after i stops and the drop-off after j >= i: (code, cost
    of the route, pickup time, drop-off time). Only the part from stop i is walked."""
    m = f.size[v]
    if i == 0:
        t = f.ready[v]
        load = f.onboard[v]
        drive = 0.0
        cost = 0.0
        prev = f.anchor[v]
        prev_begin = -np.inf
    else:
        t = f.depart[v, i - 1]
        load = f.load[v, i - 1]
        drive = f.cum_drive[v, i - 1]
        cost = f.cum_cost[v, i - 1] - drive
        prev = f.node[v, i - 1]
        prev_begin = f.start[v, i - 1]
    last_kind = 0  # 0 an old stop or the anchor, 1 the pickup, 2 the drop-off
    t_pick = 0.0
    t_drop = 0.0
    for x in range(i, m + 1):
        for what in range(2):
            if what == 0 and x == i:
                leg = q.to_pick[prev] if last_kind == 0 else 0.0
                begin, after = _serve(t, leg, q.early, q.pick, prev, prev_begin, p.dwell)
                if begin > q.late + EPS:
                    return PICK_LATE, 0.0, 0.0, 0.0
                load += q.seats
                if load > f.capacity[v]:
                    return OTHER, 0.0, 0.0, 0.0
                cost += p.wait_weight * (begin - q.ref)
                node = q.pick
                t_pick = begin
                kind = 1
            elif what == 1 and x == j:
                leg = q.direct if last_kind == 1 else q.to_drop[prev]
                begin, after = _serve(t, leg, 0.0, q.drop, prev, prev_begin, p.dwell)
                if begin - t_pick > q.max_ride + EPS:
                    return DROP_LATE, 0.0, 0.0, 0.0
                load -= q.seats
                cost += p.ride_weight * (begin - t_pick)
                node = q.drop
                t_drop = begin
                kind = 2
            else:
                continue
            drive += leg
            t = after
            prev = node
            prev_begin = begin
            last_kind = kind
        if x == m:
            break
        node = f.node[v, x]
        if last_kind == 0:
            leg = f.leg[v, x]
        elif last_kind == 1:
            leg = q.from_pick[node]
        else:
            leg = q.from_drop[node]
        begin, after = _serve(t, leg, f.early[v, x], node, prev, prev_begin, p.dwell)
        if begin > f.late[v, x] + EPS:
            return OTHER, 0.0, 0.0, 0.0
        load += f.delta[v, x]
        if load > f.capacity[v]:
            return OTHER, 0.0, 0.0, 0.0
        times[x] = begin
        if f.delta[v, x] > 0:
            cost += p.wait_weight * (begin - f.ref[v, x])
        else:
            y = f.partner[v, x]
            if y < 0:
                picked = f.ref[v, x]
            elif y < i:
                picked = f.start[v, y]
            else:
                picked = times[y]
            if y >= 0 and begin - picked > f.max_ride[v, x] + EPS:
                return OTHER, 0.0, 0.0, 0.0
            cost += p.ride_weight * (begin - picked)
        drive += leg
        t = after
        prev = node
        prev_begin = begin
        last_kind = 0
    if drive + tail[prev] > f.budget[v] + EPS:
        return OTHER, 0.0, 0.0, 0.0
    return OK, drive + cost, t_pick, t_drop


@njit
def best_insertion(
    f: Fleet, vehicles: IntArray, q: Ask, tail: FloatArray, p: Params, times: FloatArray
) -> tuple[int, int, int, float, float, float]:
    """Over ``vehicles``: (vehicle, i, j, added cost, pickup time, drop-off time) of the
    cheapest feasible insertion, vehicle -1 when there is none."""
    best_v, best_i, best_j = -1, -1, -1
    best_cost, best_pick, best_drop = np.inf, 0.0, 0.0
    for v in vehicles:
        if f.active[v] == 0 or f.capacity[v] < q.seats:
            continue
        if f.ready[v] + q.to_pick[f.anchor[v]] > q.late + EPS:
            continue
        m = f.size[v]
        for i in range(m + 1):
            before = f.ready[v] if i == 0 else f.depart[v, i - 1]
            at = f.anchor[v] if i == 0 else f.node[v, i - 1]
            reach = before + q.to_pick[at]
            if i > 0 and at == q.pick and q.early <= f.start[v, i - 1]:
                reach = f.start[v, i - 1]  # boards with the stop before
            if reach > q.late + EPS:
                break
            if i > 0 and f.load[v, i - 1] + q.seats > f.capacity[v]:
                continue
            for j in range(i, m + 1):
                code, cost, t_pick, t_drop = _walk(f, v, i, j, q, tail, p, times)
                if PICK_LATE <= code <= DROP_LATE:
                    break
                if code == OK:
                    added = cost - f.base_cost[v]
                    if added < best_cost:
                        best_v, best_i, best_j = v, i, j
                        best_cost, best_pick, best_drop = added, t_pick, t_drop
    return best_v, best_i, best_j, best_cost, best_pick, best_drop


def warm_up() -> None:
    """Load (or compile) the kernels on a fleet of one vehicle with no stops."""
    f = new_fleet(1, 4)
    f.active[0] = 1
    f.capacity[0] = 1
    f.budget[0] = np.inf
    row = np.zeros(1)
    params = Params(0.0, 0.0, 0.0)
    retime(f, 0, row, params)
    ask = Ask(0, 0, 0.0, 1.0, 0.0, 1.0, 1, 0.0, row, row, row, row)
    best_insertion(f, np.zeros(1, dtype=np.int64), ask, row, params, np.zeros(6))
