"""Rebalancing: idle vehicles move toward the zones where requests come from."""

from __future__ import annotations

from headway.optimizer.dispatch import (
    DispatchConfig,
    Refusal,
    RefusalReason,
    RideRequest,
    StopKind,
    VehicleSnapshot,
)

from .conftest import EngineFactory, blocks, node

CONFIG = DispatchConfig(
    max_wait_s=120.0,
    rebalance_max_move_s=900.0,
    rebalance_idle_s=60.0,
    zone_size_m=1000.0,
    charge_below_soc=0.0,
)


def test_idle_vehicles_head_for_where_requests_come_from(make_engine: EngineFactory) -> None:
    engine = make_engine(CONFIG)
    for k in range(6):
        engine.set_vehicle(VehicleSnapshot(f"v{k}", node(k % 2, k // 2), 0.0, 4, 0.9))
    hot = node(6, 6)
    assert engine.reoptimise(100.0, budget_s=0.1) == frozenset(), "no demand, no moves"
    for k in range(10):  # out of reach of every vehicle: refused, but counted as demand
        answer = engine.offer(RideRequest(f"r{k}", hot, node(7, 0), 100.0 + k), 100.0 + k)
        assert isinstance(answer, Refusal)
        assert answer.reason == RefusalReason.NO_VEHICLE_IN_RANGE
    changed = engine.reoptimise(200.0, budget_s=0.1)
    assert len(changed) >= 3, "most idle vehicles should move"
    for vid in changed:
        (stop,) = engine.plan(vid)
        assert stop.kind == StopKind.REBALANCE
        assert engine.zone_of(stop.node) == engine.zone_of(hot)
        k = int(vid[1:])
        assert blocks(stop.node, hot) < blocks(node(k % 2, k // 2), hot)
    # on arrival the stop is done and the vehicle waits there
    vid = sorted(changed)[0]
    target = engine.plan(vid)[0].node
    engine.set_vehicle(VehicleSnapshot(vid, target, 500.0, 4, 0.85))
    engine.arrived(vid, target, 500.0)
    assert engine.plan(vid) == ()
    answer = engine.offer(RideRequest("near", hot, node(7, 0), 510.0), 510.0)
    assert not isinstance(answer, Refusal)
    assert answer.vehicle_id in changed


def test_rebalancing_leaves_busy_and_recently_idle_vehicles_alone(
    make_engine: EngineFactory,
) -> None:
    engine = make_engine(CONFIG)
    engine.set_vehicle(VehicleSnapshot("fresh", node(0, 0), 0.0, 4, 0.9))
    for k in range(5):
        engine.offer(RideRequest(f"r{k}", node(6, 6), node(7, 0), 0.0 + k), 0.0 + k)
    assert engine.reoptimise(30.0, budget_s=0.1) == frozenset(), "idle for 30 s < 60 s"


def test_vehicles_spread_like_the_demand_stay_where_they_are(
    make_engine: EngineFactory,
) -> None:
    engine = make_engine(CONFIG)
    spots = [node(2 * c, 2 * r) for r in range(4) for c in range(4)]  # one per zone
    for k, at in enumerate(spots):
        engine.set_vehicle(VehicleSnapshot(f"v{k}", at, 0.0, 4, 0.9))
    assert len({engine.zone_of(at) for at in spots}) == len(spots)
    for k, at in enumerate(spots):  # as many requests from every zone, all refused
        other = spots[(k + 5) % len(spots)]
        engine.offer(RideRequest(f"r{k}", at, other, 100.0, seats=5), 100.0)
    assert engine.reoptimise(500.0, budget_s=0.1) == frozenset()
