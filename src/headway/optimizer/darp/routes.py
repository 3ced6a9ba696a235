"""A solution as arrays, with per-route caches, and the exact schedule test.

Every route holds its vehicle's start and end nodes at both ends. Per position it caches
the earliest start of service and the latest start that keeps the rest of the route in
its windows (both ignoring ride times and route duration), the load after service, and
the service-plus-travel time from the route's start with no waiting. The insertion
filters read these; the exact test settles every candidate they let through.

The exact test (``schedule_ok``) computes the earliest schedule that meets every
constraint, or proves there is none. All constraints of a route in a fixed order are
lower bounds of the form B_j >= B_i + c (travel: next after previous; ride time: a
pickup no earlier than its drop-off minus service and the ride limit; duration: the
start no earlier than the end minus the limit) plus the windows. Starting from the
earliest times and raising any start that breaks a lower bound keeps every value a
lower bound on any feasible schedule, so it either settles on a feasible schedule or
pushes some start past its window, which proves that none exists.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from headway.optimizer.darp.arrays import Arrays, FloatArray, IntArray
from headway.optimizer.darp.jit import njit

EPS = 1e-9


class Routes(NamedTuple):
    seq: IntArray  # vehicle x position -> node
    size: IntArray  # nodes in each route, start and end included
    route_of: IntArray  # node -> vehicle, -1 when unplanned
    pos: IntArray  # node -> position in its route
    earliest: FloatArray
    latest: FloatArray
    load: IntArray
    reach: FloatArray
    cost: FloatArray


def new_routes(a: Arrays) -> Routes:
    """Every vehicle going straight from its start to its end."""
    n_nodes, width = a.tt.shape[0], 2 * a.n_req + 2
    shape = (a.n_veh, width)
    routes = Routes(
        seq=np.zeros(shape, dtype=np.int64),
        size=np.full(a.n_veh, 2, dtype=np.int64),
        route_of=np.full(n_nodes, -1, dtype=np.int64),
        pos=np.zeros(n_nodes, dtype=np.int64),
        earliest=np.zeros(shape),
        latest=np.zeros(shape),
        load=np.zeros(shape, dtype=np.int64),
        reach=np.zeros(shape),
        cost=np.zeros(a.n_veh),
    )
    routes.seq[:, 0] = a.veh_start
    routes.seq[:, 1] = a.veh_end
    for k in range(a.n_veh):
        refresh(a, routes, k)
    return routes


def copy_routes(routes: Routes) -> Routes:
    return Routes._make(np.copy(field) for field in routes)


@njit
def copy_into(dst: Routes, src: Routes) -> None:
    """dst := src, copying only the occupied part of each route."""
    dst.size[:] = src.size
    dst.route_of[:] = src.route_of
    dst.pos[:] = src.pos
    dst.cost[:] = src.cost
    for k in range(src.size.shape[0]):
        m = src.size[k]
        dst.seq[k, :m] = src.seq[k, :m]
        dst.earliest[k, :m] = src.earliest[k, :m]
        dst.latest[k, :m] = src.latest[k, :m]
        dst.load[k, :m] = src.load[k, :m]
        dst.reach[k, :m] = src.reach[k, :m]


@njit
def refresh(a: Arrays, s: Routes, k: int) -> None:
    """Recompute route k's caches and cost after a change of its node sequence."""
    m = s.size[k]
    seq = s.seq[k]
    first = seq[0]
    s.route_of[first] = k
    s.pos[first] = 0
    s.earliest[k, 0] = a.early[first]
    s.load[k, 0] = a.demand[first]
    s.reach[k, 0] = 0.0
    total = 0.0
    for x in range(1, m):
        prev, node = seq[x - 1], seq[x]
        s.route_of[node] = k
        s.pos[node] = x
        step = a.service[prev] + a.tt[prev, node]
        s.earliest[k, x] = max(a.early[node], s.earliest[k, x - 1] + step)
        s.load[k, x] = s.load[k, x - 1] + a.demand[node]
        s.reach[k, x] = s.reach[k, x - 1] + step
        total += a.cost[prev, node]
    s.latest[k, m - 1] = a.late[seq[m - 1]]
    for x in range(m - 2, -1, -1):
        node, nxt = seq[x], seq[x + 1]
        s.latest[k, x] = min(a.late[node], s.latest[k, x + 1] - a.service[node] - a.tt[node, nxt])
    s.cost[k] = total


