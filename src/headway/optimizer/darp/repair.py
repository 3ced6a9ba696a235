"""Putting removed requests back: greedy and regret-k insertion, optionally with noise.

Regret-k (Ropke & Pisinger 2006) inserts first the request that would lose most by
waiting: the sum over its 2nd..k-th best routes of how much worse each is than its
best. A request with fewer feasible routes than k counts each missing one as a huge
loss, so the most constrained requests go first. Greedy (k = 1) takes the cheapest.
Noise perturbs each route's insertion cost by up to ``noise`` times the longest arc,
which diversifies the search. After an insertion only the changed route is re-evaluated
for the requests still waiting. Empty vehicles of one type are interchangeable, so only
the first of them is evaluated.
"""

from __future__ import annotations

from headway.optimizer.darp.arrays import Arrays, IntArray
from headway.optimizer.darp.insertion import INF, Scratch, best_insertion
from headway.optimizer.darp.jit import njit
from headway.optimizer.darp.rng import State, uniform
from headway.optimizer.darp.routes import Routes, insert_request

MISSING = 1e9  # what a route with no feasible insertion counts for in a regret


@njit
def repair(
    a: Arrays,
    s: Routes,
    w: Scratch,
    pending: IntArray,
    n_pending: int,
    regret: int,
    noise: float,
    rng: State,
) -> int:
    """Insert pending[:n_pending]; return how many could not be inserted anywhere."""
    amplitude = noise * a.penalty / 10.0
    for t in range(n_pending):
        for k in range(a.n_veh):
            _evaluate(a, s, w, pending[t], k, amplitude, rng)
    left = n_pending
    while left > 0:
        chosen = -1
        best_score = -INF
        best_first = INF
        best_k = -1
        for t in range(left):
            r = pending[t]
            first, first_k, score = _regret(a, w, r, regret)
            if first >= INF:
                continue
            if score > best_score or (score == best_score and first < best_first):
                chosen, best_score, best_first, best_k = t, score, first, first_k
        if chosen < 0:
            break
        r = pending[chosen]
        was_empty = s.size[best_k] == 2
        insert_request(a, s, r, best_k, w.ins_i[r, best_k], w.ins_j[r, best_k], w.seq)
        left -= 1
        pending[chosen] = pending[left]
        pending[left] = r
        twin = _next_empty_twin(a, s, best_k) if was_empty else -1
        for t in range(left):
            _evaluate(a, s, w, pending[t], best_k, amplitude, rng)
            if twin >= 0:
                _evaluate(a, s, w, pending[t], twin, amplitude, rng)
    return left


@njit
def _evaluate(
    a: Arrays, s: Routes, w: Scratch, r: int, k: int, amplitude: float, rng: State
) -> None:
    if s.size[k] == 2 and _has_empty_twin_before(a, s, k):
        w.ins_cost[r, k] = INF
        return
    c, i, j = best_insertion(a, s, w, r, k)
    if c < INF and amplitude > 0.0:
        c = max(0.0, c + amplitude * (2.0 * uniform(rng) - 1.0))
    w.ins_cost[r, k] = c
    w.ins_i[r, k] = i
    w.ins_j[r, k] = j


@njit
def _has_empty_twin_before(a: Arrays, s: Routes, k: int) -> bool:
    for other in range(k):  # noqa: SIM110 (numba compiles no generator expressions)
        if s.size[other] == 2 and a.veh_type[other] == a.veh_type[k]:
            return True
    return False


@njit
def _next_empty_twin(a: Arrays, s: Routes, k: int) -> int:
    for other in range(a.n_veh):
        if other != k and s.size[other] == 2 and a.veh_type[other] == a.veh_type[k]:
            return other
    return -1


@njit
def _regret(a: Arrays, w: Scratch, r: int, regret: int) -> tuple[float, int, float]:
    """(best cost, its vehicle, regret score) of request r; greedy scores -best cost."""
    first = INF
    first_k = -1
    for k in range(a.n_veh):
        if w.ins_cost[r, k] < first:
            first = w.ins_cost[r, k]
            first_k = k
    if regret <= 1 or first >= INF:
        return first, first_k, -first
    # the regret-1 next best costs, by repeated selection (k is small)
    score = 0.0
    last = first
    last_k = first_k
    for _ in range(1, regret):
        nxt = INF
        nxt_k = -1
        for k in range(a.n_veh):
            c = w.ins_cost[r, k]
            if (c > last or (c == last and k > last_k)) and (c < nxt or (c == nxt and k < nxt_k)):
                nxt = c
                nxt_k = k
        if nxt_k < 0:
            score += MISSING
        else:
            score += min(nxt, MISSING) - first
            last = nxt
            last_k = nxt_k
    return first, first_k, score
