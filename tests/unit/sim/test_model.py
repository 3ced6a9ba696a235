"""The fleet's behaviour in simulated time, without MQTT: roads, battery, charging, faults."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from headway.network.city import CityParams, generate_city
from headway.network.graph import RoadNetwork
from headway.network.routing import DijkstraRouter
from headway.sim.config import FaultRates, SimConfig, VehicleSpec
from headway.sim.model import FleetModel
from headway.sim.vehicle import Activity

QUIET = SimConfig(vehicles=12, seed=3, faults=False)


def run(model: FleetModel, seconds: float, dt: float) -> None:
    for _ in range(int(seconds / dt)):
        model.advance(dt)


def test_targets_depend_on_the_seed_not_on_the_tick_lengths(
    city: RoadNetwork, router: DijkstraRouter
) -> None:
    steady = FleetModel(city, router, QUIET)
    run(steady, 3600, 1.0)
    jittery = FleetModel(city, router, QUIET)
    ticks = random.Random(99)
    elapsed = 0.0
    while elapsed < 3600:
        dt = ticks.uniform(0.05, 30.0)
        jittery.advance(dt)
        elapsed += dt
    for a, b in zip(steady.vehicles, jittery.vehicles, strict=True):
        common = min(len(a.targets), len(b.targets))
        assert 5 <= common < 64
        assert list(a.targets)[: common - 1] == list(b.targets)[: common - 1]

    other = FleetModel(city, router, replace(QUIET, seed=4))
    run(other, 3600, 1.0)
    assert [list(v.targets)[:5] for v in other.vehicles] != [
        list(v.targets)[:5] for v in steady.vehicles
    ]


def test_vehicles_stay_on_the_roads(city: RoadNetwork, router: DijkstraRouter) -> None:
    model = FleetModel(city, router, QUIET)
    moving = 0
    for _ in range(600):
        model.advance(2.0)
        for vehicle in model.vehicles:
            x, y, _theta = model.pose(vehicle)
            assert city.snap(x, y).distance_m < 0.5
            moving += vehicle.driving
    assert moving > 1000


def test_battery_follows_distance_and_charging(city: RoadNetwork, router: DijkstraRouter) -> None:
    spec = VehicleSpec(initial_charge_pct=(26.0, 32.0))
    model = FleetModel(city, router, replace(QUIET, vehicle=spec))
    per_metre = spec.consumption_kwh_per_km / 1000.0
    seen_charging = 0
    for _ in range(1500):
        before = [(v.battery_kwh, v.odometer_m, v.charging) for v in model.vehicles]
        model.advance(5.0)
        for (kwh, odometer, was_charging), vehicle in zip(before, model.vehicles, strict=True):
            assert 0.0 <= vehicle.battery_pct <= 100.0
            driven = vehicle.odometer_m - odometer
            if was_charging and vehicle.charging:
                seen_charging += 1
                assert driven == 0.0
                assert vehicle.battery_kwh > kwh
            elif not was_charging and not vehicle.charging:
                assert vehicle.battery_kwh == pytest.approx(kwh - driven * per_metre, abs=1e-9)
    assert seen_charging > 0
    charged = [v for v in model.vehicles if v.battery_pct >= spec.charge_target_pct - 1.0]
    assert charged, "no vehicle charged back to its target"
    assert {c.id for c in city.chargers} & {t for v in model.vehicles for t in v.targets}


def test_battery_never_goes_below_zero(city: RoadNetwork, router: DijkstraRouter) -> None:
    spec = VehicleSpec(initial_charge_pct=(0.5, 1.0), low_battery_pct=0.0)
    model = FleetModel(city, router, replace(QUIET, vehicle=spec))
    run(model, 3600, 10.0)
    assert all(v.battery_kwh == 0.0 for v in model.vehicles)
    assert all(v.faults.immobilised and not v.driving for v in model.vehicles)
    assert all("batteryDepleted" in v.faults.errors for v in model.vehicles)


def test_a_busy_charger_makes_the_next_vehicle_queue(city: RoadNetwork) -> None:
    spec = VehicleSpec(initial_charge_pct=(20.0, 20.0))
    model = FleetModel(city, DijkstraRouter(city), replace(QUIET, vehicles=6, vehicle=spec))
    queued = 0
    for _ in range(720):
        model.advance(5.0)
        queued += sum(v.activity is Activity.QUEUED for v in model.vehicles)
        plugged = [v for v in model.vehicles if v.charging]
        for charger in range(len(city.chargers)):
            assert sum(v.charger == charger for v in plugged) <= city.chargers[charger].plugs
    assert queued > 0


def test_passengers_sit_on_distinct_seats(city: RoadNetwork, router: DijkstraRouter) -> None:
    model = FleetModel(city, router, QUIET)
    riders = 0
    for _ in range(400):
        model.advance(5.0)
        for vehicle in model.vehicles:
            assert len(vehicle.seats) <= vehicle.capacity
            assert set(vehicle.seats) <= set(range(1, vehicle.capacity + 1))
            riders += len(vehicle.seats)
    assert riders > 0


def test_estop_and_drive_fault_hold_the_vehicle_then_release_it(
    city: RoadNetwork, router: DijkstraRouter
) -> None:
    model = FleetModel(city, router, QUIET)
    vehicle = model.vehicles[0]
    while not vehicle.driving:
        model.advance(1.0)
    for kind in ("estop", "drive_fault"):
        model.start_fault(vehicle, kind, 60.0)
        assert vehicle.urgent
        where = model.pose(vehicle)
        for _ in range(50):
            model.advance(1.0)
            assert not vehicle.driving
            assert model.pose(vehicle) == where
        run(model, 30.0, 1.0)
        assert not vehicle.faults.immobilised
        while not vehicle.driving:
            model.advance(1.0)


def test_a_sensor_warning_does_not_stop_the_vehicle(
    city: RoadNetwork, router: DijkstraRouter
) -> None:
    model = FleetModel(city, router, QUIET)
    vehicle = model.vehicles[0]
    model.start_fault(vehicle, "sensor_warning", 600.0)
    run(model, 300.0, 1.0)
    assert vehicle.odometer_m > 500.0
    assert [e.error_level for e in vehicle.faults.error_list()] == ["WARNING"]
    model.start_fault(vehicle, "clear", 0.0)
    assert vehicle.faults.error_list() == []


def test_random_faults_follow_their_rates(city: RoadNetwork, router: DijkstraRouter) -> None:
    often = FaultRates(estop_per_hour=2.0, sensor_warning_per_hour=2.0, drive_fault_per_hour=1.0)
    model = FleetModel(city, router, replace(QUIET, vehicles=20, faults=True, fault_rates=often))
    run(model, 3600.0, 5.0)
    started = model.faults_started
    assert 20 < started["estop"] < 70
    assert 20 < started["sensor_warning"] < 70
    assert 5 < started["drive_fault"] < 40

    quiet = FleetModel(city, router, replace(QUIET, vehicles=20))
    run(quiet, 3600.0, 5.0)
    assert not quiet.faults_started


def test_on_the_generated_city_vehicles_drive_its_roads_and_reach_its_stops() -> None:
    city = generate_city(CityParams(seed=7))
    model = FleetModel(city, DijkstraRouter(city), replace(QUIET, vehicles=40))
    stop_ids = {stop.id for stop in city.stops}
    for _ in range(180):
        model.advance(10.0)
        for vehicle in model.vehicles:
            x, y, _ = model.pose(vehicle)
            assert city.snap(x, y).distance_m < 0.5
    targets = [t for v in model.vehicles for t in v.targets]
    assert len(targets) > 40
    assert set(targets) <= stop_ids | {c.id for c in city.chargers}
    assert sum(v.odometer_m for v in model.vehicles) > 40 * 5_000
