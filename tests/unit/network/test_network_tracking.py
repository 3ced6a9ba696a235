"""The live matcher's position filter: better than the fixes, honest about jumps."""

from __future__ import annotations

import math

import numpy as np

from headway.network.tracking import Tracker, TrackParams


def _straight(n: int, speed: float, seed: int) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[type-arg]
    t = np.arange(n, dtype=np.float64)
    truth = np.column_stack([speed * t, np.zeros(n)])
    noisy = truth + np.random.default_rng(seed).normal(0.0, 15.0, size=truth.shape)
    return truth, noisy


def _error(track: Tracker, noisy: np.ndarray, truth: np.ndarray, velocity: bool) -> float:  # type: ignore[type-arg]
    out = np.array(
        [
            track.update(x, y, float(i), (10.0, 0.0) if velocity else None)
            for i, (x, y) in enumerate(noisy.tolist())
        ]
    )
    return float(np.sqrt(np.mean(np.sum((out[20:] - truth[20:]) ** 2, axis=1))))


def test_filtered_positions_beat_the_fixes_and_a_reported_velocity_helps_more() -> None:
    truth, noisy = _straight(300, 10.0, seed=1)
    raw = float(np.sqrt(np.mean(np.sum((noisy[20:] - truth[20:]) ** 2, axis=1))))
    alone = _error(Tracker(), noisy, truth, velocity=False)
    helped = _error(Tracker(), noisy, truth, velocity=True)
    assert alone < 0.7 * raw
    assert helped < 0.7 * alone


def test_a_jump_a_gap_or_no_time_restart_at_the_fix() -> None:
    track = Tracker(TrackParams(reset_after_s=60.0))
    for i in range(10):
        track.update(10.0 * i, 0.0, float(i))
    assert track.update(5_000.0, 0.0, 10.0) == (5_000.0, 0.0)  # 5 km in a second
    x, _ = track.update(5_010.0, 0.0, 11.0)
    assert math.isclose(x, 5_010.0, abs_tol=10.0)
    assert track.update(0.0, 0.0, 500.0) == (0.0, 0.0)  # after a long silence
    assert track.update(90.0, 0.0, 400.0) == (90.0, 0.0)  # late: passed through, not used
    x, _ = track.update(0.0, 0.0, 501.0)
    assert abs(x) < 1.0  # the late fix did not pull the filter
    assert track.update(3.0, 4.0, None) == (3.0, 4.0)