@njit
def schedule_ok(
    a: Arrays, seq: IntArray, m: int, k: int, times: FloatArray, where: IntArray
) -> bool:
    """Whether some schedule serves seq[:m] on vehicle k within every constraint; on
    success ``times`` holds the earliest such schedule."""
    for x in range(m):
        where[seq[x]] = x
    n_req = a.n_req
    times[0] = a.early[seq[0]]
    for x in range(1, m):
        prev, node = seq[x - 1], seq[x]
        times[x] = max(a.early[node], times[x - 1] + a.service[prev] + a.tt[prev, node])
        if times[x] > a.late[node] + EPS:
            return False
    for _ in range(m + 2):
        lowest = m
        for x in range(m):
            node = seq[x]
            if node < n_req or node >= 2 * n_req or a.partner[node] < 0:
                continue
            pick = a.partner[node]
            y = where[pick]
            need = times[x] - a.service[pick] - a.max_ride[pick]
            if need > times[y] + 1e-12:
                if need > a.late[pick] + EPS:
                    return False
                times[y] = need
                lowest = min(lowest, y)
        need = times[m - 1] - a.max_duration[k]
        if need > times[0] + 1e-12:
            if need > a.late[seq[0]] + EPS:
                return False
            times[0] = need
            lowest = 0
        if lowest == m:
            return True
        for x in range(lowest + 1, m):
            prev, node = seq[x - 1], seq[x]
            arrive = times[x - 1] + a.service[prev] + a.tt[prev, node]
            if arrive > times[x]:
                if arrive > a.late[node] + EPS:
                    return False
                times[x] = arrive
    return False


@njit
def remove_request(a: Arrays, s: Routes, r: int) -> None:
    """Take request r out of its route (it must be in one)."""
    drop = a.req_drop[r]
    pick = a.req_pick[r]
    k = s.route_of[drop]
    m = s.size[k]
    t = 0
    for x in range(m):
        node = s.seq[k, x]
        if node != drop and node != pick:
            s.seq[k, t] = node
            t += 1
    s.size[k] = t
    s.route_of[drop] = -1
    if pick >= 0:
        s.route_of[pick] = -1
    refresh(a, s, k)


@njit
def spliced(a: Arrays, s: Routes, r: int, k: int, i: int, j: int, out: IntArray) -> int:
    """Route k with request r's pickup after position i and drop-off after position j
    (j == i: right after the pickup; no pickup for a rider on board), written to out."""
    pick, drop = a.req_pick[r], a.req_drop[r]
    t = 0
    for x in range(s.size[k]):
        out[t] = s.seq[k, x]
        t += 1
        if x == i and pick >= 0:
            out[t] = pick
            t += 1
        if x == j:
            out[t] = drop
            t += 1
    return t


@njit
def insert_request(a: Arrays, s: Routes, r: int, k: int, i: int, j: int, buf: IntArray) -> None:
    m = spliced(a, s, r, k, i, j, buf)
    s.seq[k, :m] = buf[:m]
    s.size[k] = m
    refresh(a, s, k)


@njit
def unassigned_count(a: Arrays, s: Routes) -> int:
    count = 0
    for r in range(a.n_req):
        if s.route_of[a.req_drop[r]] < 0:
            count += 1
    return count


@njit
def total_cost(s: Routes) -> float:
    return float(np.sum(s.cost))


def route_times(a: Arrays, s: Routes, k: int) -> npt.NDArray[np.float64] | None:
    """The earliest feasible schedule of route k, or None if it has none."""
    m = int(s.size[k])
    times = np.zeros(m)
    where = np.zeros(a.tt.shape[0], dtype=np.int64)
    ok = schedule_ok(a, np.ascontiguousarray(s.seq[k, :m]), m, k, times, where)
    return times if ok else None
