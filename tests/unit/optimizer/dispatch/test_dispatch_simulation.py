"""A simulated morning on the grid: vehicles follow their plans on perturbed travel
times; the battery never goes below the reserve and the charger never over its plugs."""

from __future__ import annotations

import numpy as np
import pytest

from headway.network.cch_router import CCHRouter
from headway.optimizer.dispatch import (
    DispatchConfig,
    DispatchEngine,
    RouterTravelTimes,
    VehicleSnapshot,
)
from headway.optimizer.dispatch.scenario import HOUR, generate_requests
from headway.optimizer.dispatch.simulation import Simulation

from .conftest import N, grid

CONFIG = DispatchConfig(battery_kwh=8.0, charge_below_soc=0.4, reserve_soc=0.15)


def run(config: DispatchConfig, seed: int, noise: float = 0.15) -> tuple[Simulation, int]:
    network = grid(chargers=((0, 1), (N * N - 1, 1)))
    router = CCHRouter(network)
    engine = DispatchEngine(RouterTravelTimes(router), network, config)
    rng = np.random.default_rng(seed)
    fleet = [
        VehicleSnapshot(
            f"v{k}", int(rng.integers(N * N)), 7 * HOUR, 4, float(rng.uniform(0.3, 0.6))
        )
        for k in range(8)
    ]
    requests = generate_requests(network, 800, 7 * HOUR, 9 * HOUR, seed=seed)
    sim = Simulation(engine, router, fleet, noise=noise, seed=seed, reoptimise_budget_s=0.01)
    sim.run(requests, until_s=11 * HOUR)
    return sim, len(requests)


@pytest.mark.slow
def test_battery_and_chargers_hold_through_a_simulated_morning() -> None:
    for seed in (1, 2):
        sim, n = run(CONFIG, seed)
        out = sim.out
        assert out.requests == n > 50
        assert out.offered > 0.3 * n
        assert out.completed == out.offered, "every accepted ride ends at its destination"
        assert out.charge_sessions > 0, "the batteries are small: vehicles must charge"
        assert out.min_soc >= CONFIG.reserve_soc
        assert out.charger_over == 0
        assert all(peak <= 1 for peak in out.charger_peak.values())


@pytest.mark.slow
def test_the_baseline_runs_on_the_same_simulation() -> None:
    config = DispatchConfig(battery_kwh=8.0, charge_below_soc=0.4, pooling=False, rebalance=False)
    sim, _ = run(config, 3)
    assert sim.out.completed == sim.out.offered > 0
    assert sim.out.min_soc >= config.reserve_soc
    assert sim.out.charger_over == 0


@pytest.mark.slow
def test_on_exact_travel_times_every_promise_is_kept() -> None:
    """Lateness in the runs above comes from the perturbed travel times; on the
    router's own times the plans are what happens, and every promise holds."""
    sim, _ = run(DispatchConfig(battery_kwh=8.0, charge_below_soc=0.4), 4, noise=0.0)
    out = sim.out
    assert out.completed == out.offered > 50
    assert out.on_time == out.completed, "every pickup inside its promised window"
    assert out.late_dropoffs == 0, "every ride inside its limit"
