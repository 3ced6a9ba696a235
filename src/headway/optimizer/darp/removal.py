"""Destroy operators: each takes q planned requests out and lists them in w.pending.

- random: any q requests;
- worst: the requests whose removal saves most, with a random bias (Ropke & Pisinger);
- related: requests close in place, time and load to ones already removed (Shaw);
- route: whole routes (when a route holds no more than q requests), then random ones.

The biased choices take the element at rank floor(u^p * count) of a sorted list, u
uniform in [0, 1): p = 1 is uniform, large p nearly always the top.
"""

from __future__ import annotations

import numpy as np

from headway.optimizer.darp.arrays import Arrays
from headway.optimizer.darp.insertion import Scratch
from headway.optimizer.darp.jit import njit
from headway.optimizer.darp.rng import State, below, uniform
from headway.optimizer.darp.routes import Routes, remove_request

RANDOM, WORST, RELATED, ROUTE = 0, 1, 2, 3
N_DESTROY = 4


@njit
def destroy(a: Arrays, s: Routes, w: Scratch, operator: int, q: int, rng: State) -> int:
    """Remove up to q requests with the given operator; return how many."""
    n = _planned(a, s, w)
    q = min(q, n)
    if operator == WORST:
        return _worst(a, s, w, q, rng, 3.0)
    if operator == RELATED:
        return _related(a, s, w, q, rng, 6.0)
    if operator == ROUTE:
        return _routes(a, s, w, q, rng)
    return _random(a, s, w, n, q, 0, rng)


@njit
def _planned(a: Arrays, s: Routes, w: Scratch) -> int:
    """Write the planned requests to w.order; return their number."""
    n = 0
    for r in range(a.n_req):
        if s.route_of[a.req_drop[r]] >= 0:
            w.order[n] = r
            n += 1
    return n


@njit
def _random(a: Arrays, s: Routes, w: Scratch, n: int, q: int, done: int, rng: State) -> int:
    """Remove random requests from w.order[:n] until ``done`` reaches q."""
    while done < q and n > 0:
        t = below(rng, n)
        r = w.order[t]
        n -= 1
        w.order[t] = w.order[n]
        if s.route_of[a.req_drop[r]] >= 0:
            remove_request(a, s, r)
            w.pending[done] = r
            done += 1
    return done


@njit
def _saving(a: Arrays, s: Routes, r: int) -> float:
    k = s.route_of[a.req_drop[r]]
    seq = s.seq[k]
    c = a.cost
    j = s.pos[a.req_drop[r]]
    d = seq[j]
    if a.req_pick[r] < 0:
        return float(c[seq[j - 1], d] + c[d, seq[j + 1]] - c[seq[j - 1], seq[j + 1]])
    i = s.pos[a.req_pick[r]]
    p = seq[i]
    if j == i + 1:
        return float(c[seq[i - 1], p] + c[p, d] + c[d, seq[j + 1]] - c[seq[i - 1], seq[j + 1]])
    return float(
        c[seq[i - 1], p]
        + c[p, seq[i + 1]]
        - c[seq[i - 1], seq[i + 1]]
        + c[seq[j - 1], d]
        + c[d, seq[j + 1]]
        - c[seq[j - 1], seq[j + 1]]
    )


@njit
def _worst(a: Arrays, s: Routes, w: Scratch, q: int, rng: State, power: float) -> int:
    for done in range(q):
        n = _planned(a, s, w)
        for t in range(n):
            w.values[t] = -_saving(a, s, w.order[t])
        ranked = np.argsort(w.values[:n])
        r = w.order[ranked[int(uniform(rng) ** power * n)]]
        remove_request(a, s, r)
        w.pending[done] = r
    return q


@njit
def _related(a: Arrays, s: Routes, w: Scratch, q: int, rng: State, power: float) -> int:
    if q == 0:
        return 0
    n = _planned(a, s, w)
    first = w.order[below(rng, n)]
    remove_request(a, s, first)
    w.pending[0] = first
    for done in range(1, q):
        anchor = w.pending[below(rng, done)]
        n = _planned(a, s, w)
        for t in range(n):
            w.values[t] = a.related[anchor, w.order[t]]
        ranked = np.argsort(w.values[:n])
        r = w.order[ranked[int(uniform(rng) ** power * n)]]
        remove_request(a, s, r)
        w.pending[done] = r
    return q


@njit
def _routes(a: Arrays, s: Routes, w: Scratch, q: int, rng: State) -> int:
    done = 0
    start = below(rng, a.n_veh)
    for step in range(a.n_veh):
        k = (start + step) % a.n_veh
        inside = 0
        for x in range(1, s.size[k] - 1):
            if s.seq[k, x] >= a.n_req:
                inside += 1
        if inside == 0 or done + inside > q:
            continue
        while s.size[k] > 2:
            node = s.seq[k, 1]
            r = node - a.n_req if node >= a.n_req else node
            remove_request(a, s, r)
            w.pending[done] = r
            done += 1
        break
    n = _planned(a, s, w)
    return _random(a, s, w, n, q, done, rng)
