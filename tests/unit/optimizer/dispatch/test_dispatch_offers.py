"""Offers: insertion respects every constraint; refusals carry the right reason; the
ride's life (accept, decline, expire, cancel, pick up, drop off) follows the plan."""

from __future__ import annotations

import numpy as np
import pytest

from headway.optimizer.dispatch import (
    DispatchConfig,
    Offer,
    Refusal,
    RefusalReason,
    RidePhase,
    RideRequest,
    RideStateError,
    StopKind,
    UnknownRideError,
    VehicleSnapshot,
)

from .conftest import EDGE_S, EngineFactory, N, blocks, check_plan, node


def offered(answer: Offer | Refusal) -> Offer:
    assert isinstance(answer, Offer), answer
    return answer


def refused(answer: Offer | Refusal) -> RefusalReason:
    assert isinstance(answer, Refusal), answer
    assert answer.message
    return answer.reason


def test_a_lone_request_goes_to_the_nearest_vehicle_with_a_window_around_its_pickup(
    make_engine: EngineFactory,
) -> None:
    engine = make_engine()
    engine.set_vehicle(VehicleSnapshot("far", node(7, 7), 0.0, 4, 0.9))
    engine.set_vehicle(VehicleSnapshot("near", node(2, 0), 0.0, 4, 0.9))
    offer = offered(engine.offer(RideRequest("r1", node(0, 0), node(0, 3), 0.0), 0.0))
    assert offer.vehicle_id == "near"
    assert offer.pickup_eta_s == pytest.approx(2 * EDGE_S)
    assert offer.pickup_window[0] <= offer.pickup_eta_s <= offer.pickup_window[1]
    dwell = engine.config.dwell_s
    assert offer.dropoff_eta_s == pytest.approx(2 * EDGE_S + dwell + 3 * EDGE_S)
    kinds = [(s.kind, s.node) for s in engine.plan("near")]
    assert kinds == [(StopKind.PICK, node(0, 0)), (StopKind.DROP, node(0, 3))]
    assert engine.plan("far") == ()


def test_every_plan_meets_capacity_windows_and_ride_times_under_a_stream_of_requests(
    make_engine: EngineFactory,
) -> None:
    engine = make_engine(DispatchConfig(max_wait_s=900.0, max_ride_extra_s=300.0))
    starts = {f"v{k}": (int(k * 9 % (N * N)), 3) for k in range(6)}
    for vid, (at, seats) in starts.items():
        engine.set_vehicle(VehicleSnapshot(vid, at, 0.0, seats, 0.95))
    rng = np.random.default_rng(4)
    rides: dict[str, tuple[int, float]] = {}
    answers = []
    for k in range(60):
        a, b = rng.choice(N * N, size=2, replace=False)
        seats = int(rng.choice([1, 1, 2]))
        # all asked at time 0 (for pickups spread over the next minutes): vehicles that
        # never move would otherwise fall behind their plans as the clock runs
        answer = engine.offer(RideRequest(f"r{k}", int(a), int(b), 10.0 * k, seats), 0.0)
        answers.append(answer)
        if isinstance(answer, Offer):
            engine.accept(answer.ride_id, 0.0)
            c = engine.config
            direct = blocks(int(a), int(b))
            rides[answer.ride_id] = (
                seats,
                max(c.max_ride_factor * direct, direct + c.max_ride_extra_s),
            )
        for vid, (at, cap) in starts.items():
            check_plan(engine, vid, at, 0.0, cap, {}, rides)
    pooled = [s for vid in starts for s in engine.plan(vid)]
    assert len(rides) >= 30, "most requests should fit"
    assert sum(1 for s in pooled if s.kind == StopKind.PICK) == len(rides)
    assert any(isinstance(a, Refusal) for a in answers), "the fleet should fill up"


def test_refusals_carry_their_reason(make_engine: EngineFactory) -> None:
    engine = make_engine(DispatchConfig(max_wait_s=300.0))
    no_fleet = RideRequest("r0", 0, 5, 0.0)
    assert refused(engine.offer(no_fleet, 0.0)) == RefusalReason.NO_VEHICLE_IN_RANGE
    engine.set_vehicle(VehicleSnapshot("v", node(0, 0), 0.0, 2, 0.9))
    outside = RideRequest("r1", N * N + 5, 3, 0.0)
    assert refused(engine.offer(outside, 0.0)) == RefusalReason.OUTSIDE_SERVICE_AREA
    same = RideRequest("r2", 3, 3, 0.0)
    assert refused(engine.offer(same, 0.0)) == RefusalReason.UNROUTABLE
    big = RideRequest("r3", 1, 2, 0.0, seats=3)
    assert refused(engine.offer(big, 0.0)) == RefusalReason.CAPACITY
    far = RideRequest("r5", node(7, 7), node(6, 7), 0.0)  # 14 blocks: 700 s > 300 s
    assert refused(engine.offer(far, 0.0)) == RefusalReason.NO_VEHICLE_IN_RANGE
    offered(engine.offer(RideRequest("r6", node(1, 0), node(1, 4), 0.0, 2), 0.0))
    again = RideRequest("r6", node(1, 0), node(1, 4), 0.0)
    assert refused(engine.offer(again, 0.0)) == RefusalReason.DUPLICATE
    # both seats taken until the drop-off at ~ 280 s; a second rider cannot wait that long
    # and travel the other way
    full = RideRequest("r7", node(2, 0), node(4, 0), 0.0)
    assert refused(engine.offer(full, 0.0)) == RefusalReason.NO_FEASIBLE_INSERTION
    past = RideRequest("r4", 1, 2, 0.0)  # the engine's clock only goes forward: last
    assert refused(engine.offer(past, 1000.0)) == RefusalReason.TOO_LATE


