"""Adaptive large neighbourhood search (Ropke & Pisinger 2006), compiled.

Each iteration removes q requests from the current solution with one destroy operator
and reinserts every unplanned request with one repair operator; operators are drawn by
roulette on weights that adapt to how often each found new best, better or accepted
solutions. Acceptance is simulated annealing whose temperature falls geometrically over
a cycle of iterations; each cycle restarts from the best solution at a lower starting
temperature. Nothing in the loop depends on the clock: a run is a fixed sequence of
iterations given its seed, and a time limit only decides where that sequence stops.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from headway.optimizer.darp.arrays import Arrays, FloatArray
from headway.optimizer.darp.insertion import Scratch
from headway.optimizer.darp.jit import njit
from headway.optimizer.darp.removal import N_DESTROY, destroy
from headway.optimizer.darp.repair import repair
from headway.optimizer.darp.rng import State, below, new_state, uniform
from headway.optimizer.darp.routes import Routes, copy_into, total_cost

REPAIR_REGRET = np.array([1, 1, 2, 2, 3, 3, 0, 0], dtype=np.int64)  # 0: as many as vehicles
REPAIR_NOISE = np.array([0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0])
N_REPAIR = 8

# Control.state slots
ITERATION, CURRENT, BEST, TEMPERATURE, BEST_AT, CYCLE_START = 0, 1, 2, 3, 4, 5
# Control.params slots
Q_MIN, Q_MAX, CYCLE, T_START, T_END, T_RESTART, NOISE, SEGMENT = 0, 1, 2, 3, 4, 5, 6, 7
SCORE_BEST, SCORE_BETTER, SCORE_ACCEPTED, REACTION = 33.0, 9.0, 13.0, 0.1


class Control(NamedTuple):
    rng: State
    state: FloatArray
    params: FloatArray
    destroy_weight: FloatArray
    destroy_score: FloatArray
    destroy_used: FloatArray
    repair_weight: FloatArray
    repair_score: FloatArray
    repair_used: FloatArray


class Tuning(NamedTuple):
    """Search parameters; the defaults were tuned on the Cordeau set."""

    q_min: int = 4
    q_max_share: float = 0.4  # q at most this share of the requests ...
    q_max_cap: int = 15  # ... and at most this many
    cycle: int = 5000  # iterations per annealing cycle
    t_start: float = 0.02  # a solution this much worse is accepted with p = 0.5 at a cycle start
    t_end: float = 0.0005  # ... and at its end
    t_restart: float = 0.01  # the start of every later cycle
    noise: float = 0.025  # noise amplitude, as a share of the longest arc
    segment: int = 100  # iterations between weight updates


def new_control(a: Arrays, seed: int, value: float, cost: float, tuning: Tuning) -> Control:
    """Search state starting from a solution of objective ``value`` (routing ``cost``
    plus penalties); temperatures are shares of ``cost``."""
    n = max(a.n_req, 1)
    q_max = max(1, min(int(tuning.q_max_share * n), tuning.q_max_cap))
    q_min = max(1, min(tuning.q_min, q_max))
    base = max(cost, 1.0) / math.log(2.0)
    params = np.array(
        [
            q_min,
            q_max,
            tuning.cycle,
            tuning.t_start * base,
            tuning.t_end * base,
            tuning.t_restart * base,
            tuning.noise,
            tuning.segment,
        ],
        dtype=np.float64,
    )
    state = np.array([0.0, value, value, params[T_START], 0.0, 0.0])
    return Control(
        rng=new_state(seed),
        state=state,
        params=params,
        destroy_weight=np.ones(N_DESTROY),
        destroy_score=np.zeros(N_DESTROY),
        destroy_used=np.zeros(N_DESTROY),
        repair_weight=np.ones(N_REPAIR),
        repair_score=np.zeros(N_REPAIR),
        repair_used=np.zeros(N_REPAIR),
    )


@njit
def run(
    a: Arrays,
    cur: Routes,
    cand: Routes,
    best: Routes,
    w: Scratch,
    c: Control,
    iterations: int,
) -> None:
    """Run the next ``iterations`` iterations of the search."""
    for _ in range(iterations):
        _iterate(a, cur, cand, best, w, c)


@njit
def value_of(a: Arrays, s: Routes, unplanned: int) -> float:
    return total_cost(s) + a.penalty * unplanned


@njit
def pending_requests(a: Arrays, s: Routes, w: Scratch) -> int:
    """List every servable request not in a route in w.pending; return how many."""
    n = 0
    for r in range(a.n_req):
        if a.servable[r] == 1 and s.route_of[a.req_drop[r]] < 0:
            w.pending[n] = r
            n += 1
    return n


@njit
def _iterate(a: Arrays, cur: Routes, cand: Routes, best: Routes, w: Scratch, c: Control) -> None:
    st, pa = c.state, c.params
    it = int(st[ITERATION])
    cycle = int(pa[CYCLE])
    if it > 0 and it % cycle == 0:
        copy_into(cur, best)
        st[CURRENT] = st[BEST]
    phase = (it % cycle) / cycle
    top = pa[T_START] if it < cycle else pa[T_RESTART]
    temperature = top * (pa[T_END] / top) ** phase
    st[TEMPERATURE] = temperature

    copy_into(cand, cur)
    d_op = _roulette(c.destroy_weight, c.rng)
    r_op = _roulette(c.repair_weight, c.rng)
    q_min, q_max = int(pa[Q_MIN]), int(pa[Q_MAX])
    q = q_min + below(c.rng, q_max - q_min + 1)
    destroy(a, cand, w, d_op, q, c.rng)
    n = pending_requests(a, cand, w)
    regret = REPAIR_REGRET[r_op] if REPAIR_REGRET[r_op] > 0 else a.n_veh
    left = repair(a, cand, w, w.pending, n, regret, REPAIR_NOISE[r_op] * pa[NOISE], c.rng)
    value = value_of(a, cand, left)

    score = 0.0
    if value < st[BEST] - 1e-9:
        copy_into(best, cand)
        copy_into(cur, cand)
        st[BEST] = value
        st[CURRENT] = value
        st[BEST_AT] = it
        score = SCORE_BEST
    elif value < st[CURRENT] - 1e-9:
        copy_into(cur, cand)
        st[CURRENT] = value
        score = SCORE_BETTER
    elif uniform(c.rng) < np.exp(-(value - st[CURRENT]) / temperature):
        if value > st[CURRENT] + 1e-9:
            score = SCORE_ACCEPTED
        copy_into(cur, cand)
        st[CURRENT] = value
    c.destroy_score[d_op] += score
    c.destroy_used[d_op] += 1.0
    c.repair_score[r_op] += score
    c.repair_used[r_op] += 1.0
    st[ITERATION] = it + 1
    if (it + 1) % int(pa[SEGMENT]) == 0:
        _adapt(c.destroy_weight, c.destroy_score, c.destroy_used)
        _adapt(c.repair_weight, c.repair_score, c.repair_used)


@njit
def _roulette(weights: FloatArray, rng: State) -> int:
    total = 0.0
    for x in weights:
        total += x
    pick = uniform(rng) * total
    for i in range(weights.shape[0]):
        pick -= weights[i]
        if pick < 0.0:
            return i
    return int(weights.shape[0] - 1)


@njit
def _adapt(weight: FloatArray, score: FloatArray, used: FloatArray) -> None:
    for i in range(weight.shape[0]):
        if used[i] > 0:
            weight[i] = max(0.05, (1.0 - REACTION) * weight[i] + REACTION * score[i] / used[i])
        score[i] = 0.0
        used[i] = 0.0
