"""A synthetic day of ride requests with a morning and an evening peak.

When: requests arrive as a Poisson process whose rate follows the time of day: a base
level from 06:00 to 23:00 (a quarter of the morning peak, lower before 06:00), a morning
peak centred on 08:00 (standard deviation 1 h), a smaller midday bump at 12:30 (1.5 h)
and an evening peak at 17:30 (1.5 h). ``daily_requests`` is the expected count over the
whole day; a window of hours gets its share of it.

Where: every origin and destination is a stop of the network (riders walk to a stop, as
with virtual stops). Stops have a "centre" weight, exp(-d / 1.5 km) for a stop d from
the town centre, and a "home" weight, uniform over the stops. In the morning peak most
trips go home -> centre, in the evening peak centre -> home; the rest mix both weights
at either end. Origin and destination are at least 800 m apart.

Who: 1 seat (85 %), 2 (12 %) or 3 (3 %); 90 % want a pickup now, 10 % book 20-40 min
ahead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from headway.network.graph import RoadNetwork
from headway.optimizer.dispatch.model import RideRequest

HOUR = 3600.0


@dataclass(frozen=True, slots=True)
class TimedRequest:
    """A request and when it is made (``request.earliest_pickup_s`` may be later)."""

    at_s: float
    request: RideRequest


def intensity(t_s: float) -> float:
    """Relative request rate at time of day t_s (seconds after midnight)."""
    h = (t_s / HOUR) % 24.0

    def bump(centre: float, width: float) -> float:
        return math.exp(-0.5 * ((h - centre) / width) ** 2)

    base = 0.25 if 6.0 <= h < 23.0 else 0.05
    return base + bump(8.0, 1.0) + 0.35 * bump(12.5, 1.5) + 0.8 * bump(17.5, 1.5)


def day_share(start_s: float, end_s: float) -> float:
    """The share of a whole day's requests made between start_s and end_s."""
    grid = np.arange(0.0, 24 * HOUR, 60.0)
    rate = np.array([intensity(t) for t in grid])
    inside = (grid >= start_s) & (grid < end_s)
    return float(rate[inside].sum() / rate.sum())


def generate_requests(
    network: RoadNetwork,
    daily_requests: float,
    start_s: float = 0.0,
    end_s: float = 24 * HOUR,
    seed: int = 0,
) -> list[TimedRequest]:
    """The requests made between start_s and end_s, in time order (same seed, same list)."""
    rng = np.random.default_rng(seed)
    nodes = np.array(sorted({s.node for s in network.stops}), dtype=np.int64)
    xy = network.node_xy[nodes]
    centre = network.node_xy.mean(axis=0)
    dist = np.hypot(*(xy - centre).T)
    w_centre = np.exp(-dist / 1500.0)
    w_centre /= w_centre.sum()
    w_home = np.full(len(nodes), 1.0 / len(nodes))
    w_mixed = 0.5 * w_centre + 0.5 * w_home
    peak = intensity(8.0 * HOUR)
    out: list[TimedRequest] = []
    rate_max = daily_requests / (24 * HOUR) * peak / _mean_intensity()
    t = start_s
    n = 0
    while True:
        t += rng.exponential(1.0 / rate_max)
        if t >= end_s:
            break
        if rng.random() * peak > intensity(t):
            continue  # thinning: keep with probability intensity / peak
        h = (t / HOUR) % 24.0
        commute = rng.random() < 0.7
        if commute and 6.5 <= h < 10.0:
            w_from, w_to = w_home, w_centre
        elif commute and 15.5 <= h < 19.5:
            w_from, w_to = w_centre, w_home
        else:
            w_from, w_to = w_mixed, w_mixed
        origin = destination = 0
        for _ in range(20):
            a = int(rng.choice(len(nodes), p=w_from))
            b = int(rng.choice(len(nodes), p=w_to))
            if math.dist(xy[a], xy[b]) >= 800.0:
                origin, destination = int(nodes[a]), int(nodes[b])
                break
        if origin == destination:
            continue
        seats = int(rng.choice([1, 2, 3], p=[0.85, 0.12, 0.03]))
        earliest = t if rng.random() < 0.9 else t + rng.uniform(1200.0, 2400.0)
        out.append(TimedRequest(t, RideRequest(f"r{n}", origin, destination, earliest, seats)))
        n += 1
    return out


def _mean_intensity() -> float:
    grid = np.arange(0.0, 24 * HOUR, 60.0)
    return float(np.mean([intensity(t) for t in grid]))