def test_battery_reserve_limits_what_a_vehicle_may_take(make_engine: EngineFactory) -> None:
    config = DispatchConfig(battery_kwh=10.0, energy_kwh_per_km=1.0, reserve_soc=0.2)
    engine = make_engine(config, chargers=((node(0, 0), 2),))
    # 10 m/s and 1 kWh/km: 0.1 % of the battery per second of driving; soc 0.5 leaves
    # 300 s above the reserve, counting the way back to the charger at (0, 0)
    engine.set_vehicle(VehicleSnapshot("v", node(0, 0), 0.0, 4, 0.5))
    long_trip = RideRequest("r1", node(1, 0), node(4, 0), 0.0)  # 50 + 150 + 200 back
    assert refused(engine.offer(long_trip, 0.0)) == RefusalReason.NO_FEASIBLE_INSERTION
    short = RideRequest("r2", node(1, 0), node(2, 0), 0.0)  # 50 + 50 + 100 back
    offered(engine.offer(short, 0.0))


def test_cancel_frees_the_seats(make_engine: EngineFactory) -> None:
    engine = make_engine(DispatchConfig(max_wait_s=300.0))
    engine.set_vehicle(VehicleSnapshot("v", node(0, 0), 0.0, 1, 0.9))
    first = offered(engine.offer(RideRequest("a", node(1, 0), node(1, 5), 0.0), 0.0))
    engine.accept(first.ride_id, 0.0)
    blocked = RideRequest("b", node(0, 1), node(5, 1), 0.0)
    assert refused(engine.offer(blocked, 0.0)) == RefusalReason.NO_FEASIBLE_INSERTION
    assert engine.cancel("a", 5.0) == frozenset({"v"})
    assert engine.ride("a").phase == RidePhase.CANCELLED
    assert engine.plan("v") == ()
    offered(engine.offer(RideRequest("b2", node(0, 1), node(5, 1), 5.0), 5.0))
    with pytest.raises(RideStateError):
        engine.cancel("a", 6.0)


def test_unaccepted_offers_expire_and_declined_ones_free_their_seats(
    make_engine: EngineFactory,
) -> None:
    engine = make_engine(DispatchConfig(offer_ttl_s=30.0))
    engine.set_vehicle(VehicleSnapshot("v", node(0, 0), 0.0, 4, 0.9))
    offered(engine.offer(RideRequest("a", 1, 2, 0.0), 0.0))
    offered(engine.offer(RideRequest("b", 3, 4, 0.0), 0.0))
    engine.decline("b")
    assert engine.ride("b").phase == RidePhase.DECLINED
    with pytest.raises(RideStateError):
        engine.accept("a", 31.0)
    assert engine.ride("a").phase == RidePhase.EXPIRED
    assert engine.plan("v") == ()
    with pytest.raises(UnknownRideError):
        engine.ride("nope")


def test_progress_moves_the_plan_and_the_ride_along(make_engine: EngineFactory) -> None:
    engine = make_engine()
    engine.set_vehicle(VehicleSnapshot("v", node(0, 0), 0.0, 4, 0.9))
    offer = offered(engine.offer(RideRequest("a", node(1, 0), node(3, 0), 0.0), 0.0))
    engine.accept("a", 0.0)
    engine.set_vehicle(VehicleSnapshot("v", node(1, 0), EDGE_S, 4, 0.88))
    engine.arrived("v", node(1, 0), EDGE_S)
    engine.picked_up("a", EDGE_S)
    view = engine.ride("a")
    assert view.phase == RidePhase.PICKED_UP
    assert view.picked_up_s == EDGE_S
    assert view.pickup_window == offer.pickup_window
    (drop,) = engine.plan("v")
    assert drop.kind == StopKind.DROP
    assert drop.eta_s == pytest.approx(EDGE_S + engine.config.dwell_s + 2 * EDGE_S)
    engine.arrived("v", node(3, 0), drop.eta_s)
    engine.dropped_off("a", drop.eta_s)
    assert engine.ride("a").phase == RidePhase.COMPLETED
    assert engine.plan("v") == ()
    with pytest.raises(RideStateError):
        engine.picked_up("a", drop.eta_s)
    engine.forget("a")
    with pytest.raises(UnknownRideError):
        engine.ride("a")


