"""Charging: vehicles low on energy get a charge stop on a free plug; a charger never
holds more vehicles than it has plugs."""

from __future__ import annotations

import itertools

from headway.optimizer.dispatch import (
    DispatchConfig,
    Offer,
    RideRequest,
    StopKind,
    VehicleSnapshot,
)
from headway.optimizer.dispatch.charging import ChargerBook

from .conftest import EngineFactory, node

LOW = DispatchConfig(battery_kwh=20.0, charge_below_soc=0.5, rebalance=False)


def overlaps(book: ChargerBook, charger: int) -> int:
    slots = book.slots(charger)
    return max((book.peak(charger, s.start_s, s.end_s) for s in slots), default=0)


def test_low_vehicles_queue_for_a_single_plug(make_engine: EngineFactory) -> None:
    engine = make_engine(LOW, chargers=((node(0, 0), 1),))
    for k in range(3):
        engine.set_vehicle(VehicleSnapshot(f"v{k}", node(k + 1, 0), 0.0, 4, 0.3))
    engine.set_vehicle(VehicleSnapshot("full", node(5, 5), 0.0, 4, 0.9))
    changed = engine.reoptimise(0.0, budget_s=0.1)
    assert changed == frozenset({"v0", "v1", "v2"})
    windows = []
    for k in range(3):
        (stop,) = engine.plan(f"v{k}")
        assert stop.kind == StopKind.CHARGE
        assert stop.node == node(0, 0)
        assert stop.window[0] >= stop.eta_s - 1e-6, "no charging before arriving"
        windows.append(stop.window)
    windows.sort()
    for (_, end), (start, _) in itertools.pairwise(windows):
        assert start >= end - 1e-6, "one plug: one vehicle at a time"
    assert overlaps(engine.chargers, 0) == 1
    assert engine.plan("full") == ()


def test_a_vehicle_bound_to_charge_finishes_its_rides_and_takes_no_new_ones(
    make_engine: EngineFactory,
) -> None:
    engine = make_engine(LOW, chargers=((node(0, 0), 2),))
    engine.set_vehicle(VehicleSnapshot("v", node(2, 0), 0.0, 4, 0.51))
    offer = engine.offer(RideRequest("a", node(3, 0), node(5, 0), 0.0), 0.0)
    assert isinstance(offer, Offer)
    engine.accept("a", 0.0)
    engine.reoptimise(1.0, budget_s=0.1)
    kinds = [s.kind for s in engine.plan("v")]
    assert kinds == [StopKind.PICK, StopKind.DROP, StopKind.CHARGE]
    late = engine.offer(RideRequest("b", node(2, 0), node(3, 0), 2.0), 2.0)
    assert not isinstance(late, Offer)


def test_a_late_arrival_rebooks_and_charging_frees_the_plug(make_engine: EngineFactory) -> None:
    engine = make_engine(LOW, chargers=((node(0, 0), 1),))
    engine.set_vehicle(VehicleSnapshot("a", node(1, 0), 0.0, 4, 0.3))
    engine.set_vehicle(VehicleSnapshot("b", node(0, 1), 0.0, 4, 0.3))
    engine.reoptimise(0.0, budget_s=0.1)
    first, second = sorted(("a", "b"), key=lambda v: engine.plan(v)[0].window[0])
    slot = engine.plan(first)[0].window
    # the first vehicle is held up and reaches the charger after the second's slot began
    late = engine.plan(second)[0].window[0] + 10.0
    engine.arrived(second, node(0, 0), engine.plan(second)[0].window[0])
    engine.arrived(first, node(0, 0), late)
    assert engine.plan(first)[0].window[0] >= late
    assert engine.plan(first)[0].window[0] >= engine.plan(second)[0].window[1] - 1e-6
    assert overlaps(engine.chargers, 0) == 1
    assert slot != engine.plan(first)[0].window
    done = engine.plan(second)[0].window[1]
    engine.charged(second, 0.8, done)
    assert engine.plan(second) == ()
    offer = engine.offer(RideRequest("r", node(1, 1), node(2, 2), done), done)
    assert isinstance(offer, Offer)
    assert offer.vehicle_id == second, "a charged vehicle takes rides again"
