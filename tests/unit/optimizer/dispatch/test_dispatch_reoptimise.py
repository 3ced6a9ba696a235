"""Re-optimisation moves rides to where they cost less, never breaking a promise and
never raising the cost."""

from __future__ import annotations

import numpy as np

from headway.optimizer.dispatch import (
    DispatchConfig,
    DispatchEngine,
    Offer,
    RideRequest,
    VehicleSnapshot,
)

from .conftest import EngineFactory, N, blocks, check_plan, node

NO_SIDE_TASKS = DispatchConfig(rebalance=False, charge_below_soc=0.0, max_wait_s=1200.0)


def test_a_ride_moves_to_a_vehicle_that_appeared_nearer(make_engine: EngineFactory) -> None:
    engine = make_engine(NO_SIDE_TASKS)
    engine.set_vehicle(VehicleSnapshot("far", node(7, 7), 0.0, 4, 0.9))
    offer = engine.offer(RideRequest("a", node(0, 0), node(0, 2), 600.0), 0.0)
    assert isinstance(offer, Offer)
    assert offer.vehicle_id == "far"
    engine.accept("a", 0.0)
    window = engine.ride("a").pickup_window
    engine.set_vehicle(VehicleSnapshot("near", node(1, 0), 0.0, 4, 0.9))
    before = engine.plan_cost()
    changed = engine.reoptimise(10.0, budget_s=1.0)
    assert changed == frozenset({"far", "near"})
    assert engine.ride("a").vehicle_id == "near"
    assert engine.plan("far") == ()
    assert engine.plan_cost() < before
    assert engine.ride("a").pickup_window == window, "the promise stands"


def test_reoptimising_never_breaks_a_promise_nor_raises_the_cost(
    make_engine: EngineFactory,
) -> None:
    engine = make_engine(NO_SIDE_TASKS)
    rng = np.random.default_rng(11)
    starts = {f"v{k}": int(rng.integers(N * N)) for k in range(5)}
    # requests arrive before most vehicles do: the first plans are poor
    engine.set_vehicle(VehicleSnapshot("v0", starts["v0"], 0.0, 4, 0.95))
    rides: dict[str, tuple[int, float]] = {}
    promised: dict[str, tuple[float, float]] = {}
    c = engine.config
    for k in range(14):
        a, b = (int(x) for x in rng.choice(N * N, size=2, replace=False))
        answer = engine.offer(RideRequest(f"r{k}", a, b, 300.0 + 20 * k), 0.0)
        if isinstance(answer, Offer):
            engine.accept(answer.ride_id, 0.0)
            direct = blocks(a, b)
            rides[answer.ride_id] = (1, max(c.max_ride_factor * direct, direct + 600.0))
            promised[answer.ride_id] = answer.pickup_window
        if k == 6:
            for vid, at in starts.items():
                engine.set_vehicle(VehicleSnapshot(vid, at, 0.0, 4, 0.95))
    assert len(rides) >= 8
    cost = engine.plan_cost()
    moved = 0
    for round_ in range(5):
        changed = engine.reoptimise(1.0 + round_, budget_s=1.0)
        moved += len(changed)
        new_cost = engine.plan_cost()
        assert new_cost <= cost + 1e-6
        cost = new_cost
        for vid, at in starts.items():  # vehicles that have not moved: ready now
            check_plan(engine, vid, at, 1.0 + round_, 4, {}, rides)
        for ride_id, window in promised.items():
            view = engine.ride(ride_id)
            assert view.pickup_window == window
            assert view.pickup_eta_s is not None
            assert view.pickup_eta_s <= window[1] + 1e-6
    assert moved > 0, "the late vehicles should have taken over some rides"


def crossed(make_engine: EngineFactory, neighbourhood: int) -> DispatchEngine:
    """Two one-seat vehicles at either end of a street, each given the rider waiting at
    the other end: no single ride can move (the other vehicle is busy), a swap can."""
    config = DispatchConfig(
        max_wait_s=400.0,
        rebalance=False,
        charge_below_soc=0.0,
        neighbourhood_vehicles=neighbourhood,
    )
    engine = make_engine(config)
    engine.set_vehicle(VehicleSnapshot("A", node(0, 0), 0.0, 1, 0.9))
    first = engine.offer(RideRequest("r1", node(6, 0), node(6, 4), 0.0), 0.0)
    assert isinstance(first, Offer)
    assert first.vehicle_id == "A"
    engine.accept("r1", 0.0)
    engine.set_vehicle(VehicleSnapshot("B", node(7, 0), 0.0, 1, 0.9))
    second = engine.offer(RideRequest("r2", node(1, 0), node(1, 4), 0.0), 0.0)
    assert isinstance(second, Offer)
    assert second.vehicle_id == "B"
    engine.accept("r2", 0.0)
    return engine


def test_relocation_alone_cannot_untangle_crossed_rides(make_engine: EngineFactory) -> None:
    engine = crossed(make_engine, neighbourhood=0)
    assert engine.reoptimise(1.0, budget_s=0.2) == frozenset()
    assert engine.ride("r1").vehicle_id == "A"


def test_the_solver_swaps_crossed_rides_within_their_promises(
    make_engine: EngineFactory,
) -> None:
    engine = crossed(make_engine, neighbourhood=2)
    windows = {r: engine.ride(r).pickup_window for r in ("r1", "r2")}
    before = engine.plan_cost()
    changed = engine.reoptimise(1.0, budget_s=10.0)
    assert changed == frozenset({"A", "B"})
    assert engine.ride("r1").vehicle_id == "B"
    assert engine.ride("r2").vehicle_id == "A"
    assert engine.plan_cost() < before
    rides = {"r1": (1, 200.0 + 600.0), "r2": (1, 200.0 + 600.0)}
    check_plan(engine, "A", node(0, 0), 1.0, 1, {}, rides)
    check_plan(engine, "B", node(7, 0), 1.0, 1, {}, rides)
    for ride_id, window in windows.items():
        view = engine.ride(ride_id)
        assert view.pickup_window == window
        assert view.pickup_eta_s is not None
        assert view.pickup_eta_s <= window[1]