def test_a_rider_on_board_keeps_their_ride_time_limit(make_engine: EngineFactory) -> None:
    config = DispatchConfig(max_ride_factor=1.0, max_ride_extra_s=100.0, max_wait_s=900.0)
    engine = make_engine(config)
    engine.set_vehicle(VehicleSnapshot("v", node(0, 0), 0.0, 4, 0.9))
    offered(engine.offer(RideRequest("a", node(0, 0), node(4, 0), 0.0), 0.0))
    engine.accept("a", 0.0)
    engine.picked_up("a", 0.0)
    # a detour of 2 x 2 blocks (200 s) would break a's limit of direct + 100 s
    detour = RideRequest("b", node(2, 2), node(4, 2), 0.0)
    answer = engine.offer(detour, 0.0)
    if isinstance(answer, Offer):
        plan = engine.plan("v")
        drop_a = next(s for s in plan if s.ride_ids == ("a",))
        assert drop_a.eta_s <= 0.0 + 4 * EDGE_S + 100.0 + 1e-6
        assert plan[0].ride_ids == ("a",), "a must be dropped first"
    on_the_way = RideRequest("c", node(1, 0), node(3, 0), 0.0)
    offered(engine.offer(on_the_way, 0.0))


def test_a_removed_vehicle_hands_its_waiting_riders_to_another(
    make_engine: EngineFactory,
) -> None:
    engine = make_engine()
    engine.set_vehicle(VehicleSnapshot("a", node(0, 0), 0.0, 4, 0.9))
    offered(engine.offer(RideRequest("r1", node(1, 0), node(1, 3), 60.0), 0.0))
    offered(engine.offer(RideRequest("r2", node(0, 1), node(3, 1), 0.0), 0.0))
    engine.accept("r1", 0.0)
    engine.accept("r2", 0.0)
    engine.picked_up("r2", 50.0)
    engine.set_vehicle(VehicleSnapshot("b", node(2, 0), 0.0, 4, 0.9))
    window = engine.ride("r1").pickup_window
    assert engine.remove_vehicle("a", 60.0) == ("r2",), "a rider on board cannot move"
    assert engine.ride("r1").vehicle_id == "b"
    assert engine.ride("r1").pickup_window == window
    assert engine.vehicles() == ("b",)


def test_a_vehicle_sent_to_its_depot_finishes_its_rides_and_takes_no_more(
    make_engine: EngineFactory,
) -> None:
    engine = make_engine()
    engine.set_vehicle(VehicleSnapshot("v", node(0, 0), 0.0, 4, 0.9))
    offered(engine.offer(RideRequest("r1", node(1, 0), node(2, 0), 0.0), 0.0))
    engine.send_to_depot("v", node(7, 7))
    plan = engine.plan("v")
    assert [s.kind for s in plan] == [StopKind.PICK, StopKind.DROP, StopKind.DEPOT]
    assert plan[-1].eta_s == pytest.approx(plan[1].depart_s + blocks(node(2, 0), node(7, 7)))
    late = engine.offer(RideRequest("r2", node(1, 0), node(2, 0), 0.0), 0.0)
    assert refused(late) == RefusalReason.NO_VEHICLE_IN_RANGE
    engine.accept("r1", 0.0)
    engine.picked_up("r1", plan[0].eta_s)
    engine.dropped_off("r1", plan[1].eta_s)
    engine.arrived("v", node(7, 7), plan[2].eta_s)
    assert engine.plan("v") == ()


def test_plans_are_retimed_when_traffic_changes() -> None:
    from headway.network.cch_router import CCHRouter
    from headway.optimizer.dispatch import DispatchEngine, RouterTravelTimes

    from .conftest import grid

    network = grid()
    router = CCHRouter(network)
    travel = RouterTravelTimes(router)
    engine = DispatchEngine(travel, network)
    engine.set_vehicle(VehicleSnapshot("v", node(0, 0), 0.0, 4, 0.9))
    offered(engine.offer(RideRequest("r", node(2, 0), node(2, 2), 0.0), 0.0))
    before = engine.plan("v")[0].eta_s
    assert before == pytest.approx(2 * EDGE_S)
    router.set_traffic(np.full(network.n_edges, 2.0))  # everything twice as slow
    travel.invalidate()
    engine.travel_times_changed()
    assert engine.plan("v")[0].eta_s == pytest.approx(4 * EDGE_S)
    assert travel.time(node(0, 0), node(0, 3)) == pytest.approx(6 * EDGE_S)
