"""The cheapest feasible way to put one request into one route.

Every pair of positions (pickup after i, drop-off after j >= i) is screened in O(1)
with the route's caches: capacity, the time windows (earliest start pushed forward
against the latest start the rest of the route allows), a lower bound on the new
rider's ride time and on the route's duration. Screens that only get worse as j (or i)
moves right end the loop instead of skipping one pair; that relies on the triangle
inequality, which shortest-path travel times and distances satisfy. The pairs that pass
are then tried cheapest first with the exact schedule test, and the first feasible one
wins: exactness costs one O(route) test per insertion in the common case.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from headway.optimizer.darp.arrays import Arrays, FloatArray, IntArray
from headway.optimizer.darp.jit import njit
from headway.optimizer.darp.routes import EPS, Routes, schedule_ok, spliced

INF = np.inf


class Scratch(NamedTuple):
    """Buffers reused across kernel calls, so the search allocates nothing."""

    seq: IntArray
    times: FloatArray
    where: IntArray
    cand_cost: FloatArray
    cand_i: IntArray
    cand_j: IntArray
    ins_cost: FloatArray  # request x vehicle: best insertion cost (with noise, if any)
    ins_i: IntArray
    ins_j: IntArray
    pending: IntArray
    order: IntArray
    values: FloatArray


def new_scratch(a: Arrays) -> Scratch:
    width = 2 * a.n_req + 4
    pairs = width * width
    n_nodes = a.tt.shape[0]
    return Scratch(
        seq=np.zeros(width, dtype=np.int64),
        times=np.zeros(width),
        where=np.zeros(n_nodes, dtype=np.int64),
        cand_cost=np.zeros(pairs),
        cand_i=np.zeros(pairs, dtype=np.int64),
        cand_j=np.zeros(pairs, dtype=np.int64),
        ins_cost=np.full((a.n_req, a.n_veh), np.inf),
        ins_i=np.zeros((a.n_req, a.n_veh), dtype=np.int64),
        ins_j=np.zeros((a.n_req, a.n_veh), dtype=np.int64),
        pending=np.zeros(a.n_req, dtype=np.int64),
        order=np.zeros(max(a.n_req, a.n_veh), dtype=np.int64),
        values=np.zeros(max(a.n_req, a.n_veh)),
    )


@njit
def best_insertion(a: Arrays, s: Routes, w: Scratch, r: int, k: int) -> tuple[float, int, int]:
    """(cost increase, i, j) of the cheapest feasible insertion, or (inf, -1, -1)."""
    if a.req_vehicle[r] >= 0 and a.req_vehicle[r] != k:
        return INF, -1, -1
    n = _screen_drop_only(a, s, w, r, k) if a.req_pick[r] < 0 else _screen_pairs(a, s, w, r, k)
    while n > 0:
        best = 0
        for c in range(1, n):
            if w.cand_cost[c] < w.cand_cost[best]:
                best = c
        i, j = w.cand_i[best], w.cand_j[best]
        m = spliced(a, s, r, k, i, j, w.seq)
        if schedule_ok(a, w.seq, m, k, w.times, w.where):
            return w.cand_cost[best], i, j
        n -= 1
        w.cand_cost[best] = w.cand_cost[n]
        w.cand_i[best] = w.cand_i[n]
        w.cand_j[best] = w.cand_j[n]
    return INF, -1, -1


@njit
def _screen_pairs(a: Arrays, s: Routes, w: Scratch, r: int, k: int) -> int:
    seq = s.seq[k]
    m = s.size[k]
    p, d = a.req_pick[r], a.req_drop[r]
    q = a.demand[p]
    cap = a.capacity[k]
    slack_duration = a.max_duration[k] - s.reach[k, m - 1] + EPS
    ride = a.max_ride[p] + EPS
    tt, cost, service = a.tt, a.cost, a.service
    n = 0
    for i in range(m - 1):
        u, b = seq[i], seq[i + 1]
        start_p = max(a.early[p], s.earliest[k, i] + service[u] + tt[u, p])
        if start_p > a.late[p] + EPS:
            break
        if s.load[k, i] + q > cap:
            continue
        # drop-off right after the pickup
        start_d = max(a.early[d], start_p + service[p] + tt[p, d])
        if start_d <= a.late[d] + EPS:
            start_b = max(a.early[b], start_d + service[d] + tt[d, b])
            extra = tt[u, p] + service[p] + tt[p, d] + service[d] + tt[d, b] - tt[u, b]
            if start_b <= s.latest[k, i + 1] + EPS and extra <= slack_duration:
                w.cand_cost[n] = cost[u, p] + cost[p, d] + cost[d, b] - cost[u, b]
                w.cand_i[n] = i
                w.cand_j[n] = i
                n += 1
        # drop-off later in the route
        extra_p = tt[u, p] + service[p] + tt[p, b] - tt[u, b]
        cost_p = cost[u, p] + cost[p, b] - cost[u, b]
        if extra_p > slack_duration:
            continue
        prev = p
        start_prev = start_p
        for j in range(i + 1, m - 1):
            x, nxt = seq[j], seq[j + 1]
            start_x = max(a.early[x], start_prev + service[prev] + tt[prev, x])
            if start_x > s.latest[k, j] + EPS or s.load[k, j] + q > cap:
                break
            if tt[p, b] + s.reach[k, j] - s.reach[k, i + 1] + service[x] + tt[x, d] > ride:
                break
            start_d = max(a.early[d], start_x + service[x] + tt[x, d])
            if start_d > a.late[d] + EPS:
                break
            prev = x
            start_prev = start_x
            start_n = max(a.early[nxt], start_d + service[d] + tt[d, nxt])
            extra = extra_p + tt[x, d] + service[d] + tt[d, nxt] - tt[x, nxt]
            if start_n > s.latest[k, j + 1] + EPS or extra > slack_duration:
                continue
            w.cand_cost[n] = cost_p + cost[x, d] + cost[d, nxt] - cost[x, nxt]
            w.cand_i[n] = i
            w.cand_j[n] = j
            n += 1
    return n


@njit
def _screen_drop_only(a: Arrays, s: Routes, w: Scratch, r: int, k: int) -> int:
    seq = s.seq[k]
    m = s.size[k]
    d = a.req_drop[r]
    slack_duration = a.max_duration[k] - s.reach[k, m - 1] + EPS
    n = 0
    for j in range(m - 1):
        x, nxt = seq[j], seq[j + 1]
        start_d = max(a.early[d], s.earliest[k, j] + a.service[x] + a.tt[x, d])
        if start_d > a.late[d] + EPS:
            break
        start_n = max(a.early[nxt], start_d + a.service[d] + a.tt[d, nxt])
        extra = a.tt[x, d] + a.service[d] + a.tt[d, nxt] - a.tt[x, nxt]
        if start_n > s.latest[k, j + 1] + EPS or extra > slack_duration:
            continue
        w.cand_cost[n] = a.cost[x, d] + a.cost[d, nxt] - a.cost[x, nxt]
        w.cand_i[n] = -1
        w.cand_j[n] = j
        n += 1
    return n
