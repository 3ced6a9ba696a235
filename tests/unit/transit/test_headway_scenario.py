"""Scenario: on a loop line that bunches, holding by the even-headway rule keeps the
headways far more even than no control, on the same seeds (``line_sim.py``)."""

from __future__ import annotations

import pytest

from headway.optimizer.headway_control import ControlPoint, Hold, HoldReason
from tests.unit.transit.line_sim import LineParams, controlled, no_control, simulate

SEEDS = (0, 1, 2, 3)
PARAMS = LineParams()


@pytest.mark.parametrize("seed", SEEDS)
def test_holding_lowers_the_headway_variation(seed: int) -> None:
    free = simulate(PARAMS, no_control, seed)
    held = simulate(PARAMS, controlled(), seed)
    # Without control the line bunches (a CV of 1 means gaps as spread as they are long).
    assert free.cv() > 0.8
    assert free.holds == 0
    # With it, the gaps stay close to even, and less than half as spread.
    assert held.cv() < 0.5 * free.cv()
    assert held.cv() < 0.35
    assert held.holds > 0
    assert held.held_s / held.holds <= PARAMS.target_headway_s
    # Holding costs little running time: headways (and so the cycle) barely grow.
    assert held.mean_headway_s() < 1.15 * PARAMS.target_headway_s


def test_the_scenario_tells_a_wrong_controller_from_a_right_one() -> None:
    """Holding the vehicle with the long gap ahead (the rule's sign reversed) makes
    bunching worse; the scenario above would fail for it."""

    def reversed_rule(point: ControlPoint) -> Hold:
        if point.previous_departure is None or point.follower_arrival is None:
            return no_control(point)
        ahead = point.now - point.previous_departure
        behind = point.follower_arrival - point.now
        hold = min(120.0, max(0.0, (ahead - behind) / 2.0))
        return Hold(point.vehicle_id, point.stop_id, hold, point.now + hold, HoldReason.NONE)

    free = simulate(PARAMS, no_control, SEEDS[0])
    wrong = simulate(PARAMS, reversed_rule, SEEDS[0])
    assert not wrong.cv() < 0.5 * free.cv()
