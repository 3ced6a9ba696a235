"""A loop line where vehicles bunch, as a small discrete-event simulation.

Passengers arrive at every stop at random; a vehicle boards those who came since the
last departure from that stop, so a vehicle that falls behind finds more of them,
dwells longer and falls further behind, while the one behind it catches up: the
classic bunching instability. Running times between stops are noisy too. A controller
(a ``hold_for`` rule, or none) decides at each control stop how long a vehicle waits.

Run it to print the figures: ``.venv/bin/python -m tests.unit.transit.line_sim``.
"""

from __future__ import annotations

import heapq
import itertools
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from headway.optimizer.headway_control import (
    ControlPoint,
    Hold,
    HoldingRules,
    HoldReason,
    headway_cv,
    hold_for,
)

Controller = Callable[[ControlPoint], Hold]


@dataclass(frozen=True)
class LineParams:
    stops: int = 20
    vehicles: int = 6
    run_s: float = 90.0
    """Mean running time between two stops."""
    run_cv: float = 0.2
    arrivals_per_s: float = 0.01
    """Passengers arriving at each stop, per second."""
    board_s: float = 3.0
    dwell_s: float = 8.0
    """Doors open and close."""
    hours: float = 4.0
    warmup_s: float = 3600.0
    control_every: int = 2
    """Every n-th stop is a control stop."""

    @property
    def mean_dwell_s(self) -> float:
        return self.dwell_s + self.board_s * self.arrivals_per_s * self.target_headway_s

    @property
    def target_headway_s(self) -> float:
        # cycle = stops * (run + dwell + board * rate * cycle / vehicles)
        k = self.stops * self.board_s * self.arrivals_per_s / self.vehicles
        return self.stops * (self.run_s + self.dwell_s) / (1.0 - k) / self.vehicles


@dataclass
class _Vehicle:
    id: str
    stop: int
    """The stop it is at, or heading to."""
    at_stop: bool
    since: float
    """When it left its last stop (running) or reached this one (at a stop)."""
    laps: int = 0


@dataclass
class LineResult:
    departures: dict[int, list[float]] = field(default_factory=dict)
    holds: int = 0
    held_s: float = 0.0

    def cv(self) -> float:
        """Headway CV at each stop, averaged over the stops."""
        return statistics.fmean(headway_cv(times) for times in self.departures.values())

    def mean_headway_s(self) -> float:
        gaps = [b - a for times in self.departures.values() for a, b in itertools.pairwise(times)]
        return statistics.fmean(gaps)


def no_control(point: ControlPoint) -> Hold:
    return Hold(point.vehicle_id, point.stop_id, 0.0, point.now, HoldReason.NONE)


def simulate(params: LineParams, controller: Controller, seed: int) -> LineResult:
    rng = np.random.default_rng(seed)
    sigma = float(np.sqrt(np.log(1.0 + params.run_cv**2)))
    mu = float(np.log(params.run_s) - sigma**2 / 2.0)
    n_stops = params.stops
    spacing = n_stops / params.vehicles
    vehicles = [
        _Vehicle(f"v{i}", round(i * spacing) % n_stops, False, 0.0) for i in range(params.vehicles)
    ]
    last_departure: dict[int, float] = {s: -params.target_headway_s for s in range(n_stops)}
    result = LineResult({s: [] for s in range(n_stops)})
    end = params.warmup_s + params.hours * 3600.0
    events: list[tuple[float, int, int, str]] = []
    seq = 0

    def push(t: float, vehicle: int, kind: str) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(events, (t, seq, vehicle, kind))

    # Evenly spread at the start, then one vehicle starts 60 s late: a nudge that the
    # passengers' feedback grows into bunching.
    for index in range(params.vehicles):
        push(float(rng.lognormal(mu, sigma)) + (60.0 if index == 0 else 0.0), index, "arrive")

    def follower_of(index: int) -> int:
        # Vehicles keep their order on the loop: the one behind has the previous index.
        return (index - 1) % params.vehicles

    def predicted_arrival(index: int, stop: int, now: float) -> float:
        """When vehicle ``index`` should reach ``stop``, from mean running and dwell."""
        v = vehicles[index]
        hops = (stop - v.stop) % n_stops
        if v.at_stop:
            base = max(now, v.since + params.mean_dwell_s)
            return base + hops * params.run_s + max(0, hops - 1) * params.mean_dwell_s
        base = max(now, v.since + params.run_s)
        return base + hops * (params.run_s + params.mean_dwell_s)

    while events:
        t, _, index, kind = heapq.heappop(events)
        if t > end:
            break
        v = vehicles[index]
        if kind == "arrive":
            v.at_stop, v.since = True, t
            waiting = int(rng.poisson(params.arrivals_per_s * max(0.0, t - last_departure[v.stop])))
            ready = t + params.dwell_s + params.board_s * waiting
            hold_s = 0.0
            if v.stop % params.control_every == 0:
                follower = follower_of(index)
                point = ControlPoint(
                    vehicle_id=v.id,
                    stop_id=str(v.stop),
                    now=ready,
                    previous_departure=last_departure[v.stop],
                    follower_arrival=predicted_arrival(follower, v.stop, ready),
                    target_headway_s=params.target_headway_s,
                )
                hold_s = controller(point).hold_s
                if hold_s > 0:
                    result.holds += 1
                    result.held_s += hold_s
            push(ready + hold_s, index, "depart")
        else:
            last_departure[v.stop] = t
            if t >= params.warmup_s:
                result.departures[v.stop].append(t)
            v.at_stop, v.since = False, t
            v.stop = (v.stop + 1) % n_stops
            push(t + float(rng.lognormal(mu, sigma)), index, "arrive")
    return result


DEFAULT_RULES = HoldingRules()


def controlled(rules: HoldingRules = DEFAULT_RULES) -> Controller:
    return lambda point: hold_for(point, rules)


def main() -> None:
    params = LineParams()
    print(
        f"loop of {params.stops} stops, {params.vehicles} vehicles, target headway "
        f"{params.target_headway_s:.0f} s, {params.hours:g} h measured after "
        f"{params.warmup_s / 3600:g} h, control every {params.control_every} stops"
    )
    print(f"{'seed':>4} {'CV no control':>14} {'CV holding':>11} {'holds':>6} {'mean hold':>10}")
    for seed in range(10):
        free = simulate(params, no_control, seed)
        held = simulate(params, controlled(), seed)
        mean_hold = held.held_s / max(1, held.holds)
        print(f"{seed:>4} {free.cv():>14.3f} {held.cv():>11.3f} {held.holds:>6} {mean_hold:>9.0f}s")


if __name__ == "__main__":
    main()
