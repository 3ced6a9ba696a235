"""Driving one leg (stop to stop, or to a charger) along a routed chain of road edges.

The speed profile is the usual one for a transit vehicle: accelerate at a constant rate
up to the road's speed limit, cruise, and brake at a constant rate so as to stop exactly
at the end of the leg. A lower limit on the next edge is taken instantly. Motion is
integrated in closed form from one event (edge end, limit reached, braking point, stop)
to the next, so a tick costs the same whether it covers 0.2 s or 10 simulated minutes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

_EPS = 1e-6


@dataclass(frozen=True, slots=True)
class Path:
    """A routed chain of edges, with what motion needs precomputed as Python floats."""

    nodes: tuple[int, ...]
    edges: tuple[int, ...]
    starts: tuple[float, ...]
    """Offset along the path where each edge begins."""
    lengths: tuple[float, ...]
    limits: tuple[float, ...]
    length: float

    @classmethod
    def build(
        cls,
        nodes: tuple[int, ...],
        edges: tuple[int, ...],
        lengths: tuple[float, ...],
        limits: tuple[float, ...],
    ) -> Path:
        starts: list[float] = []
        total = 0.0
        for length in lengths:
            starts.append(total)
            total += length
        return cls(nodes, edges, tuple(starts), lengths, limits, total)


@dataclass(slots=True)
class Leg:
    """A vehicle's progress along a path: distance travelled ``s``, speed ``v``."""

    path: Path
    accel: float
    decel: float
    s: float = 0.0
    v: float = 0.0
    k: int = 0
    """Index of the edge the vehicle is on."""
    done: bool = field(default=False)

    @property
    def edge(self) -> int:
        return self.path.edges[self.k]

    @property
    def last_node(self) -> int:
        """The last road node passed (the destination node once the leg is done)."""
        return self.path.nodes[-1] if self.done else self.path.nodes[self.k]

    @property
    def offset_on_edge(self) -> float:
        k = self.k
        return min(max(self.s - self.path.starts[k], 0.0), self.path.lengths[k])

    def halt(self) -> None:
        """Emergency stop: standstill at once, where the vehicle is."""
        self.v = 0.0

    def drive(self, dt: float) -> tuple[float, float]:
        """Advance by up to ``dt`` seconds; returns ``(time used, distance travelled)``.

        Time is left over only when the leg ends within ``dt``.
        """
        path = self.path
        total_len = path.length
        last = len(path.edges) - 1
        a, b = self.accel, self.decel
        s0 = self.s
        left = dt
        for _ in range(4 * len(path.edges) + 16):
            if left <= 1e-9 or self.done:
                break
            remaining = total_len - self.s
            if remaining <= _EPS:
                self._arrive()
                break
            while self.k < last and self.s >= path.starts[self.k + 1] - _EPS:
                self.k += 1
            v = self.v
            if v > 0.0 and remaining <= v * v / (2.0 * b) + _EPS:
                left -= self._brake(remaining, left)
                continue
            limit = max(path.limits[self.k], 0.5)
            if v > limit + _EPS:
                self.v = limit
                continue
            edge_end = path.starts[self.k + 1] if self.k < last else total_len
            if v < limit - _EPS:
                t_limit = (limit - v) / a
                t_edge = (-v + math.sqrt(v * v + 2.0 * a * (edge_end - self.s))) / a
                qa = a / 2.0 + a * a / (2.0 * b)
                qb = v + a * v / b
                qc = self.s + v * v / (2.0 * b) - total_len
                t_brake = (-qb + math.sqrt(max(qb * qb - 4.0 * qa * qc, 0.0))) / (2.0 * qa)
                t = min(left, t_limit, t_edge, t_brake)
                self.s = edge_end if t == t_edge else self.s + v * t + 0.5 * a * t * t
                self.v = limit if t == t_limit else v + a * t
            else:
                self.v = v = limit
                t_edge = (edge_end - self.s) / v
                t_brake = (total_len - v * v / (2.0 * b) - self.s) / v
                t = max(min(left, t_edge, t_brake), 0.0)
                self.s = edge_end if t == t_edge else self.s + v * t
            left -= t
        return dt - max(left, 0.0), self.s - s0

    def _brake(self, remaining: float, left: float) -> float:
        """Constant deceleration that stops exactly at the end; returns time used."""
        v = self.v
        rate = v * v / (2.0 * remaining)
        t_stop = 2.0 * remaining / v
        if left >= t_stop:
            self._arrive()
            return t_stop
        self.s += v * left - 0.5 * rate * left * left
        self.v = v - rate * left
        return left

    def _arrive(self) -> None:
        self.s = self.path.length
        self.v = 0.0
        self.k = len(self.path.edges) - 1
        self.done = True
