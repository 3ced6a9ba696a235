"""Scenario: the fixed-route service itself keeps a bunching loop line even. Vehicles
report positions; the service follows them, predicts, and sends holds they obey
(``service_line_sim.py``). Same seeds with and without the holds."""

from __future__ import annotations

import pytest

from tests.unit.transit.service_line_sim import LoopParams, run_loop

PARAMS = LoopParams(hours=2.0)


@pytest.mark.parametrize("seed", [0, 1])
async def test_the_service_holds_lower_the_headway_variation(seed: int) -> None:
    free = await run_loop(PARAMS, seed, control=False)
    held = await run_loop(PARAMS, seed, control=True)
    assert free.holds == 0
    assert free.cv() > 0.5  # the line bunches on its own
    assert held.holds > 0
    assert held.cv() < 0.5 * free.cv()
    assert held.cv() < 0.3
