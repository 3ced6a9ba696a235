"""A vehicle's position filtered in time, for live map matching.

A fix on its own is 15 m off; a vehicle a second later is where its speed took it. A
constant-velocity Kalman filter (white acceleration noise, per axis) blends the two, so
the position a live matcher places on the road is several metres better than the fix,
from that fix and the ones before it only. A reported speed and heading, when the
vehicle gives them, measure the velocity. Both axes share one covariance (same model,
same noise), so an update is a handful of float operations. Large jumps and long gaps
start the filter afresh at the fix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TrackParams:
    accel_noise: float = 4.0
    """Spectral density of the white acceleration (m^2/s^3): how fast speed may change."""
    fix_sigma_m: float = 15.0
    velocity_sigma_mps: float = 1.0
    """Noise of a reported velocity (speed along the heading)."""
    reset_after_s: float = 120.0
    jump_m: float = 100.0
    """A fix this much farther from the prediction than the filter expects starts it
    afresh (beyond three standard deviations of the innovation, as well)."""


class Tracker:
    """One vehicle's filtered position; not thread-safe (one writer per vehicle)."""

    __slots__ = ("_a", "_b", "_c", "_params", "_t", "_vx", "_vy", "_x", "_y")

    def __init__(self, params: TrackParams | None = None) -> None:
        self._params = params or TrackParams()
        self._t: float | None = None
        self._x = self._y = self._vx = self._vy = 0.0
        self._a = self._b = self._c = 0.0

    def reset(self) -> None:
        self._t = None

    def update(
        self,
        x: float,
        y: float,
        ts: float | None,
        velocity: tuple[float, float] | None = None,
    ) -> tuple[float, float]:
        """The filtered position at ts given this fix (the fix itself when there is no
        time to filter on, or the filter starts afresh)."""
        p = self._params
        r = p.fix_sigma_m * p.fix_sigma_m
        if ts is None:
            self._t = None
            return x, y
        t = self._t
        if t is not None and ts < t:
            return x, y  # late: leave the filter where it is
        if t is None or ts - t > p.reset_after_s:
            self._start(x, y, ts, velocity)
            return x, y
        dt = ts - t
        q = p.accel_noise
        px, py = self._x + self._vx * dt, self._y + self._vy * dt
        a = self._a + 2 * dt * self._b + dt * dt * self._c + q * dt**3 / 3
        b = self._b + dt * self._c + q * dt * dt / 2
        c = self._c + q * dt
        ix, iy = x - px, y - py
        s = a + r
        if math.hypot(ix, iy) > max(p.jump_m, 3.0 * math.sqrt(2.0 * s)):
            self._start(x, y, ts, velocity)
            return x, y
        k0, k1 = a / s, b / s
        self._x, self._y = px + k0 * ix, py + k0 * iy
        self._vx, self._vy = self._vx + k1 * ix, self._vy + k1 * iy
        a, b, c = a - k0 * a, b - k0 * b, c - k1 * b
        if velocity is not None:
            rv = p.velocity_sigma_mps * p.velocity_sigma_mps
            s = c + rv
            k0, k1 = b / s, c / s
            jx, jy = velocity[0] - self._vx, velocity[1] - self._vy
            self._x, self._y = self._x + k0 * jx, self._y + k0 * jy
            self._vx, self._vy = self._vx + k1 * jx, self._vy + k1 * jy
            a, b, c = a - k0 * b, b - k0 * c, c - k1 * c
        self._a, self._b, self._c, self._t = a, b, c, ts
        return self._x, self._y

    def _start(self, x: float, y: float, ts: float, velocity: tuple[float, float] | None) -> None:
        p = self._params
        self._x, self._y, self._t = x, y, ts
        self._a, self._b = p.fix_sigma_m * p.fix_sigma_m, 0.0
        if velocity is None:
            self._vx = self._vy = 0.0
            self._c = 400.0  # up to ~20 m/s, unknown
        else:
            self._vx, self._vy = velocity
            self._c = p.velocity_sigma_mps * p.velocity_sigma_mps
