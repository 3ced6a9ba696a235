"""Street patterns that fill one block of the synthetic city.

The patterns are the ones suburban planners actually drew: a street grid (old town and
downtown), a crescent loop with courts off it, and a "pod" of cul-de-sacs along a spine
with a single way in. Parks are left empty. Every dead end is a two-way street, so each
one can be entered and left.
"""

from __future__ import annotations

import math

import numpy as np

from headway.network.city_builder import CityBuilder, Point, Quad, Side
from headway.network.graph import RoadClass
from headway.network.street_names import StreetNamer

RES = RoadClass.RESIDENTIAL
_STREET = ("Street", "Lane", "Road", "Place")
_LOOP = ("Crescent", "Circle", "Loop")
_COURT = ("Court", "Close", "Mews")
_SPINE = ("Way", "Lane", "Road", "Drive")


def grid_block(
    b: CityBuilder,
    q: Quad,
    rng: np.random.Generator,
    namer: StreetNamer,
    *,
    cells: int = 3,
    stub_chance: float = 0.0,
    lines: tuple[list[float], list[float]] | None = None,
) -> None:
    """A street grid of cells x cells blocks; with stub_chance, some streets stop short of
    the block's edge and end in a dead end instead. Neighbouring blocks given the same
    `lines` (from grid_lines) meet their shared side at the same points, so their
    streets run straight through."""
    ss, ts = lines if lines is not None else grid_lines(rng, cells)
    inner = [[b.node(_nudge(q.pt(s, t), rng, 4.0)) for t in ts] for s in ss]
    ends: list[tuple[int, int, Side, float, str]] = []
    for i, s in enumerate(ss):
        name = namer.draw(_STREET)
        for j in range(len(ts) - 1):
            b.road(inner[i][j], inner[i][j + 1], RES, name)
        ends += [(inner[i][0], i, "S", s, name), (inner[i][-1], i, "N", s, name)]
    for j, t in enumerate(ts):
        name = namer.draw(_STREET)
        for i in range(len(ss) - 1):
            b.road(inner[i][j], inner[i + 1][j], RES, name)
        ends += [(inner[0][j], j, "W", t, name), (inner[-1][j], j, "E", t, name)]
    stubbed = 0
    for node, _, side, p, name in ends:
        if stub_chance and stubbed < len(ends) - 2 and rng.random() < stub_chance:
            stubbed += 1
            edge_pt = _side_point(q, side, p)
            here = b.xy(node)
            mid = (here[0] + 0.55 * (edge_pt[0] - here[0]), here[1] + 0.55 * (edge_pt[1] - here[1]))
            b.road(node, b.node(mid), RES, name)
        else:
            b.road(node, q.attach(side, p), RES, name)


def grid_lines(rng: np.random.Generator, cells: int) -> tuple[list[float], list[float]]:
    """Where the streets of a cells x cells grid cross the block, along s and along t."""
    ss = [k / cells + rng.uniform(-0.03, 0.03) for k in range(1, cells)]
    ts = [k / cells + rng.uniform(-0.03, 0.03) for k in range(1, cells)]
    return ss, ts


def loop_block(b: CityBuilder, q: Quad, rng: np.random.Generator, namer: StreetNamer) -> None:
    """A crescent around the block's middle, joined to two sides, with courts off it."""
    cu, cv = 0.5 + rng.uniform(-0.04, 0.04), 0.5 + rng.uniform(-0.04, 0.04)
    ru, rv = rng.uniform(0.3, 0.38), rng.uniform(0.3, 0.38)
    m = int(rng.integers(12, 17))
    phase = rng.uniform(0, 2 * math.pi)
    angles = [phase + 2 * math.pi * k / m + rng.uniform(-0.08, 0.08) for k in range(m)]
    uv = [(cu + ru * math.cos(a), cv + rv * math.sin(a)) for a in angles]
    ring = [b.node(q.pt(u, v)) for u, v in uv]
    name = namer.draw(_LOOP)
    for k in range(m):
        b.road(ring[k], ring[(k + 1) % m], RES, name)

    collector_sides = [s for s in q.sides if q.side_class(s) != RoadClass.ARTERIAL]
    other_sides = [s for s in q.sides if s not in collector_sides]
    sides: list[Side] = list(collector_sides)
    if len(sides) < 2 or rng.random() < 0.3:
        sides = [*sides[:1], *other_sides[: 2 - len(sides[:1])]]
    used: set[int] = set()
    for side in sides[:2]:
        p = 0.5 + rng.uniform(-0.12, 0.12)
        target = _side_uv(side, p)
        k = min(range(m), key=lambda i: _d2(uv[i], target) + (1e9 if i in used else 0.0))
        used.add(k)
        b.road(ring[k], q.attach(side, p), RES, name)

    near_connector = used | {(k + 1) % m for k in used} | {(k - 1) % m for k in used}
    for k in range(m):
        if k in near_connector or rng.random() > 0.5:
            continue
        du, dv = uv[k][0] - cu, uv[k][1] - cv
        if rng.random() < 0.5:
            reach = 0.45 * _to_border(uv[k], (du, dv))
            end = (uv[k][0] + reach * du, uv[k][1] + reach * dv)
        else:
            end = (cu + 0.55 * du, cv + 0.55 * dv)
        b.road(ring[k], b.node(q.pt(*end)), RES, namer.draw(_COURT))


