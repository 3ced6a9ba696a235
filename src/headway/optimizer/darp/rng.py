"""A tiny seeded generator for the kernels (xorshift64*), so a run depends on its seed
and nothing else: no global random state, safe to run several solvers side by side."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from headway.optimizer.darp.jit import njit

State = npt.NDArray[np.uint64]


def new_state(seed: int) -> State:
    """Scramble the seed (splitmix64) so that nearby seeds give unrelated streams."""
    z = (seed + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    z ^= z >> 31
    return np.array([z or 1], dtype=np.uint64)


@njit
def next_u64(state: State) -> np.uint64:
    x = state[0]
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    state[0] = x
    return np.uint64(x * np.uint64(0x2545F4914F6CDD1D))


@njit
def uniform(state: State) -> float:
    """A float in [0, 1)."""
    return float(next_u64(state) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit
def below(state: State, n: int) -> int:
    """An int in [0, n)."""
    return min(int(uniform(state) * n), n - 1)
