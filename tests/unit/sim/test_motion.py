"""Driving one leg: speed limits, comfortable acceleration, exact stop, tick-size independence."""

from __future__ import annotations

import pytest

from headway.sim.motion import Leg, Path

ACCEL, DECEL = 1.0, 1.2


def three_edges() -> Path:
    return Path.build((0, 1, 2, 3), (10, 11, 12), (300.0, 120.0, 400.0), (12.0, 5.0, 13.9))


def test_path_offsets_add_up() -> None:
    path = three_edges()
    assert path.starts == (0.0, 300.0, 420.0)
    assert path.length == pytest.approx(820.0)


def test_speed_respects_limits_and_comfort_and_stops_at_the_end() -> None:
    leg = Leg(three_edges(), ACCEL, DECEL)
    dt, elapsed = 0.05, 0.0
    previous_s, previous_v = 0.0, 0.0
    while not leg.done:
        leg.drive(dt)
        elapsed += dt
        limit = leg.path.limits[leg.k]
        assert leg.v <= limit + 1e-6 or leg.done
        assert leg.s >= previous_s
        assert leg.v - previous_v <= ACCEL * dt + 1e-6
        assert previous_v - leg.v <= DECEL * dt + 1e-6 or leg.v == limit
        previous_s, previous_v = leg.s, leg.v
        assert elapsed < 600.0
    assert leg.s == pytest.approx(820.0)
    assert leg.v == 0.0
    assert leg.last_node == 3
    # Slower than cruising all the way at the limits, but not by much more than the ramps.
    free_flow = 300 / 12 + 120 / 5 + 400 / 13.9
    assert free_flow < elapsed < free_flow + 30.0


def test_one_long_tick_and_many_short_ones_arrive_at_the_same_time() -> None:
    coarse = Leg(three_edges(), ACCEL, DECEL)
    used, distance = coarse.drive(10_000.0)
    assert coarse.done
    assert distance == pytest.approx(820.0)

    fine = Leg(three_edges(), ACCEL, DECEL)
    total = 0.0
    while not fine.done:
        total += fine.drive(0.2)[0]
    assert total == pytest.approx(used, abs=1e-6)


def test_distance_reported_matches_progress() -> None:
    leg = Leg(three_edges(), ACCEL, DECEL)
    travelled = sum(leg.drive(1.7)[1] for _ in range(20))
    assert travelled == pytest.approx(leg.s)


def test_halt_stops_at_once_and_the_vehicle_sets_off_again() -> None:
    leg = Leg(three_edges(), ACCEL, DECEL)
    leg.drive(20.0)
    where = leg.s
    leg.halt()
    assert leg.v == 0.0
    assert leg.offset_on_edge == pytest.approx(where - leg.path.starts[leg.k])
    leg.drive(1.0)
    assert 0.0 < leg.v <= ACCEL * 1.0 + 1e-9
    assert leg.s == pytest.approx(where + 0.5 * ACCEL)
