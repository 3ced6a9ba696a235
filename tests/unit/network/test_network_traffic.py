from __future__ import annotations

import numpy as np
import pytest

from headway.network import RoadNetwork
from headway.network.errors import InvalidTrafficError
from headway.network.traffic import TrafficEstimator, TrafficParams


def test_slow_observations_raise_the_factor_and_fade(city: RoadNetwork) -> None:
    est = TrafficEstimator(city, TrafficParams(half_life_s=60.0))
    free = float(city.edge_speed_mps[5])
    assert est.observe([5], [free / 2.0], 100.0) == 1
    assert est.factors(100.0)[5] == pytest.approx(2.0)
    assert est.factors(160.0)[5] == pytest.approx(1.5)  # one half-life later
    assert est.factors(100.0)[6] == 1.0


def test_factors_are_bounded_and_standing_vehicles_ignored(city: RoadNetwork) -> None:
    est = TrafficEstimator(city, TrafficParams(max_factor=5.0, min_factor=0.8))
    used = est.observe([1, 2, 3, -1, city.n_edges], [0.6, 1000.0, 0.0, 5.0, 5.0], 0.0)
    assert used == 2
    f = est.factors(0.0)
    assert f[1] == 5.0
    assert f[2] == 0.8
    assert f[3] == 1.0
    assert f.shape == (city.n_edges,)


def test_repeated_observations_smooth(city: RoadNetwork) -> None:
    est = TrafficEstimator(city)
    free = float(city.edge_speed_mps[0])
    est.observe([0], [free / 3.0], 0.0)
    est.observe([0, 0, 0], [free, free, free], [1.0, 2.0, 3.0])
    assert 1.0 < est.factors(3.0)[0] < 3.0


def test_bad_parameters_and_shapes(city: RoadNetwork) -> None:
    with pytest.raises(InvalidTrafficError):
        TrafficEstimator(city, TrafficParams(min_factor=2.0))
    with pytest.raises(InvalidTrafficError):
        TrafficEstimator(city).observe([1, 2], [1.0], 0.0)
    assert np.all(TrafficEstimator(city).factors(0.0) == 1.0)