def pod_block(b: CityBuilder, q: Quad, rng: np.random.Generator, namer: StreetNamer) -> None:
    """A spine street from a collector with cul-de-sacs off both sides of it."""
    collector_sides = [s for s in q.sides if q.side_class(s) != RoadClass.ARTERIAL]
    candidates = collector_sides or list(q.sides)
    entry = candidates[int(rng.integers(len(candidates)))]
    lateral = rng.uniform(0.4, 0.6)

    def at(w: float, d: float) -> Point:
        return q.pt(*_from_entry(entry, w, d))

    name = namer.draw(_SPINE)
    prev = q.attach(entry, lateral)
    through = rng.random() < 0.35
    depths = [0.18, 0.36, 0.54, 0.72] + ([] if through else [0.88])
    for i, d in enumerate(depths):
        node = b.node(at(lateral + rng.uniform(-0.02, 0.02), d + rng.uniform(-0.02, 0.02)))
        b.road(prev, node, RES, name)
        prev = node
        if i == len(depths) - 1 and not through:
            break
        for sign in (-1.0, 1.0):
            if rng.random() < 0.8:
                # Courts bend a little halfway, as they follow the lie of the land.
                bend_d = d + rng.uniform(-0.04, 0.04)
                bend = b.node(at(lateral + sign * rng.uniform(0.12, 0.16), bend_d))
                end = b.node(
                    at(lateral + sign * rng.uniform(0.26, 0.34), bend_d + rng.uniform(-0.05, 0.05))
                )
                court = namer.draw(_COURT)
                b.road(node, bend, RES, court)
                b.road(bend, end, RES, court)
    if through:
        b.road(prev, q.attach(_OPPOSITE[entry], lateral), RES, name)


def _from_entry(entry: Side, w: float, d: float) -> tuple[float, float]:
    """(s, t) of the point at lateral w and depth d from the entry side."""
    if entry == "S":
        return w, d
    if entry == "N":
        return w, 1.0 - d
    if entry == "W":
        return d, w
    return 1.0 - d, w


_OPPOSITE: dict[Side, Side] = {"S": "N", "N": "S", "W": "E", "E": "W"}


def _side_uv(side: Side, p: float) -> tuple[float, float]:
    return {"S": (p, 0.0), "N": (p, 1.0), "W": (0.0, p), "E": (1.0, p)}[side]


def _side_point(q: Quad, side: Side, p: float) -> Point:
    return q.pt(*_side_uv(side, p))


def _d2(a: tuple[float, float], b: tuple[float, float]) -> float:
    return (a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2


def _to_border(p: tuple[float, float], d: tuple[float, float]) -> float:
    """How many steps of d lead from p (inside the unit square) to its border."""
    limits = []
    for pos, step in zip(p, d, strict=True):
        if step > 1e-12:
            limits.append((1.0 - pos) / step)
        elif step < -1e-12:
            limits.append(-pos / step)
    return min(limits) if limits else 0.0


def _nudge(p: Point, rng: np.random.Generator, metres: float) -> Point:
    return p[0] + rng.uniform(-metres, metres), p[1] + rng.uniform(-metres, metres)
