"""A small grid city for the dispatch tests, and an independent check of a plan.

The grid has N x N junctions 500 m apart joined by two-way roads at 10 m/s, so every
edge takes 50 s and the travel time between two junctions is 50 s per block of
Manhattan distance; a stop at every junction; chargers where a test puts them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import pytest

from headway.network.cch_router import CCHRouter
from headway.network.frame import MapFrame
from headway.network.graph import Charger, RoadClass, RoadNetwork, Stop
from headway.optimizer.dispatch import (
    DispatchConfig,
    DispatchEngine,
    PlannedStop,
    RouterTravelTimes,
    StopKind,
)

N = 8
BLOCK_M = 500.0
SPEED = 10.0
EDGE_S = BLOCK_M / SPEED


def node(col: int, row: int) -> int:
    return row * N + col


def grid(chargers: Sequence[tuple[int, int]] = ((1, 0),)) -> RoadNetwork:
    xy = [(c * BLOCK_M, r * BLOCK_M) for r in range(N) for c in range(N)]
    src: list[int] = []
    dst: list[int] = []
    for r in range(N):
        for c in range(N):
            for dc, dr in ((1, 0), (0, 1)):
                if c + dc < N and r + dr < N:
                    a, b = node(c, r), node(c + dc, r + dr)
                    src += [a, b]
                    dst += [b, a]
    n_edges = len(src)
    stops = [Stop(f"s{k}", f"Stop {k}", x, y, k) for k, (x, y) in enumerate(xy)]
    plugs = [
        Charger(f"c{k}", f"Charger {k}", xy[at][0], xy[at][1], at, plugs, 50.0)
        for k, (at, plugs) in enumerate(chargers)
    ]
    return RoadNetwork(
        MapFrame("grid", 48.0, 11.0),
        xy,
        src,
        dst,
        [SPEED] * n_edges,
        [RoadClass.COLLECTOR] * n_edges,
        ["Grid Road"] * n_edges,
        [False] * n_edges,
        stops=stops,
        chargers=plugs,
    )


EngineFactory = Callable[..., DispatchEngine]


@pytest.fixture
def make_engine() -> EngineFactory:
    def make(
        config: DispatchConfig | None = None,
        chargers: Sequence[tuple[int, int]] = ((1, 0),),
    ) -> DispatchEngine:
        network = grid(chargers)
        return DispatchEngine(RouterTravelTimes(CCHRouter(network)), network, config)

    return make


def blocks(a: int, b: int) -> float:
    """Travel time on the grid, computed without the router."""
    return EDGE_S * (abs(a % N - b % N) + abs(a // N - b // N))


def check_plan(
    engine: DispatchEngine,
    vehicle_id: str,
    start_node: int,
    ready_s: float,
    seats: int,
    onboard: dict[str, tuple[int, float]],
    rides: dict[str, tuple[int, float]],
) -> None:
    """Re-time the plan from scratch and check every constraint.

    ``onboard``: ride -> (seats, picked-up time) for riders in the vehicle; ``rides``:
    ride -> (seats, max ride time) for every ride that may appear in the plan.
    """
    c = engine.config
    plan: tuple[PlannedStop, ...] = engine.plan(vehicle_id)
    t, at, load = ready_s, start_node, sum(s for s, _ in onboard.values())
    picked = {ride: when for ride, (_, when) in onboard.items()}
    prev_stop: int | None = None
    prev_begin = -math.inf
    for stop in plan:
        if stop.kind not in (StopKind.PICK, StopKind.DROP):
            continue
        early = stop.window[0] if stop.kind == StopKind.PICK else 0.0
        grouped = stop.node == prev_stop and early <= prev_begin
        if grouped:  # boards in the dwell of the stop before
            begin = prev_begin
        else:
            arrive = t + blocks(at, stop.node)
            assert math.isclose(arrive, stop.eta_s, abs_tol=1e-6), (stop, arrive)
            begin = max(arrive, early)
        (ride,) = stop.ride_ids
        if stop.kind == StopKind.PICK:
            assert begin <= stop.window[1] + 1e-6, f"{ride}: pickup after its window"
            picked[ride] = begin
            load += rides[ride][0]
        else:
            assert ride in picked, f"{ride}: drop-off before pickup"
            assert begin - picked[ride] <= rides[ride][1] + 1e-6, f"{ride}: ride too long"
            load -= rides[ride][0]
        assert load <= seats, f"{vehicle_id}: {load} riders in {seats} seats"
        if not grouped:
            t = begin + c.dwell_s
        at, prev_stop, prev_begin = stop.node, stop.node, begin
        assert math.isclose(t, stop.depart_s, abs_tol=1e-6)
    assert load == 0
